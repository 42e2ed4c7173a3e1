import assert from "node:assert/strict";
import { limitToolResult } from "../_oversized_result.ts";
import { createReadOutputTool } from "./read_output_tool.ts";

const context = { signal: new AbortController().signal, toolCallId: "call_9", emit: () => {} };

function toolOver(texts: Record<string, string>, part = 10) {
  const saved = new Map(Object.entries(texts));
  return createReadOutputTool(
    { get: (id) => Promise.resolve(saved.get(id)), ids: () => [...saved.keys()] },
    () => part,
  );
}

Deno.test("limitToolResult() keeps short results and cuts long ones to the limit with head, tail and note", () => {
  assert.deepEqual(limitToolResult("short", 2_000, "a"), { text: "short", isCut: false });
  const text = `HEAD${"m".repeat(100_000)}TAIL`;
  const cut = limitToolResult(text, 2_000, "call_1");
  assert.ok(cut.isCut && cut.text.length <= 2_000);
  assert.ok(cut.text.startsWith("HEAD") && cut.text.includes("TAIL"));
  assert.match(cut.text, /This result is 100008 characters, more than the 2000 shown/);
});

Deno.test("limitToolResult() never splits a surrogate pair", () => {
  const text = "😀".repeat(5_000);
  const cut = limitToolResult(text, 1_000, "x");
  assert.ok(cut.text.isWellFormed());
});

Deno.test("read_output reads a range, continues from the offset it names, and ends at the end", async () => {
  const tool = toolOver({ call_1: "0123456789abcdefghij" });
  assert.equal(
    await tool.run({ id: "call_1" }, context),
    "0123456789\n[characters 0-10 of 20; call read_output with offset=10 to continue]",
  );
  assert.equal(
    await tool.run({ id: "call_1", offset: 15, length: 50 }, context),
    "fghij\n[characters 15-20 of 20: the end]",
  );
  await assert.rejects(async () => await tool.run({ id: "call_1", offset: 20 }, context), /Offset 20 is past the end/);
});

Deno.test("read_output finds lines by pattern and refuses an invalid one", async () => {
  const tool = toolOver({ log: "alpha\nbeta error\ngamma\ndelta error" }, 1_000);
  assert.equal(
    await tool.run({ id: "log", pattern: "error$" }, context),
    "line 2 (offset 6): beta error\nline 4 (offset 23): delta error",
  );
  assert.equal(await tool.run({ id: "log", pattern: "zeta" }, context), 'No line matches "zeta".');
  await assert.rejects(async () => await tool.run({ id: "log", pattern: "(" }, context), /Invalid pattern "\("/);
  await assert.rejects(
    async () => await tool.run({ id: "nope" }, context),
    /No saved output has id "nope": saved ids are "log"/,
  );
});
