import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { init } from "../agent/init.ts";
import type { FlueEvent } from "../events/event_types.ts";
import type { ModelRequest } from "../model/chat_model.ts";
import type { Message } from "../model/message.ts";
import { FunctionModel, type FunctionModelReply } from "../model/test_models/function_model.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { defineTool } from "../tools/tool.ts";
import { SUMMARY_HEADING } from "./_summary_prompt.ts";

const WINDOW = 2_000;

function isSummaryRequest(request: ModelRequest): boolean {
  return request.tools.length === 0 && request.messages[0]?.content.startsWith("You compact conversations");
}

function characters(messages: readonly Message[]): number {
  return messages.reduce(
    (sum, message) =>
      sum + message.content.length +
      (message.role === "assistant" ? JSON.stringify(message.toolCalls ?? []).length : 0),
    0,
  );
}

/** Every tool result in a request follows the assistant message that called it. */
function assertToolCallsPaired(messages: readonly Message[]): void {
  const called = new Set<string>();
  for (const message of messages) {
    if (message.role === "assistant") { for (const call of message.toolCalls ?? []) called.add(call.id); }
    if (message.role === "tool") assert.ok(called.has(message.toolCallId), `orphan tool result ${message.toolCallId}`);
  }
}

/** A model with a small window: summaries on request, otherwise `reply`. */
function smallModel(reply: (request: ModelRequest, index: number) => FunctionModelReply): FunctionModel {
  let summaries = 0;
  return new FunctionModel((request, { callIndex }) => {
    if (isSummaryRequest(request)) return `Summary ${++summaries}: the user sent numbered notes; keep going.`;
    return reply(request, callIndex);
  }, { contextWindow: WINDOW });
}

Deno.test("a long conversation with a small context window compacts and keeps going for 60 prompts", async () => {
  const model = smallModel((request) => `Noted: ${request.messages.at(-1)!.content.slice(0, 40)} ${"ok".repeat(90)}`);
  const events: FlueEvent[] = [];
  const agent = await init({ model, store: "memory", sandbox: "memory", onEvent: (event) => events.push(event) });
  try {
    const session = await agent.session("long");
    for (let index = 1; index <= 60; index++) {
      const response = await session.prompt(`Note ${index}: ${"some-detail-".repeat(40)}`);
      assert.match(response.text, new RegExp(`^Noted: Note ${index}:`));
    }
    const starts = events.filter((event) => event.type === "compaction_start");
    const ends = events.filter((event) => event.type === "compaction");
    assert.ok(starts.length >= 5, `expected several compactions, got ${starts.length}`);
    assert.equal(ends.length, starts.length);
    assert.ok(starts.every((event) => event.type === "compaction_start" && event.reason === "threshold"));
    for (const event of ends) {
      if (event.type === "compaction") assert.ok(event.messagesAfter < event.messagesBefore);
    }
    // No request ever came near the window: about four characters per token.
    const largest = Math.max(...model.calls.map((call) => characters(call.messages)));
    assert.ok(largest / 4 < WINDOW, `largest request was about ${largest / 4} tokens`);
    const last = model.calls.at(-1)!;
    assert.ok(last.messages[1].content.startsWith(SUMMARY_HEADING));
    assert.match(last.messages[1].content, /Summary \d+:/);
    // history() still holds every message ever exchanged, and the summaries.
    const history = await session.history();
    assert.equal(history.filter((entry) => entry.source === "prompt").length, 120);
    assert.equal(history.filter((entry) => entry.source === "compaction").length, starts.length);
  } finally {
    await agent.close();
  }
});

Deno.test("one operation of 55 tool-calling turns compacts between turns without splitting a call from its result", async () => {
  const lookup = defineTool({
    name: "lookup",
    description: "Looks a record up",
    input: z.object({ key: z.string() }),
    run: ({ key }) => `${key}: ${"record data ".repeat(25)}`,
  });
  const model = smallModel((request) => {
    const results = request.messages.filter((message) => message.role === "tool").length;
    const lastTool = request.messages.findLast((message) => message.role === "tool");
    const step = lastTool ? Number(/^k(\d+)/.exec(lastTool.content)?.[1] ?? 0) + 1 : 0;
    if (step >= 55) return `Looked up ${step} records (${results} results in view)`;
    return { toolCalls: [{ name: "lookup", args: { key: `k${step}` } }] };
  });
  const events: FlueEvent[] = [];
  const agent = await init({
    model,
    tools: [lookup],
    maxTurns: 100,
    store: "memory",
    sandbox: "memory",
    onEvent: (event) => events.push(event),
  });
  try {
    const session = await agent.session();
    const response = await session.prompt("Look up records k0 to k54, one at a time");
    assert.match(response.text, /^Looked up 55 records/);
    assert.ok(events.filter((event) => event.type === "compaction").length >= 3);
    for (const call of model.calls.filter((request) => !isSummaryRequest(request))) {
      assertToolCallsPaired(call.messages);
      assert.ok(characters(call.messages) / 4 < WINDOW);
    }
    // The summarising calls' tokens count in the operation's usage.
    const turnInput = events.reduce((sum, event) => sum + (event.type === "turn" ? event.usage.inputTokens : 0), 0);
    assert.ok(response.usage.inputTokens > turnInput);
  } finally {
    await agent.close();
  }
});

Deno.test("a session resumed by a new agent on the same sqlite file starts from the summary", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-compaction-" });
  const path = join(dir, "flue.db");
  try {
    const first = await init({
      model: smallModel((request) => `Reply to ${request.messages.at(-1)!.content}`),
      store: { kind: "sqlite", path },
      sandbox: "memory",
      compaction: { keepRecent: 2 },
    });
    const session = await first.session("resume");
    for (const text of ["alpha", "beta", "gamma", "delta"]) await session.prompt(text);
    const compacted = await session.compact();
    assert.deepEqual(
      [compacted.compacted, compacted.messagesBefore, compacted.messagesAfter],
      [true, 8, 3],
    );
    await first.close();

    const seen = smallModel(() => "resumed");
    const second = await init({ model: seen, store: { kind: "sqlite", path }, sandbox: "memory" });
    try {
      await (await second.session("resume")).prompt("epsilon");
      const sent = seen.calls[0].messages.map((message) => [message.role, message.content.split("\n")[0]]);
      assert.deepEqual(sent.slice(1), [
        ["user", SUMMARY_HEADING],
        ["user", "delta"],
        ["assistant", "Reply to delta"],
        ["user", "epsilon"],
      ]);
      const store = new SqliteStore({ path });
      const history = await store.load({ agent: "default", instanceId: "default", session: "resume" });
      await store.close();
      assert.deepEqual(history.map((entry) => entry.source), [
        ...Array(8).fill("prompt"),
        "compaction",
        "prompt",
        "prompt",
      ]);
      assert.equal((history[8].message as { compactedThrough?: number }).compactedThrough, 5);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("session.compact() emits manual compaction events, and does nothing without history", async () => {
  const events: FlueEvent[] = [];
  const agent = await init({
    model: smallModel(() => "fine"),
    store: new MemoryStore(),
    sandbox: "memory",
    onEvent: (event) => events.push(event),
  });
  try {
    const session = await agent.session();
    const empty = await session.compact();
    assert.equal(empty.compacted, false);
    assert.equal(events.filter((event) => event.type === "compaction_start").length, 0);
    await session.prompt("one");
    await session.prompt("two");
    const result = await session.compact({ keepRecent: 0 });
    assert.equal(result.compacted, true);
    assert.deepEqual([result.messagesBefore, result.messagesAfter], [4, 1]);
    const kinds = events.filter((event) => event.operationId === result.operationId).map((event) => event.type);
    assert.deepEqual(kinds, ["operation_start", "compaction_start", "compaction", "operation"]);
    const start = events.find((event) => event.type === "compaction_start");
    assert.ok(start?.type === "compaction_start" && start.reason === "manual" && start.estimatedTokens > 0);
    await assert.rejects(() => session.compact({ keepRecent: -1 }), TypeError);
  } finally {
    await agent.close();
  }
});

Deno.test("compaction: false keeps the whole history in the model's context", async () => {
  const model = smallModel(() => "ok");
  const agent = await init({ model, store: "memory", sandbox: "memory", compaction: false });
  try {
    const session = await agent.session();
    for (let index = 0; index < 12; index++) await session.prompt(`message ${index} ${"x".repeat(1_000)}`);
    assert.equal(model.calls.filter(isSummaryRequest).length, 0);
    assert.equal(model.calls.at(-1)!.messages.length, 1 + 12 * 2 - 1);
  } finally {
    await agent.close();
  }
});

Deno.test("init() rejects compaction options out of range, naming the option", async () => {
  await assert.rejects(
    () => init({ model: "test", store: "memory", compaction: { threshold: 1.5 } }),
    /Compaction option "threshold" must be a fraction of the context window from 0.1 to 0.95, got 1.5/,
  );
  await assert.rejects(
    () => init({ model: "test", store: "memory", compaction: { keepRecnt: 3 } as never }),
    /Unknown compaction option "keepRecnt": known options are enabled, threshold, keepRecent, maxToolResultChars/,
  );
  await assert.rejects(
    () => init({ model: "test", store: "memory", compaction: true as never }),
    /Option "compaction" must be false or an object/,
  );
});

Deno.test("a summarising call says it serves a compaction, so a test model can tell it apart", async () => {
  const kinds: (string | undefined)[] = [];
  const model = new FunctionModel((request) => {
    kinds.push(request.operation?.operationKind);
    return isSummaryRequest(request) ? "Summary: two notes." : "fine";
  }, { contextWindow: WINDOW });
  const agent = await init({ model, store: "memory", sandbox: "memory" });
  try {
    const session = await agent.session();
    await session.prompt("one");
    await session.prompt("two");
    await session.compact({ keepRecent: 0 });
    assert.deepEqual(kinds, ["prompt", "prompt", "compact"]);
  } finally {
    await agent.close();
  }
});
