import assert from "node:assert/strict";
import { z } from "zod";
import { init } from "../agent/init.ts";
import type { ModelRequest } from "../model/chat_model.ts";
import type { Message } from "../model/message.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { defineTool } from "../tools/tool.ts";

const SECRET = "sk-live-0123456789abcdef";

/** About 5 MB of numbered lines, with a secret near the start and a needle in the middle. */
function hugeText(): string {
  const lines: string[] = [];
  for (let index = 1; index <= 60_000; index++) {
    if (index === 3) lines.push(`line 3: token=${SECRET}`);
    else if (index === 30_000) lines.push("line 30000: NEEDLE is here");
    else lines.push(`line ${index}: ${"payload-".repeat(10)}`);
  }
  return lines.join("\n");
}

function lastToolResult(request: ModelRequest): Extract<Message, { role: "tool" }> {
  const result = request.messages.findLast((message) => message.role === "tool");
  assert.ok(result?.role === "tool", "the request carries a tool result");
  return result;
}

Deno.test("a tool that returns 5 MB does not dead-end the session: the model reads it in parts with read_output", async () => {
  const text = hugeText();
  assert.ok(text.length > 5_000_000);
  const dump = defineTool({
    name: "dump",
    description: "Dumps the log",
    input: z.object({}),
    run: () => text,
  });
  const seen: string[] = [];
  const model = new FunctionModel((request, { callIndex }) => {
    if (callIndex === 0) return { toolCalls: [{ name: "dump", id: "call_dump" }] };
    const result = lastToolResult(request);
    seen.push(result.content);
    if (callIndex === 1) return { toolCalls: [{ name: "read_output", args: { id: "call_dump", offset: 2_000_000 } }] };
    if (callIndex === 2) return { toolCalls: [{ name: "read_output", args: { id: "call_dump", pattern: "NEEDLE" } }] };
    return "done";
  }, { contextWindow: 32_000 });
  const store = new MemoryStore();
  const agent = await init({ model, tools: [dump], store, sandbox: "memory", env: { API_TOKEN: SECRET } });
  try {
    const session = await agent.session();
    const response = await session.prompt("Dump the log and find the needle");
    assert.equal(response.text, "done");
    const [cut, part, found] = seen;
    // With a window of 32,000 tokens a result is cut to 32,000 characters.
    assert.ok(cut.length <= 32_000, `cut result is ${cut.length} characters`);
    assert.match(cut, /^line 1: payload-/);
    assert.match(cut, /line 60000: payload-/);
    assert.match(cut, /call read_output with id "call_dump"/);
    assert.ok(!cut.includes(SECRET) && cut.includes("[REDACTED:API_TOKEN]"));
    // Offsets count in the saved text, which is redacted.
    const redacted = text.replace(SECRET, "[REDACTED:API_TOKEN]");
    assert.equal(part.slice(0, 100), redacted.slice(2_000_000, 2_000_100));
    assert.match(part, /\[characters 2000000-\d+ of \d+; call read_output with offset=\d+ to continue\]$/);
    assert.match(found, /^line 30000 \(offset \d+\): line 30000: NEEDLE is here$/);
    for (const request of model.calls) {
      const size = request.messages.reduce((sum, message) => sum + message.content.length, 0);
      assert.ok(size < 100_000, `a request carried ${size} characters`);
    }
    const history = await session.history();
    const saved = history.filter((entry) => entry.source === "output");
    assert.equal(saved.length, 1);
    assert.equal(saved[0].message.role === "tool" && saved[0].message.toolCallId, "call_dump");
    assert.ok(saved[0].message.content.length > 5_000_000);
    assert.ok(!saved[0].message.content.includes(SECRET), "the saved text is redacted");
  } finally {
    await agent.close();
  }

  // A new agent on the same store can still read the saved text.
  const later = new FunctionModel((_request, { callIndex }) =>
    callIndex === 0 ? { toolCalls: [{ name: "read_output", args: { id: "call_dump", offset: 0, length: 20 } }] } : "ok"
  );
  const resumed = await init({ model: later, store, sandbox: "memory" });
  try {
    await (await resumed.session()).prompt("Read the saved log again");
    assert.match(lastToolResult(later.calls[1]).content, /^line 1: payload-payl\n\[characters 0-20 of \d+;/);
  } finally {
    await resumed.close();
  }
});

Deno.test("a tool error with a huge message is cut like a result, and read_output names unknown ids", async () => {
  const fail = defineTool({
    name: "fail",
    description: "Fails loudly",
    input: z.object({}),
    run: () => {
      throw new Error(`boom ${"x".repeat(50_000)}`);
    },
  });
  const model = new FunctionModel((request, { callIndex }) => {
    if (callIndex === 0) return { toolCalls: [{ name: "fail", id: "call_fail" }] };
    if (callIndex === 1) return { toolCalls: [{ name: "read_output", args: { id: "nope" } }] };
    return lastToolResult(request).content;
  }, { contextWindow: 4_000 });
  const agent = await init({ model, tools: [fail], store: "memory", sandbox: "memory" });
  try {
    const session = await agent.session();
    const response = await session.prompt("Try it");
    const failure = lastToolResult(model.calls[1]);
    assert.equal(failure.isError, true);
    assert.ok(failure.content.length <= 4_100, `error result is ${failure.content.length} characters`);
    assert.match(failure.content, /^Error: Error: boom x+/);
    assert.equal(response.text, 'Error: TypeError: No saved output has id "nope": saved ids are "call_fail"');
  } finally {
    await agent.close();
  }
});

Deno.test("maxToolResultChars sets the cut limit", async () => {
  const echo = defineTool({
    name: "echo",
    description: "Echoes",
    input: z.object({}),
    run: () => "y".repeat(5_000),
  });
  const model = new FunctionModel((request, { callIndex }) =>
    callIndex === 0 ? { toolCalls: [{ name: "echo" }] } : String(lastToolResult(request).content.length)
  );
  const agent = await init({
    model,
    tools: [echo],
    store: "memory",
    sandbox: "memory",
    compaction: { maxToolResultChars: 1_000 },
  });
  try {
    const response = await (await agent.session()).prompt("Echo");
    assert.ok(Number(response.text) <= 1_000);
  } finally {
    await agent.close();
  }
});
