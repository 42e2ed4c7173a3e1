import assert from "node:assert/strict";
import { join } from "node:path";
import { createAgent } from "../agent/create_agent.ts";
import type { FlueContext } from "../agent/workflow.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { createApp, type CreateAppOptions } from "../server/app.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import type { Store } from "../store/store.ts";
import { FlueClientError } from "./client_error.ts";
import { FlueClient } from "./flue_client.ts";

interface Running {
  client: FlueClient;
  url: string;
  close(): Promise<void>;
}

function start(options: Partial<CreateAppOptions> & { store?: Store }, token?: string): Running {
  const app = createApp({ store: options.store ?? new MemoryStore(), token, ...options });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    client: new FlueClient({ baseUrl: url, token }),
    url,
    async close() {
      await app.close({ graceMs: 1000 });
      await server.shutdown();
    },
  };
}

const echo = createAgent(() => ({
  model: new FunctionModel((request) => `echo: ${request.messages.at(-1)?.content}`),
  sandbox: "memory",
}));

Deno.test("FlueClient prompts, streams typed events with the result, and reads the session's history", async () => {
  const server = start({ agents: { echo } });
  try {
    const { client } = server;
    assert.equal(await client.health(), true);
    assert.equal(await client.ready(), true);
    assert.deepEqual((await client.manifest()).agents.map((agent) => agent.name), ["echo"]);
    const answer = await client.prompt("echo", "u1", "hello", { session: "chat" });
    assert.equal(answer.text, "echo: hello");

    const stream = client.stream("echo", "u1", "again", { session: "chat" });
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      assert.equal(event.agent, "echo");
    }
    assert.equal(types[0], "operation_start");
    assert.ok(types.includes("text_delta"));
    assert.equal(types.at(-1), "operation");
    assert.equal((await stream.result).text, "echo: again");

    const page = await client.history("echo", "u1", { session: "chat" });
    assert.deepEqual(page.entries.map((entry) => entry.message.content), [
      "hello",
      "echo: hello",
      "again",
      "echo: again",
    ]);
    const second = await client.history("echo", "u1", { session: "chat", after: 1, limit: 1 });
    assert.deepEqual(second.entries.map((entry) => entry.seq), [2]);
    assert.equal(second.hasMore, true);
  } finally {
    await server.close();
  }
});

Deno.test("FlueClient turns refusals into FlueClientError carrying the server's envelope", async () => {
  const server = start({ agents: { echo } }, "s3cret-token-for-tests");
  try {
    const anonymous = new FlueClient({ baseUrl: server.url });
    const refused = await anonymous.prompt("echo", "u1", "hi").catch((error) => error);
    assert.ok(refused instanceof FlueClientError);
    assert.equal(refused.status, 401);

    const missing = await server.client.prompt("nobody", "u1", "hi").catch((error) => error);
    assert.ok(missing instanceof FlueClientError);
    assert.equal(missing.status, 404);
    assert.match(missing.message, /No agent named "nobody": known agents are echo/);
    assert.equal(missing.envelope.error.type, missing.type);
  } finally {
    await server.close();
  }
});

Deno.test("FlueClient stream rejects its result with the failure the server sent in the stream", async () => {
  const failing = createAgent(() => ({
    model: new FunctionModel(() => {
      throw new Error("the model is down");
    }),
    sandbox: "memory",
  }));
  const server = start({ agents: { failing } });
  try {
    const stream = server.client.stream("failing", "u1", "hi");
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    assert.equal(types.at(-1), "error");
    const error = await stream.result.catch((error) => error);
    assert.ok(error instanceof FlueClientError);
  } finally {
    await server.close();
  }
});

Deno.test("FlueClient.abort cancels a running prompt on the server", async () => {
  const started = Promise.withResolvers<void>();
  const slow = createAgent(() => ({
    model: new FunctionModel((request) =>
      new Promise((_resolve, reject) => {
        started.resolve();
        request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true });
      })
    ),
    sandbox: "memory",
  }));
  const server = start({ agents: { slow } });
  try {
    const pending = server.client.prompt("slow", "u1", "wait").catch((error) => error);
    await started.promise;
    assert.equal(await server.client.abort("slow", "u1"), true);
    const error = await pending;
    assert.ok(error instanceof FlueClientError);
    assert.equal(error.type, "aborted");
    assert.equal(await server.client.abort("slow", "u1"), false);
  } finally {
    await server.close();
  }
});

Deno.test("FlueClient dispatches durably, honours the idempotency key and waits for the result", async () => {
  const server = start({ agents: { echo }, worker: { pollMs: 20 } });
  try {
    const receipt = await server.client.dispatch("echo", "u2", "queued", { idempotencyKey: "k-1" });
    assert.equal(receipt.created, true);
    const repeat = await server.client.dispatch("echo", "u2", "queued", { idempotencyKey: "k-1" });
    assert.equal(repeat.dispatchId, receipt.dispatchId);
    assert.equal(repeat.created, false);
    const done = await server.client.waitForDispatch(receipt.dispatchId, { pollMs: 20 });
    assert.equal(done.status, "done");
    assert.equal(done.attempts.length, 1);
    const listed = await server.client.listDispatches({ status: ["done"] });
    assert.deepEqual(listed.map((view) => view.dispatchId), [receipt.dispatchId]);
    const history = await server.client.history("echo", "u2");
    assert.deepEqual(history.entries.map((entry) => entry.message.content), ["queued", "echo: queued"]);
  } finally {
    await server.close();
  }
});

const summarize = {
  async run(ctx: FlueContext<{ text: string }>) {
    ctx.log.info("summarizing");
    const session = await (await ctx.init(echo)).session();
    const response = await session.prompt(ctx.payload.text);
    return { summary: response.text };
  },
};

Deno.test("FlueClient runs workflows, waits for them, and reads and follows their events", async () => {
  const dir = await Deno.makeTempDir();
  const store = new SqliteStore({ path: join(dir, "flue.db") });
  const server = start({ workflows: { summarize }, store });
  try {
    const { client } = server;
    const waited = await client.runWorkflow("summarize", { text: "one" });
    assert.deepEqual(waited.result, { summary: "echo: one" });

    const { runId } = await client.startWorkflow("summarize", { text: "two" }, { id: "job-2" });
    const followed = [];
    for await (const event of client.followRun(runId)) followed.push(event);
    assert.equal(followed[0].type, "run_start");
    assert.equal(followed.at(-1)?.type, "run_end");
    assert.deepEqual(followed.map((event) => event.eventIndex), followed.map((_, index) => index));
    const record = await client.waitForRun(runId);
    assert.equal(record.status, "done");
    assert.deepEqual(record.result, { summary: "echo: two" });

    const logs = await client.runEvents(runId, { types: ["log"] });
    assert.deepEqual(logs.events.map((event) => event.type), ["log"]);
    const resumed = [];
    for await (const event of client.followRun(runId, { after: followed.length - 3 })) resumed.push(event.eventIndex);
    assert.deepEqual(resumed, [followed.length - 2, followed.length - 1]);

    const missing = await client.getRun("workflow:none:run_x").catch((error) => error);
    assert.ok(missing instanceof FlueClientError);
    assert.equal(missing.status, 404);
  } finally {
    await server.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FlueClient.followRun reconnects after a dropped stream and resumes without repeats", async () => {
  const server = start({ workflows: { summarize } });
  try {
    const { runId } = await server.client.runWorkflow("summarize", { text: "three" });
    let cuts = 0;
    // A proxy that cuts the first two streams after their first event, as a server restart would.
    const cutting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith("/stream") || cuts >= 2) return response;
      cuts++;
      const reader = response.body!.getReader();
      let seen = "";
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          controller.enqueue(value);
          seen += new TextDecoder().decode(value);
          if (seen.includes("\nid:") || seen.includes("id: ")) {
            await reader.cancel();
            controller.close();
          }
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const client = new FlueClient({ baseUrl: server.url, fetch: cutting });
    const indexes = [];
    for await (const event of client.followRun(runId)) indexes.push(event.eventIndex);
    assert.equal(cuts, 2);
    assert.deepEqual(indexes, indexes.map((_, index) => index));
    assert.ok(indexes.length > 3);
  } finally {
    await server.close();
  }
});

Deno.test("FlueClient rejects a base URL that is not http or https", () => {
  assert.throws(() => new FlueClient({ baseUrl: "ftp://example.com" }), /use http: or https:/);
  assert.throws(() => new FlueClient({ baseUrl: "not a url" }), /Invalid baseUrl "not a url"/);
});
