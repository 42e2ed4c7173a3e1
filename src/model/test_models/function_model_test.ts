import assert from "node:assert/strict";
import { AbortError } from "../../errors.ts";
import type { ModelRequest, ToolSchema } from "../chat_model.ts";
import { FunctionModel, type FunctionModelInfo } from "./function_model.ts";

const tools: ToolSchema[] = [{
  name: "read",
  description: "Reads a file",
  parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
}];

function request(content: string, extra: Partial<ModelRequest> = {}): ModelRequest {
  return {
    messages: [{ role: "system", content: "Be brief" }, { role: "user", content }],
    tools,
    signal: new AbortController().signal,
    ...extra,
  };
}

Deno.test("FunctionModel gives its function the messages, tools and call index", async () => {
  const seen: [ModelRequest, FunctionModelInfo][] = [];
  const model = new FunctionModel((received, info) => {
    seen.push([received, info]);
    return info.callIndex === 0
      ? { toolCalls: [{ name: "read", args: { path: "a.md" } }, { name: "read", args: { path: "b.md" } }] }
      : `Read ${received.messages.length} messages`;
  });
  const first = await model.complete(request("read a.md and b.md"));
  const second = await model.complete(request("again"));
  assert.deepEqual(seen.map(([, info]) => info.callIndex), [0, 1]);
  assert.deepEqual(seen[0][0].tools, tools);
  assert.equal(seen[0][0].messages[1].content, "read a.md and b.md");
  assert.deepEqual(first.toolCalls, [
    { id: "call_1", name: "read", arguments: '{"path":"a.md"}' },
    { id: "call_2", name: "read", arguments: '{"path":"b.md"}' },
  ]);
  assert.equal(first.stopReason, "tool_calls");
  assert.equal(second.text, "Read 2 messages");
  assert.equal(second.model, "function");
  assert.deepEqual(model.calls.map((call) => call.messages[1].content), ["read a.md and b.md", "again"]);
});

Deno.test("FunctionModel takes an async function and passes on the response format", async () => {
  const model = new FunctionModel(async (received) => {
    await Promise.resolve();
    return JSON.stringify({ format: received.responseFormat?.name });
  }, { id: "fn:json", supportsStructuredOutput: true });
  assert.equal(model.supportsStructuredOutput, true);
  assert.equal(new FunctionModel(() => "").supportsStructuredOutput, false);
  const reply = await model.complete(request("x", { responseFormat: { name: "result", schema: { type: "object" } } }));
  assert.equal(reply.text, '{"format":"result"}');
  assert.equal(reply.model, "fn:json");
});

Deno.test("FunctionModel streams its text in word groups before resolving", async () => {
  const model = new FunctionModel(() => "a b c d e");
  const deltas: string[] = [];
  let resolved = false;
  const reply = await model.complete(request("x", {
    onTextDelta: (text) => {
      assert.equal(resolved, false);
      deltas.push(text);
    },
  })).then((value) => {
    resolved = true;
    return value;
  });
  assert.deepEqual(deltas, ["a b c ", "d e"]);
  assert.equal(reply.text, "a b c d e");
});

Deno.test("FunctionModel rejects with AbortError when the signal aborts while its function runs", async () => {
  const controller = new AbortController();
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const model = new FunctionModel(async () => {
    started();
    await new Promise((resolve) => setTimeout(resolve, 0));
    return "too late";
  });
  const pending = model.complete(request("x", { signal: controller.signal }));
  await running;
  controller.abort(new Error("stop"));
  const error = await pending.then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof AbortError);
  assert.equal(error.message, "The operation was aborted: stop");
});

Deno.test("FunctionModel lets its function's error through and rejects a reply of the wrong shape", async () => {
  const failure = new Error("boom");
  await assert.rejects(new FunctionModel(() => Promise.reject(failure)).complete(request("x")), (e) => e === failure);
  await assert.rejects(
    new FunctionModel(() => ({ text: 5 }) as unknown as string).complete(request("x")),
    { name: "TypeError", message: 'Invalid FunctionModel reply to call 0: "text" must be a string, got number 5' },
  );
  assert.throws(() => new FunctionModel("nope" as unknown as () => string), /expected a function, got string/);
});
