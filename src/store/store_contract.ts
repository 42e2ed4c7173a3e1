/**
 * The conformance suite every {@linkcode Store} passes. Call it from a test file with a factory for your store; it
 * registers one `Deno.test` per behaviour, each on a fresh store that it closes and cleans up afterwards.
 *
 * @module
 */

import assert from "node:assert/strict";
import { NotFoundError } from "../errors.ts";
import type { FlueEvent } from "../events/event_types.ts";
import type { NewHistoryEntry, RunRecord, SessionKey, Store } from "./store.ts";
import { defineDispatchContractTests } from "./_dispatch_contract.ts";

/** A fresh store for one test, and how to remove what it left behind. */
export interface StoreUnderTest {
  /** An empty store. */
  store: Store;
  /** Removes files or other state the store created; called after the store is closed. */
  cleanup(): Promise<void>;
}

function entry(content: string, source: NewHistoryEntry["source"] = "prompt"): NewHistoryEntry {
  return {
    message: { role: "user", content },
    source,
    operationId: `op-${content}`,
    timestamp: "2026-01-02T03:04:05.000Z",
  };
}

function contents(history: { message: { content?: unknown } }[]): unknown[] {
  return history.map((item) => item.message.content);
}

function run(runId: string): RunRecord {
  return {
    runId,
    workflow: "summarize",
    instanceId: "instance-1",
    status: "running",
    payload: { text: "hello", tags: ["a", "b"] },
    startedAt: "2026-01-02T03:04:05.000Z",
  };
}

function event(runId: string, eventIndex: number, type: "log" | "idle" = "log"): FlueEvent {
  const correlation = { runId, agent: "summarize", instanceId: "instance-1", eventIndex, timestamp: "2026-01-02" };
  return type === "idle"
    ? { ...correlation, type: "idle" }
    : { ...correlation, type: "log", level: "info", message: `event ${eventIndex}` };
}

const KEY: SessionKey = { agent: "assistant", instanceId: "42", session: "default" };

/**
 * Registers the store conformance tests. Each test gets its own store from `makeStore`, closes it when done (so
 * `close()` must be safe to call twice) and then calls `cleanup`.
 *
 * @param name A label for the implementation, used as the test name prefix.
 * @param makeStore Creates an empty store.
 *
 * @example Check a store implementation
 * ```ts ignore
 * // my_store_test.ts, run with `deno test -A`
 * import { MemoryStore } from "./memory_store.ts";
 * import { defineStoreContractTests } from "./store_contract.ts";
 *
 * defineStoreContractTests("MemoryStore", () => Promise.resolve({ store: new MemoryStore(), cleanup: async () => {} }));
 * ```
 */
export function defineStoreContractTests(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  const test = (behaviour: string, body: (store: Store) => Promise<void>): void => {
    Deno.test(`${name}: ${behaviour}`, async () => {
      const { store, cleanup } = await makeStore();
      try {
        await body(store);
      } finally {
        await store.close();
        await cleanup();
      }
    });
  };

  test("append() then load() returns the entries in order with seq from 0", async (store) => {
    await store.append(KEY, [entry("one"), entry("two", "skill"), entry("three", "shell")]);
    const history = await store.load(KEY);
    assert.deepEqual(history.map((item) => item.seq), [0, 1, 2]);
    assert.deepEqual(contents(history), ["one", "two", "three"]);
    assert.deepEqual(history[1], { ...entry("two", "skill"), seq: 1 });
  });

  test("append() accumulates after the existing entries and returns them as stored", async (store) => {
    const first = await store.append(KEY, [entry("one")]);
    const second = await store.append(KEY, [entry("two"), entry("three")]);
    assert.deepEqual(first, [{ ...entry("one"), seq: 0 }]);
    assert.deepEqual(second, [{ ...entry("two"), seq: 1 }, { ...entry("three"), seq: 2 }]);
    assert.deepEqual(await store.load(KEY), [...first, ...second]);
  });

  test("append() of no entries stores nothing", async (store) => {
    assert.deepEqual(await store.append(KEY, []), []);
    assert.deepEqual(await store.load(KEY), []);
    assert.deepEqual(await store.listSessions(), []);
  });

  test("load() with afterSeq returns only the later entries", async (store) => {
    await store.append(KEY, [entry("one"), entry("two"), entry("three")]);
    assert.deepEqual(contents(await store.load(KEY, { afterSeq: 0 })), ["two", "three"]);
    assert.deepEqual((await store.load(KEY, { afterSeq: 1 })).map((item) => item.seq), [2]);
    assert.deepEqual(await store.load(KEY, { afterSeq: 2 }), []);
    assert.deepEqual(contents(await store.load(KEY, { afterSeq: -1 })), ["one", "two", "three"]);
    await assert.rejects(store.load(KEY, { afterSeq: 1.5 }), TypeError);
    await assert.rejects(store.load(KEY, { afterSeq: -2 }), TypeError);
  });

  test("load() of a session never written returns an empty history", async (store) => {
    assert.deepEqual(await store.load({ agent: "nobody", instanceId: "none", session: "never" }), []);
  });

  test("keys that a joined string would confuse stay separate", async (store) => {
    const keys: SessionKey[] = [
      { agent: "a", instanceId: "x:y_z", session: "s" },
      { agent: "a", instanceId: "x_y:z", session: "s" },
      { agent: "a:x", instanceId: "y_z", session: "s" },
      { agent: "a", instanceId: "x", session: "y_z:s" },
      { agent: "a/b", instanceId: "c", session: "d" },
      { agent: "a", instanceId: "b/c", session: "d" },
      { agent: "other", instanceId: "x:y_z", session: "s" },
    ];
    for (const [index, key] of keys.entries()) await store.append(key, [entry(`entry ${index}`)]);
    for (const [index, key] of keys.entries()) {
      assert.deepEqual(contents(await store.load(key)), [`entry ${index}`], `key ${JSON.stringify(key)}`);
    }
    assert.equal((await store.listSessions()).length, keys.length);
  });

  test("empty, blank and unicode names are kept exactly, without normalisation", async (store) => {
    const keys: SessionKey[] = [
      { agent: "", instanceId: "", session: "" },
      { agent: " ", instanceId: "", session: "" },
      { agent: "", instanceId: " ", session: "" },
      { agent: "caf\u00e9", instanceId: "\u{1F995}", session: "\u4f1a\u8a71" },
      { agent: "cafe\u0301", instanceId: "\u{1F995}", session: "\u4f1a\u8a71" },
    ];
    for (const [index, key] of keys.entries()) await store.append(key, [entry(`entry ${index}`)]);
    for (const [index, key] of keys.entries()) {
      assert.deepEqual(contents(await store.load(key)), [`entry ${index}`], `key ${JSON.stringify(key)}`);
    }
    const listed = await store.listSessions();
    assert.equal(listed.length, keys.length);
    for (const key of keys) assert.ok(listed.some((item) => JSON.stringify(item) === JSON.stringify(key)));
  });

  test("keys with a NUL character or a lone surrogate are rejected with a TypeError", async (store) => {
    await assert.rejects(store.append({ ...KEY, session: "a\u0000b" }, [entry("x")]), TypeError);
    await assert.rejects(store.append({ ...KEY, agent: "\ud800" }, [entry("x")]), TypeError);
    await assert.rejects(store.load({ ...KEY, instanceId: 42 as unknown as string }), TypeError);
    assert.deepEqual(await store.listSessions(), []);
  });

  test("a batch with an invalid entry is rejected whole", async (store) => {
    await store.append(KEY, [entry("kept")]);
    const invalid = { ...entry("bad"), source: "unknown" as NewHistoryEntry["source"] };
    await assert.rejects(store.append(KEY, [entry("first"), invalid]), TypeError);
    await store.append(KEY, [entry("after")]);
    const history = await store.load(KEY);
    assert.deepEqual(contents(history), ["kept", "after"]);
    assert.deepEqual(history.map((item) => item.seq), [0, 1]);
  });

  test("deleteSession() removes one session and leaves the others", async (store) => {
    const sibling = { ...KEY, session: "other" };
    const otherInstance = { ...KEY, instanceId: "43" };
    for (const key of [KEY, sibling, otherInstance]) await store.append(key, [entry("x"), entry("y")]);
    assert.equal(await store.deleteSession(KEY), true);
    assert.deepEqual(await store.load(KEY), []);
    assert.equal((await store.load(sibling)).length, 2);
    assert.equal((await store.load(otherInstance)).length, 2);
    assert.equal(await store.deleteSession(KEY), false);
    assert.deepEqual(await store.listSessions(), [sibling, otherInstance]);
    const [restarted] = await store.append(KEY, [entry("again")]);
    assert.equal(restarted.seq, 0);
  });

  test("listSessions() filters by agent and instance id and sorts by code point", async (store) => {
    const keys: SessionKey[] = [
      { agent: "b", instanceId: "1", session: "z" },
      { agent: "a", instanceId: "2", session: "a" },
      { agent: "a", instanceId: "1", session: "b" },
      { agent: "a", instanceId: "1", session: "a" },
      { agent: "a", instanceId: "1", session: "B" },
      { agent: "a", instanceId: "1", session: "\uff01" },
      { agent: "a", instanceId: "1", session: "\u{1F995}" },
    ];
    for (const key of keys) await store.append(key, [entry("x")]);
    const sessionsOf = (list: SessionKey[]) => list.map((key) => `${key.agent}|${key.instanceId}|${key.session}`);
    assert.deepEqual(sessionsOf(await store.listSessions()), [
      "a|1|B",
      "a|1|a",
      "a|1|b",
      "a|1|\uff01",
      "a|1|\u{1F995}",
      "a|2|a",
      "b|1|z",
    ]);
    assert.deepEqual(sessionsOf(await store.listSessions({ agent: "a", instanceId: "2" })), ["a|2|a"]);
    assert.deepEqual(sessionsOf(await store.listSessions({ instanceId: "1" })).length, 6);
    assert.deepEqual(sessionsOf(await store.listSessions({ agent: "b" })), ["b|1|z"]);
    assert.deepEqual(await store.listSessions({ agent: "missing" }), []);
    assert.deepEqual(await store.listSessions({ agent: "" }), []);
  });

  test("stored entries are copies, not aliases of the caller's objects", async (store) => {
    const input = entry("original");
    const [returned] = await store.append(KEY, [input]);
    (input.message as { content: string }).content = "changed input";
    (returned.message as { content: string }).content = "changed return";
    const [loaded] = await store.load(KEY);
    assert.equal(loaded.message.content, "original");
    (loaded.message as { content: string }).content = "changed load";
    loaded.seq = 99;
    assert.deepEqual(await store.load(KEY), [{ ...entry("original"), seq: 0 }]);
  });

  test("concurrent appends to one session keep seq gapless and each batch together", async (store) => {
    const batches = Array.from({ length: 25 }, (_, batch) => [entry(`${batch}.0`), entry(`${batch}.1`)]);
    const results = await Promise.all(batches.map((batch) => store.append(KEY, batch)));
    for (const [batch, stored] of results.entries()) {
      assert.deepEqual(contents(stored), [`${batch}.0`, `${batch}.1`]);
      assert.equal(stored[1].seq, stored[0].seq + 1);
    }
    const history = await store.load(KEY);
    assert.deepEqual(history.map((item) => item.seq), Array.from({ length: 50 }, (_, seq) => seq));
    for (const stored of results) assert.deepEqual(history.slice(stored[0].seq, stored[0].seq + 2), stored);
  });

  test("runs can be created, read and updated", async (store) => {
    await store.createRun(run("run-1"));
    assert.deepEqual(await store.getRun("run-1"), run("run-1"));
    await store.updateRun("run-1", { status: "done", result: { summary: "ok" }, endedAt: "2026-01-02T03:05:00.000Z" });
    assert.deepEqual(await store.getRun("run-1"), {
      ...run("run-1"),
      status: "done",
      result: { summary: "ok" },
      endedAt: "2026-01-02T03:05:00.000Z",
    });
    await store.updateRun("run-1", { status: "failed", error: { name: "Error", message: "boom" } });
    const failed = await store.getRun("run-1");
    assert.equal(failed?.status, "failed");
    assert.deepEqual(failed?.error, { name: "Error", message: "boom" });
    assert.deepEqual(failed?.result, { summary: "ok" });
  });

  test("getRun() of an unknown run returns undefined and updateRun() rejects with NotFoundError", async (store) => {
    assert.equal(await store.getRun("missing"), undefined);
    await assert.rejects(store.updateRun("missing", { status: "done" }), NotFoundError);
  });

  test("createRun() rejects a duplicate run id and keeps the first run", async (store) => {
    await store.createRun(run("run-1"));
    await assert.rejects(store.createRun({ ...run("run-1"), workflow: "other" }), /already exists/);
    assert.equal((await store.getRun("run-1"))?.workflow, "summarize");
  });

  test("invalid runs, patches, events and queries are rejected with a TypeError and change nothing", async (store) => {
    await assert.rejects(store.createRun({ ...run("run-1"), status: "finished" as RunRecord["status"] }), TypeError);
    await assert.rejects(store.createRun({ ...run(""), runId: "" }), TypeError);
    assert.equal(await store.getRun("run-1"), undefined);
    await store.createRun(run("run-1"));
    await assert.rejects(store.updateRun("run-1", { status: "finished" as RunRecord["status"] }), TypeError);
    await assert.rejects(store.updateRun("run-1", { runId: "run-2" } as Partial<RunRecord>), TypeError);
    await assert.rejects(store.updateRun("run-1", { colour: "red" } as Partial<RunRecord>), TypeError);
    assert.deepEqual(await store.getRun("run-1"), run("run-1"));
    await assert.rejects(store.appendRunEvents("run-1", [{ ...event("run-1", 0), eventIndex: -1 }]), TypeError);
    await assert.rejects(store.appendRunEvents("run-1", [event("run-1", 0), event("run-2", 1)]), TypeError);
    assert.deepEqual(await store.listRunEvents("run-1"), []);
    await assert.rejects(store.listRunEvents("run-1", { limit: -1 }), TypeError);
    await assert.rejects(store.listRunEvents("run-1", { types: "log" as unknown as string[] }), TypeError);
  });

  test("runs are copies, not aliases of the caller's objects", async (store) => {
    const input = run("run-1");
    await store.createRun(input);
    (input.payload as { text: string }).text = "changed input";
    const read = await store.getRun("run-1");
    (read!.payload as { text: string }).text = "changed read";
    assert.deepEqual(await store.getRun("run-1"), run("run-1"));
  });

  test("listRuns() lists newest first, filters by workflow and status, and pages with before", async (store) => {
    const runs: RunRecord[] = [
      { ...run("r-a"), startedAt: "2026-01-02T03:04:01.000Z" },
      { ...run("r-b"), workflow: "triage", startedAt: "2026-01-02T03:04:02.000Z", status: "done" },
      { ...run("r-c"), startedAt: "2026-01-02T03:04:03.000Z", status: "failed" },
      { ...run("r-d"), startedAt: "2026-01-02T03:04:03.000Z" },
    ];
    for (const record of runs) await store.createRun(record);
    const ids = (list: RunRecord[]) => list.map((record) => record.runId);
    assert.deepEqual(ids(await store.listRuns()), ["r-d", "r-c", "r-b", "r-a"]);
    assert.deepEqual(ids(await store.listRuns({ workflow: "summarize" })), ["r-d", "r-c", "r-a"]);
    assert.deepEqual(ids(await store.listRuns({ status: ["done", "failed"] })), ["r-c", "r-b"]);
    const first = await store.listRuns({ limit: 2 });
    assert.deepEqual(ids(first), ["r-d", "r-c"]);
    const last = first.at(-1)!;
    const next = await store.listRuns({ limit: 2, before: { startedAt: last.startedAt, runId: last.runId } });
    assert.deepEqual(ids(next), ["r-b", "r-a"]);
    assert.deepEqual(next[0].payload, runs[1].payload);
    assert.deepEqual(await store.listRuns({ workflow: "missing" }), []);
    await assert.rejects(store.listRuns({ status: ["sleeping" as "done"] }), TypeError);
  });

  test("run events are listed in order with after, limit and types", async (store) => {
    await store.createRun(run("run-1"));
    await store.createRun(run("run-2"));
    await store.appendRunEvents("run-1", [event("run-1", 0), event("run-1", 1, "idle"), event("run-1", 2)]);
    await store.appendRunEvents("run-1", [event("run-1", 4, "idle"), event("run-1", 3)]);
    await store.appendRunEvents("run-2", [event("run-2", 0)]);
    const indexes = (events: FlueEvent[]) => events.map((item) => item.eventIndex);
    assert.deepEqual(
      await store.listRunEvents("run-1"),
      [0, 1, 2, 3, 4].map((index) => event("run-1", index, index % 3 === 1 ? "idle" : "log")),
    );
    assert.deepEqual(indexes(await store.listRunEvents("run-1", { after: 1 })), [2, 3, 4]);
    assert.deepEqual(indexes(await store.listRunEvents("run-1", { limit: 2 })), [0, 1]);
    assert.deepEqual(indexes(await store.listRunEvents("run-1", { after: 0, limit: 2 })), [1, 2]);
    assert.deepEqual(indexes(await store.listRunEvents("run-1", { types: ["idle"] })), [1, 4]);
    assert.deepEqual(indexes(await store.listRunEvents("run-1", { types: ["log", "idle"], after: 1, limit: 2 })), [
      2,
      3,
    ]);
    assert.deepEqual(await store.listRunEvents("run-1", { types: [] }), []);
    assert.deepEqual(await store.listRunEvents("run-1", { limit: 0 }), []);
    assert.deepEqual(indexes(await store.listRunEvents("run-2")), [0]);
    assert.deepEqual(await store.listRunEvents("missing"), []);
  });

  test("appendRunEvents() rejects a repeated index whole and an unknown run with NotFoundError", async (store) => {
    await store.createRun(run("run-1"));
    await store.appendRunEvents("run-1", [event("run-1", 0)]);
    await assert.rejects(store.appendRunEvents("run-1", [event("run-1", 1), event("run-1", 0)]), /event with index 0/);
    await assert.rejects(store.appendRunEvents("run-1", [event("run-1", 5), event("run-1", 5)]), TypeError);
    assert.deepEqual((await store.listRunEvents("run-1")).map((item) => item.eventIndex), [0]);
    await assert.rejects(store.appendRunEvents("missing", [event("missing", 0)]), NotFoundError);
  });

  test("run events are copies, not aliases of the caller's objects", async (store) => {
    await store.createRun(run("run-1"));
    const input = event("run-1", 0);
    await store.appendRunEvents("run-1", [input]);
    (input as { message: string }).message = "changed input";
    const [read] = await store.listRunEvents("run-1");
    (read as { message: string }).message = "changed read";
    assert.deepEqual(await store.listRunEvents("run-1"), [event("run-1", 0)]);
  });

  defineDispatchContractTests(test);

  test("calls after close() reject with an error saying the store is closed", async (store) => {
    await store.append(KEY, [entry("one")]);
    await store.close();
    await assert.rejects(store.load(KEY), /closed/);
    await assert.rejects(store.append(KEY, [entry("two")]), /closed/);
    await assert.rejects(store.getRun("run-1"), /closed/);
    await assert.rejects(store.claimDispatch({ worker: "w", leaseMs: 1000 }), /closed/);
    await store.close();
  });
}
