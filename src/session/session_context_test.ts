import assert from "node:assert/strict";
import type { Message } from "../model/message.ts";
import type { EntrySource, HistoryEntry } from "../store/store.ts";
import { estimateMessageTokens, estimateTextTokens } from "./_token_estimate.ts";
import { planCompaction } from "./compaction.ts";
import { SessionContext } from "./session_context.ts";

function entry(seq: number, message: Message, source: EntrySource = "prompt"): HistoryEntry {
  return { seq, message, source, operationId: "op", timestamp: "2025-01-01T00:00:00.000Z" };
}

const user = (content: string): Message => ({ role: "user", content });
const summary = (content: string, compactedThrough: number) => ({ role: "user" as const, content, compactedThrough });

Deno.test("SessionContext starts at the last summary and leaves saved outputs out", () => {
  const history = [
    entry(0, user("a")),
    entry(1, user("b")),
    entry(2, user("c")),
    entry(3, summary("S1", 0), "compaction"),
    entry(4, user("d")),
    entry(5, { role: "tool", toolCallId: "x", name: "dump", content: "whole" }, "output"),
    // The second summary covers S1 and "b", so "c" (stored before S1) is still in view.
    entry(6, summary("S2", 1), "compaction"),
    entry(7, user("e")),
  ];
  const context = new SessionContext(history);
  assert.deepEqual(context.messages, [user("S2"), user("c"), user("d"), user("e")]);
  assert.equal(context.lastSeq, 7);
  const expected = [user("S2"), user("c"), user("d"), user("e")].reduce((sum, m) => sum + estimateMessageTokens(m), 0);
  assert.equal(context.tokens, expected);
});

Deno.test("SessionContext scales its estimate by the provider's last count for the same model", () => {
  const context = new SessionContext([entry(0, user("x".repeat(4_000)))]);
  const base = context.estimate("m", 100);
  context.correct("m", Math.round(base / 2), 100);
  assert.ok(Math.abs(context.estimate("m", 100) - base / 2) <= 1);
  assert.equal(context.estimate("other", 100), base, "another model keeps the plain estimate");
  context.correct("m", 0, 100);
  assert.ok(Math.abs(context.estimate("m", 100) - base / 2) <= 1, "an unreported count changes nothing");
});

Deno.test("estimateTextTokens() errs high for non-Latin text", () => {
  assert.equal(estimateTextTokens("abcd".repeat(10)), 10);
  assert.ok(estimateTextTokens("漢字".repeat(10)) >= 15);
});

Deno.test("planCompaction() never keeps a tool result without the call that produced it", () => {
  const items = [
    user("old"),
    { role: "assistant", content: "", toolCalls: [{ id: "1", name: "t", arguments: "{}" }] },
    { role: "tool", toolCallId: "1", name: "t", content: "r1" },
    { role: "tool", toolCallId: "1", name: "t", content: "r2" },
    { role: "assistant", content: "answer" },
  ].map((message, seq) => ({ message: message as Message, seq, tokens: 10, isSummary: false }));
  // Keeping 3 would start at a tool result: the whole call and its results are summarised instead.
  assert.equal(planCompaction(items, 3, 1_000), 4);
  assert.equal(planCompaction(items, 4, 1_000), 1);
  // The token budget shrinks the kept part, again at a boundary.
  assert.equal(planCompaction(items, 4, 15), 4);
  assert.equal(planCompaction(items, 10, 1_000), undefined, "nothing left to summarise");
  assert.equal(planCompaction(items, 1, 1_000, 1_000), undefined, "too little to be worth a call");
});
