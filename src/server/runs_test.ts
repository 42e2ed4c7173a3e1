import assert from "node:assert/strict";
import { join } from "node:path";
import { createAgent } from "../agent/create_agent.ts";
import type { FlueContext } from "../agent/workflow.ts";
import { defineTool } from "../tools/tool.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { z } from "zod";
import { readSse, startTestServer } from "./testdata/test_server.ts";

const helper = createAgent(() => ({
  model: "test",
  sandbox: "memory",
  tools: [
    defineTool({
      name: "lookup",
      description: "Looks a word up",
      input: z.object({ word: z.string() }),
      run: ({ word }) => `definition of ${word}`,
    }),
  ],
}));

const summarize = {
  async run(ctx: FlueContext<unknown>) {
    ctx.log.info("starting");
    const session = await (await ctx.init(helper)).session();
    const response = await session.prompt("Use lookup on a word");
    return { text: response.text, payload: ctx.payload };
  },
};

type Event = { type: string; eventIndex: number; runId: string };

Deno.test("POST /workflows/:name answers 202 { runId }; the run's events are readable by /events and /stream", async () => {
  const server = startTestServer({ workflows: { summarize } });
  try {
    const started = await server.request("/workflows/summarize", { method: "POST", json: { text: "hi" } });
    assert.equal(started.status, 202);
    const { runId } = await started.json();
    assert.match(runId, /^workflow:summarize:run_/);
    assert.equal(started.headers.get("x-flue-run-id"), runId);
    const path = `/runs/${encodeURIComponent(runId)}`;
    const frames = (await readSse(await server.request(`${path}/stream`))).filter((frame) => frame.event);
    const types = frames.map((frame) => frame.event);
    assert.equal(types[0], "run_start");
    assert.equal(types.at(-1), "run_end");
    for (const type of ["log", "operation_start", "tool_start", "tool_end", "operation"]) {
      assert.ok(types.includes(type), type);
    }
    assert.deepEqual(frames.map((frame) => frame.id), frames.map((_, index) => String(index)));
    const run = await (await server.request(path)).json();
    assert.equal(run.status, "done");
    assert.deepEqual(run.result.payload, { text: "hi" });

    const all = await (await server.request(`${path}/events`)).json();
    assert.equal(all.events.length, frames.length);
    assert.equal(all.hasMore, false);
    const page = await (await server.request(`${path}/events?after=1&limit=2`)).json();
    assert.deepEqual(page.events.map((event: Event) => event.eventIndex), [2, 3]);
    assert.equal(page.nextAfter, 3);
    assert.equal(page.hasMore, true);
    const tools = await (await server.request(`${path}/events?types=tool_start,tool_end`)).json();
    assert.deepEqual(tools.events.map((event: Event) => event.type), ["tool_start", "tool_end"]);
    for (const query of ["after=x", "limit=0", "limit=5000", "types=Bad!"]) {
      const response = await server.request(`${path}/events?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal((await response.json()).error.type, "invalid_query");
    }
  } finally {
    await server.close();
  }
});

Deno.test("GET /runs/:id/stream resumes after Last-Event-ID (or ?after=)", async () => {
  const server = startTestServer({ workflows: { summarize } });
  try {
    const { runId } = await (await server.request("/workflows/summarize?wait=result", { method: "POST" })).json();
    const path = `/runs/${encodeURIComponent(runId)}/stream`;
    const resumed = (await readSse(await server.request(path, { headers: { "last-event-id": "2" } })))
      .filter((frame) => frame.event);
    assert.equal(resumed[0].id, "3");
    assert.equal(resumed.at(-1)?.event, "run_end");
    const byQuery = (await readSse(await server.request(`${path}?after=3`))).filter((frame) => frame.event);
    assert.equal(byQuery[0].id, "4");
    const bad = await server.request(path, { headers: { "last-event-id": "abc" } });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("a live run streams as it happens, with heartbeats, and ends after run_end", async () => {
  const gate = Promise.withResolvers<void>();
  const waiting = {
    async run(ctx: FlueContext<unknown>) {
      ctx.log.info("waiting");
      await gate.promise;
      return "released";
    },
  };
  const server = startTestServer({ workflows: { waiting }, heartbeatMs: 20 });
  try {
    const { runId } = await (await server.request("/workflows/waiting", { method: "POST" })).json();
    const response = await server.request(`/runs/${encodeURIComponent(runId)}/stream`);
    let heartbeats = 0;
    const frames = await readSse(response, (frame) => {
      if (frame.comment === "heartbeat" && ++heartbeats === 2) gate.resolve();
      return false;
    });
    const events = frames.filter((frame) => frame.event);
    assert.deepEqual(events.map((frame) => frame.event), ["run_start", "log", "run_end"]);
    assert.equal((events[2].data as { result: string }).result, "released");
    assert.ok(heartbeats >= 2);
  } finally {
    await server.close();
  }
});

Deno.test("POST /workflows/:name with SSE streams the run; ?wait=result answers { result, runId }", async () => {
  const failing = { run: () => Promise.reject(new TypeError("payload.text is required")) };
  const server = startTestServer({ workflows: { summarize, failing } });
  try {
    const response = await server.request("/workflows/summarize", {
      method: "POST",
      headers: { accept: "text/event-stream" },
      json: { text: "x" },
    });
    const runId = response.headers.get("x-flue-run-id");
    const events = (await readSse(response)).filter((frame) => frame.event);
    assert.equal(events[0].event, "run_start");
    assert.equal(events.at(-1)?.event, "run_end");
    assert.equal((events[0].data as Event).runId, runId);

    const waited = await server.request("/workflows/summarize?wait=result&id=inst-1", { method: "POST", json: 7 });
    assert.equal(waited.status, 200);
    const body = await waited.json();
    assert.equal(body.result.payload, 7);
    assert.equal((await (await server.request(`/runs/${encodeURIComponent(body.runId)}`)).json()).instanceId, "inst-1");

    const failed = await server.request("/workflows/failing?wait=result", { method: "POST" });
    assert.equal(failed.status, 500);
    const { error } = await failed.json();
    assert.equal(error.type, "workflow_failed");
    assert.deepEqual(error.details.error, { name: "TypeError", message: "payload.text is required" });
    assert.equal(error.details.runId, failed.headers.get("x-flue-run-id"));
    const bad = await server.request("/workflows/summarize?wait=soon", { method: "POST" });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("POST /runs/:id/abort cancels a run of this server", async () => {
  const stuck = {
    run: (ctx: FlueContext<unknown>) =>
      new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
  };
  const server = startTestServer({ workflows: { stuck } });
  try {
    const { runId } = await (await server.request("/workflows/stuck", { method: "POST" })).json();
    const path = `/runs/${encodeURIComponent(runId)}`;
    assert.deepEqual(await (await server.request(`${path}/abort`, { method: "POST" })).json(), {
      aborted: true,
      runId,
    });
    const events = (await readSse(await server.request(`${path}/stream`))).filter((frame) => frame.event);
    assert.equal(events.at(-1)?.event, "run_end");
    assert.equal((await (await server.request(path)).json()).status, "aborted");
  } finally {
    await server.close();
  }
});

Deno.test("run events stay readable after a restart: a new app on the same sqlite file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "flue.db");
    let store = new SqliteStore({ path });
    let server = startTestServer({ workflows: { summarize }, store });
    const { runId } = await (await server.request("/workflows/summarize?wait=result", { method: "POST" })).json();
    const before = await (await server.request(`/runs/${encodeURIComponent(runId)}/events?limit=1000`)).json();
    await server.close();
    await store.close();

    store = new SqliteStore({ path });
    server = startTestServer({ store });
    try {
      const runPath = `/runs/${encodeURIComponent(runId)}`;
      assert.equal((await (await server.request(runPath)).json()).status, "done");
      const after = await (await server.request(`${runPath}/events?limit=1000`)).json();
      assert.deepEqual(after.events, before.events);
      assert.ok(after.events.some((event: Event) => event.type === "tool_end"));
      const streamed = (await readSse(await server.request(`${runPath}/stream`))).filter((frame) => frame.event);
      assert.equal(streamed.length, after.events.length);
    } finally {
      await server.close();
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GET /runs/:id/stream follows a run that another process is executing on the shared store", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "flue.db");
  const store = new SqliteStore({ path });
  const server = startTestServer({ store, pollMs: 20 });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("./testdata/other_process_run.ts", import.meta.url).pathname, path],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let output = "";
    while (!output.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("the child exited before announcing its run");
      output += value;
    }
    const runId = output.trim();
    const response = await server.request(`/runs/${encodeURIComponent(runId)}/stream`);
    const writer = child.stdin.getWriter();
    const frames = await readSse(response, (frame) => {
      if (frame.event === "log" && (frame.data as { message: string }).message === "waiting for go") {
        void writer.write(new TextEncoder().encode("go\n"));
      }
      return false;
    });
    const events = frames.filter((frame) => frame.event);
    assert.deepEqual(events.map((frame) => frame.event), ["run_start", "log", "log", "run_end"]);
    assert.deepEqual((events[3].data as { result: unknown }).result, { from: "other process" });
    await writer.close();
    await lines.cancel();
    assert.equal((await child.status).code, 0);
  } finally {
    try {
      child.kill();
    } catch {
      // already exited
    }
    await server.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("POST /workflows/:name answers 422 invalid_payload, before any run, when the payload breaks the schema", async () => {
  const typed = {
    payload: z.object({ text: z.string().min(1) }),
    run: (ctx: FlueContext<{ text: string }>) => ({ length: ctx.payload.text.length }),
  };
  const server = startTestServer({ workflows: { typed } });
  try {
    const refused = await server.request("/workflows/typed?wait=result", { method: "POST", json: { txt: "x" } });
    assert.equal(refused.status, 422);
    const { error } = await refused.json();
    assert.equal(error.type, "invalid_payload");
    assert.deepEqual(error.details.issues.map((issue: { path: string[] }) => issue.path), [["text"]]);
    const started = await server.request("/workflows/typed", { method: "POST", json: {} });
    assert.equal(started.status, 422);
    await started.body?.cancel();
    const ok = await server.request("/workflows/typed?wait=result", { method: "POST", json: { text: "four" } });
    assert.deepEqual((await ok.json()).result, { length: 4 });
  } finally {
    await server.close();
  }
});

Deno.test("POST /workflows/:name?wait=result answers the stored, redacted result", async () => {
  const leaky = { run: (ctx: FlueContext<unknown>) => ({ token: ctx.env.DEPLOY_TOKEN }) };
  const server = startTestServer({ workflows: { leaky }, env: { DEPLOY_TOKEN: "srv-secret-4be1f0" } });
  try {
    const body = await (await server.request("/workflows/leaky?wait=result", { method: "POST" })).text();
    assert.ok(!body.includes("srv-secret-4be1f0"), body);
    assert.match(body, /REDACTED/);
  } finally {
    await server.close();
  }
});
