// Secrets over the server: an agent's `env` value that a tool returns and the model then writes out whole (as a model
// that decoded a base64 copy would) must not reach an HTTP client by any route: the JSON result, SSE frames (where
// the text arrives in pieces), WebSocket frames, stored history, run events and records, dispatch records, or spans
// with recordContent. See docs/security.md.
import assert from "node:assert/strict";
import { z } from "zod";
import {
  createAgent,
  createApp,
  type CreateAppOptions,
  defineTool,
  type FlueApp,
  type FlueContext,
  MemoryStore,
} from "../mod.ts";
import { FunctionModel, type FunctionModelReply } from "../testing.ts";
import type { ModelRequest } from "../src/model/chat_model.ts";
import { spanRecorder } from "../src/telemetry/testdata/span_recorder.ts";

// Spaces make the streamed text arrive in several pieces, none holding the whole value.
const SECRET = "open sesame 4242 vault";
const env = { VAULT_KEY: SECRET };

const leak = defineTool({
  name: "leak",
  description: "Returns the vault key",
  input: z.object({}),
  run: () => `the key is ${SECRET}`,
});

/** Calls `leak`, then writes the secret out whole in its answer. */
function leakingModel(): FunctionModel {
  return new FunctionModel((request: ModelRequest): FunctionModelReply => {
    const last = request.messages.at(-1)!;
    if (last.role === "tool") return `I found it: ${SECRET}. Done.`;
    return { toolCalls: [{ name: "leak", args: {} }] };
  });
}

interface Server {
  app: FlueApp;
  url: string;
  port: number;
  close(): Promise<void>;
}

async function withServer(options: Partial<CreateAppOptions>, test: (server: Server) => Promise<void>): Promise<void> {
  const app = createApp({
    store: new MemoryStore(),
    agents: { keeper: { model: leakingModel(), sandbox: "memory", env, tools: [leak] } },
    ...options,
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  try {
    await test({ app, url: `http://127.0.0.1:${server.addr.port}`, port: server.addr.port, close: () => app.close() });
  } finally {
    await Promise.all([app.close({ graceMs: 500 }), server.shutdown()]);
  }
}

function assertNoSecret(text: string, where: string): void {
  assert.ok(!text.includes(SECRET), `the secret reached ${where}`);
  assert.ok(!text.includes("sesame 4242"), `most of the secret reached ${where}`);
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

Deno.test("secrets server: a secret the model writes is redacted from the JSON result and the history", async () => {
  await withServer({}, async (server) => {
    const response = await post(`${server.url}/agents/keeper/a`, { message: "find the key" });
    const text = await response.text();
    assert.equal(response.status, 200);
    assertNoSecret(text, "the JSON result");
    assert.match(text, /\[REDACTED:VAULT_KEY\]/);
    const history = await (await fetch(`${server.url}/agents/keeper/a/history`)).text();
    assertNoSecret(history, "GET /history");
  });
});

Deno.test("secrets server: SSE frames never carry the secret, even joined across text deltas", async () => {
  await withServer({}, async (server) => {
    const response = await post(`${server.url}/agents/keeper/a`, { message: "find the key" }, {
      accept: "text/event-stream",
    });
    const text = await response.text();
    assertNoSecret(text, "the SSE stream");
    const deltas = [...text.matchAll(/^data: (.*)$/gm)]
      .map((match) => JSON.parse(match[1]))
      .filter((event) => event.type === "text_delta")
      .map((event) => event.text)
      .join("");
    assert.equal(deltas, "I found it: [REDACTED:VAULT_KEY]. Done.");
  });
});

Deno.test("secrets server: WebSocket frames never carry the secret", async () => {
  await withServer({}, async (server) => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/agents/keeper/a`, ["flue.v1"]);
    const frames: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      socket.onmessage = (message) => {
        frames.push(message.data);
        const frame = JSON.parse(message.data);
        if (frame.type === "ready") socket.send(JSON.stringify({ type: "prompt", requestId: "1", message: "key?" }));
        if (frame.type === "result" || frame.type === "error") resolve();
      };
      socket.onerror = () => reject(new Error("socket failed"));
    });
    await done;
    const closed = new Promise((resolve) => (socket.onclose = resolve));
    socket.close();
    await closed;
    const all = frames.join("\n");
    assertNoSecret(all, "WebSocket frames");
    assert.match(all, /"type":"result"/);
  });
});

Deno.test("secrets server: a secret the client sends in its message is redacted from history and the model", async () => {
  const seen: string[] = [];
  const model = new FunctionModel((request) => {
    seen.push(JSON.stringify(request.messages));
    return "noted";
  });
  await withServer({ agents: { keeper: { model, sandbox: "memory", env } } }, async (server) => {
    await (await post(`${server.url}/agents/keeper/a`, { message: `remember ${SECRET}` })).body?.cancel();
    assertNoSecret(await (await fetch(`${server.url}/agents/keeper/a/history`)).text(), "GET /history");
    assertNoSecret(seen.join("\n"), "the model's request");
  });
});

Deno.test("secrets server: run events, the run record and the workflow result are redacted", async () => {
  const workflows = {
    find: {
      async run(ctx: FlueContext<unknown>) {
        const agent = await ctx.init(
          createAgent(() => ({ model: leakingModel(), sandbox: "memory", env, tools: [leak] })),
        );
        const session = await agent.session();
        const response = await session.prompt("find the key");
        ctx.log.info(`answer: ${response.text}`);
        return { answer: response.text };
      },
    },
  };
  await withServer({ workflows }, async (server) => {
    const response = await fetch(`${server.url}/workflows/find?wait=result`, { method: "POST" });
    const body = await response.text();
    assertNoSecret(body, "the workflow result");
    const { runId } = JSON.parse(body);
    const id = encodeURIComponent(runId);
    assertNoSecret(await (await fetch(`${server.url}/runs/${id}`)).text(), "GET /runs/:id");
    const events = await (await fetch(`${server.url}/runs/${id}/events?limit=1000`)).text();
    assertNoSecret(events, "GET /runs/:id/events");
    const stream = await fetch(`${server.url}/runs/${id}/stream`);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let streamed = "";
    while (!streamed.includes("run_end")) {
      const { value, done } = await reader.read();
      if (done) break;
      streamed += value;
    }
    await reader.cancel();
    assertNoSecret(streamed, "GET /runs/:id/stream");
  });
});

Deno.test("secrets server: dispatch records (result and error) are redacted", async () => {
  const failing = new FunctionModel(() => Promise.reject(new Error(`vault refused ${SECRET}`)));
  const agents = {
    keeper: { model: leakingModel(), sandbox: "memory" as const, env, tools: [leak] },
    broken: { model: failing, sandbox: "memory" as const, env },
  };
  await withServer({ agents, worker: { pollMs: 10, backoff: { initialMs: 1, maxMs: 5 } } }, async (server) => {
    const ids: string[] = [];
    for (const [agent, maxAttempts] of [["keeper", 1], ["broken", 1]] as const) {
      const response = await post(`${server.url}/agents/${agent}/a/dispatch`, { message: "find the key", maxAttempts });
      ids.push((await response.json()).dispatchId);
    }
    const records: string[] = [];
    for (const id of ids) {
      let record: { status: string } & Record<string, unknown> = { status: "accepted" };
      for (let i = 0; i < 400 && !["done", "dead", "failed"].includes(record.status); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        record = await (await fetch(`${server.url}/dispatches/${encodeURIComponent(id)}`)).json();
      }
      assert.ok(["done", "dead", "failed"].includes(record.status), JSON.stringify(record));
      records.push(JSON.stringify(record));
    }
    assert.match(records[0], /\[REDACTED:VAULT_KEY\]/);
    for (const record of records) assertNoSecret(record, "a dispatch record");
    assertNoSecret(await (await fetch(`${server.url}/dispatches?limit=100`)).text(), "GET /dispatches");
  });
});

Deno.test("secrets server: spans with recordContent carry no secret", async () => {
  const recorder = spanRecorder();
  const defaults = { telemetry: { tracer: recorder.tracer, recordContent: true } };
  await withServer({ defaults }, async (server) => {
    await (await post(`${server.url}/agents/keeper/a`, { message: `find the key, not ${SECRET}` })).body?.cancel();
  });
  const spans = recorder.spans();
  assert.ok(spans.length > 0, "no span was recorded");
  const recorded = JSON.stringify(
    spans.map((span) => ({ name: span.name, attributes: span.attributes, events: span.events })),
  );
  assertNoSecret(recorded, "span attributes");
  assert.match(recorded, /REDACTED:VAULT_KEY/, "content was recorded, redacted");
});
