import assert from "node:assert/strict";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { readSse, startTestServer } from "./testdata/test_server.ts";

const SSE = { accept: "text/event-stream" };

function gatedModel(): { model: FunctionModel; started: Promise<void>; release: () => void } {
  const started = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  const model = new FunctionModel(async () => {
    started.resolve();
    await gate.promise;
    return "finally done";
  });
  return { model, started: started.promise, release: () => gate.resolve() };
}

Deno.test("a prompt over SSE sends each event with its eventIndex as id, then a result frame", async () => {
  const server = startTestServer({ agents: { assistant: { model: "test", sandbox: "memory" } } });
  try {
    const response = await server.request("/agents/assistant/a", {
      method: "POST",
      headers: SSE,
      json: { message: "Hello there" },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/);
    const frames = (await readSse(response)).filter((frame) => frame.event);
    const events = frames.slice(0, -1);
    assert.equal(events[0].event, "operation_start");
    assert.ok(events.some((frame) => frame.event === "text_delta"));
    assert.equal(events.at(-1)?.event, "operation");
    for (const frame of events) {
      const event = frame.data as { type: string; eventIndex: number; session: string };
      assert.equal(frame.id, String(event.eventIndex));
      assert.equal(frame.event, event.type);
      assert.equal(event.session, "default");
    }
    const ids = events.map((frame) => Number(frame.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    const last = frames.at(-1)!;
    assert.equal(last.event, "result");
    assert.match((last.data as { result: { text: string } }).result.text, /Hello there/);
  } finally {
    await server.close();
  }
});

Deno.test("an SSE stream sends heartbeat comments while the prompt is quiet", async () => {
  const { model, started, release } = gatedModel();
  const server = startTestServer({ agents: { slow: { model, sandbox: "memory" } }, heartbeatMs: 20 });
  try {
    const response = await server.request("/agents/slow/a", { method: "POST", headers: SSE, json: { message: "Hi" } });
    let heartbeats = 0;
    const frames = await readSse(response, (frame) => {
      if (frame.comment === "heartbeat" && ++heartbeats === 2) started.then(release);
      return frame.event === "result";
    });
    assert.ok(heartbeats >= 2);
    assert.equal((frames.at(-1)?.data as { result: { text: string } }).result.text, "finally done");
  } finally {
    await server.close();
  }
});

Deno.test("a client that disconnects from SSE does not cancel the prompt: its answer is stored", async () => {
  const { model, started, release } = gatedModel();
  const server = startTestServer({ agents: { slow: { model, sandbox: "memory" } } });
  try {
    const response = await server.request("/agents/slow/a", { method: "POST", headers: SSE, json: { message: "Hi" } });
    await readSse(response, (frame) => frame.event === "operation_start");
    await started;
    release();
    let roles: string[] = [];
    for (let i = 0; i < 200 && roles.length < 2; i++) {
      const history = await (await server.request("/agents/slow/a/history")).json();
      roles = history.entries.map((entry: { message: { role: string } }) => entry.message.role);
      if (roles.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(roles, ["user", "assistant"]);
  } finally {
    await server.close();
  }
});

Deno.test("a prompt that fails over SSE ends with a failed frame holding the error envelope", async () => {
  const model = new FunctionModel(() => {
    throw new RangeError("the model exploded");
  });
  const server = startTestServer({ agents: { broken: { model, sandbox: "memory" } } });
  const originalError = console.error;
  console.error = () => {};
  try {
    const response = await server.request("/agents/broken/a", {
      method: "POST",
      headers: SSE,
      json: { message: "Hi" },
    });
    const frames = (await readSse(response)).filter((frame) => frame.event);
    const last = frames.at(-1)!;
    assert.equal(last.event, "failed");
    assert.deepEqual(last.data, {
      error: {
        type: "internal_error",
        message: "The server failed to handle the request; its log has the details",
        requestId: response.headers.get("x-request-id"),
      },
    });
    assert.ok(frames.some((frame) => frame.event === "error"), "the operation's own error event came first");
  } finally {
    console.error = originalError;
    await server.close();
  }
});
