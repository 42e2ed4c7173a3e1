import assert from "node:assert/strict";
import type { FlueEvent } from "../events/event_types.ts";
import { describeActivity, shorten, styles } from "./terminal.ts";

const base = { agent: "a", instanceId: "i", eventIndex: 0, timestamp: "2026-11-22T00:00:00.000Z" };

Deno.test("styles(false) adds no escape codes; styles(true) does", () => {
  assert.equal(styles(false).red("x"), "x");
  assert.equal(styles(true).red("x"), "\x1b[31mx\x1b[39m");
});

Deno.test("describeActivity() renders tool calls and skips text", () => {
  const plain = styles(false);
  const start = { ...base, type: "tool_start", toolName: "read", toolCallId: "c", args: { path: "a.ts" } } as FlueEvent;
  assert.equal(describeActivity(start, plain), '→ read {"path":"a.ts"}');
  const failed = {
    ...base,
    type: "tool_end",
    toolName: "read",
    toolCallId: "c",
    isError: true,
    result: "Error: NotFound",
    durationMs: 3,
  } as FlueEvent;
  assert.equal(describeActivity(failed, plain), "✗ read: Error: NotFound");
  assert.equal(
    describeActivity({ ...base, type: "text_delta", turnId: "t", text: "hi" } as FlueEvent, plain),
    undefined,
  );
});

Deno.test("shorten() keeps one line and marks a cut", () => {
  assert.equal(shorten("a\n  b", 10), "a b");
  assert.equal(shorten("abcdefghij", 5), "abcd…");
});
