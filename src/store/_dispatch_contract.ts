/**
 * The dispatch queue part of the store conformance suite. Leases and backoff use real time with short lengths (tens of
 * milliseconds), so the tests wait only as long as a lease or a backoff they set.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { DispatchRecord, NewDispatch } from "./dispatch_queue.ts";
import type { SessionKey, Store } from "./store.ts";

type Test = (behaviour: string, body: (store: Store) => Promise<void>) => void;

const KEY: SessionKey = { agent: "assistant", instanceId: "42", session: "default" };

function input(message: string, key: SessionKey = KEY, extra: Partial<NewDispatch> = {}): NewDispatch {
  return { key, input: { message }, maxAttempts: 3, ...extra };
}

function sessionKey(session: string): SessionKey {
  return { ...KEY, session };
}

function messageOf(record: DispatchRecord | undefined): unknown {
  return (record?.input as { message?: unknown } | undefined)?.message;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the wall clock has passed an ISO time, plus a little for clock granularity. */
async function waitPast(iso: string): Promise<void> {
  const wait = Date.parse(iso) - Date.now() + 5;
  if (wait > 0) await sleep(wait);
}

/**
 * Registers the dispatch queue tests through the suite's `test` helper.
 *
 * @param test Registers one behaviour on a fresh store.
 */
export function defineDispatchContractTests(test: Test): void {
  test("enqueueDispatch() stores an accepted dispatch that getDispatch() reads back", async (store) => {
    const before = Date.now();
    const { record, created } = await store.enqueueDispatch(input("hello"));
    assert.equal(created, true);
    assert.match(record.dispatchId, /^\S+$/);
    assert.equal(record.status, "accepted");
    assert.deepEqual(record.key, KEY);
    assert.deepEqual(record.input, { message: "hello" });
    assert.equal(record.maxAttempts, 3);
    assert.deepEqual(record.attempts, []);
    assert.ok(Date.parse(record.acceptedAt) >= before - 1000 && Date.parse(record.acceptedAt) <= Date.now() + 1000);
    assert.ok(Date.parse(record.availableAt) <= Date.now());
    assert.equal(record.leaseOwner, undefined);
    assert.deepEqual(await store.getDispatch(record.dispatchId), record);
    assert.equal(await store.getDispatch("dispatch_missing"), undefined);
  });

  test("a repeated idempotency key returns the first dispatch, also when admitted concurrently", async (store) => {
    const first = await store.enqueueDispatch(input("one", KEY, { idempotencyKey: "key-1" }));
    const repeat = await store.enqueueDispatch(input("different", sessionKey("other"), { idempotencyKey: "key-1" }));
    assert.equal(repeat.created, false);
    assert.deepEqual(repeat.record, first.record);
    const other = await store.enqueueDispatch(input("two", KEY, { idempotencyKey: "key-2" }));
    assert.equal(other.created, true);
    assert.notEqual(other.record.dispatchId, first.record.dispatchId);
    const racing = await Promise.all(
      Array.from(
        { length: 10 },
        (_, index) => store.enqueueDispatch(input(`race ${index}`, KEY, { idempotencyKey: "k3" })),
      ),
    );
    assert.equal(racing.filter((receipt) => receipt.created).length, 1);
    assert.equal(new Set(racing.map((receipt) => receipt.record.dispatchId)).size, 1);
    assert.equal((await store.listDispatches()).length, 3);
  });

  test("claimDispatch() leases the oldest dispatch and no other claim gets it", async (store) => {
    const { record } = await store.enqueueDispatch(input("hello"));
    const claimed = await store.claimDispatch({ worker: "w1", leaseMs: 60_000 });
    assert.equal(claimed?.dispatchId, record.dispatchId);
    assert.equal(claimed?.status, "running");
    assert.equal(claimed?.leaseOwner, "w1");
    assert.ok(Date.parse(claimed!.leaseExpiresAt!) > Date.now() + 50_000);
    assert.equal(claimed?.attempts.length, 1);
    assert.equal(claimed?.attempts[0].attempt, 1);
    assert.equal(claimed?.attempts[0].worker, "w1");
    assert.equal(claimed?.attempts[0].endedAt, undefined);
    assert.deepEqual(await store.getDispatch(record.dispatchId), claimed);
    assert.equal(await store.claimDispatch({ worker: "w2", leaseMs: 60_000 }), undefined);
  });

  test("a session's dispatches are claimed one at a time in acceptance order", async (store) => {
    const a1 = await store.enqueueDispatch(input("a1", sessionKey("a")));
    const a2 = await store.enqueueDispatch(input("a2", sessionKey("a")));
    const b1 = await store.enqueueDispatch(input("b1", sessionKey("b")));
    const claim = () => store.claimDispatch({ worker: "w", leaseMs: 60_000 });
    assert.equal((await claim())?.dispatchId, a1.record.dispatchId);
    assert.equal((await claim())?.dispatchId, b1.record.dispatchId, "another session runs in parallel");
    assert.equal(await claim(), undefined, "a2 waits for a1");
    assert.equal(await store.completeDispatch(a1.record.dispatchId, "w", { text: "done" }), true);
    assert.equal((await claim())?.dispatchId, a2.record.dispatchId);
  });

  test("claims take the head of every session before any second dispatch of one", async (store) => {
    for (const round of [1, 2]) {
      for (const session of ["x", "y", "z"]) {
        await store.enqueueDispatch(input(`${session}${round}`, sessionKey(session)));
      }
    }
    const claimed = [];
    for (let index = 0; index < 4; index++) claimed.push(await store.claimDispatch({ worker: "w", leaseMs: 60_000 }));
    assert.deepEqual(claimed.map(messageOf), ["x1", "y1", "z1", undefined]);
  });

  test("claimDispatch() with agents only claims dispatches of those agents", async (store) => {
    await store.enqueueDispatch(input("for other", { ...KEY, agent: "other" }));
    const mine = await store.enqueueDispatch(input("for me"));
    const claimed = await store.claimDispatch({ worker: "w", leaseMs: 60_000, agents: ["assistant"] });
    assert.equal(claimed?.dispatchId, mine.record.dispatchId);
    assert.equal(await store.claimDispatch({ worker: "w", leaseMs: 60_000, agents: ["nobody"] }), undefined);
    assert.equal(await store.claimDispatch({ worker: "w", leaseMs: 60_000, agents: [] }), undefined);
  });

  test("only the lease holder can renew, complete or fail a dispatch", async (store) => {
    const { record } = await store.enqueueDispatch(input("hello"));
    await store.claimDispatch({ worker: "w1", leaseMs: 60_000 });
    const before = await store.getDispatch(record.dispatchId);
    assert.equal(await store.renewDispatchLease(record.dispatchId, "w2", 60_000), false);
    assert.equal(await store.completeDispatch(record.dispatchId, "w2", "stolen"), false);
    assert.equal(await store.failDispatch(record.dispatchId, "w2", { name: "Error", message: "x" }), false);
    assert.equal(await store.renewDispatchLease("dispatch_missing", "w1", 60_000), false);
    assert.equal(await store.completeDispatch("dispatch_missing", "w1", "x"), false);
    assert.deepEqual(await store.getDispatch(record.dispatchId), before);
  });

  test("renewDispatchLease() extends the lease so no other worker takes the dispatch over", async (store) => {
    const { record } = await store.enqueueDispatch(input("hello"));
    const claimed = await store.claimDispatch({ worker: "w1", leaseMs: 40 });
    assert.equal(await store.renewDispatchLease(record.dispatchId, "w1", 60_000), true);
    const renewed = await store.getDispatch(record.dispatchId);
    assert.ok(Date.parse(renewed!.leaseExpiresAt!) > Date.parse(claimed!.leaseExpiresAt!));
    await waitPast(claimed!.leaseExpiresAt!);
    assert.equal(await store.claimDispatch({ worker: "w2", leaseMs: 60_000 }), undefined);
    assert.equal(await store.completeDispatch(record.dispatchId, "w1", { text: "ok" }), true);
  });

  test("an expired lease is taken over: the old attempt counts and its worker loses the lease", async (store) => {
    const { record } = await store.enqueueDispatch(input("hello"));
    const first = await store.claimDispatch({ worker: "w1", leaseMs: 30 });
    await waitPast(first!.leaseExpiresAt!);
    const second = await store.claimDispatch({ worker: "w2", leaseMs: 60_000 });
    assert.equal(second?.dispatchId, record.dispatchId);
    assert.equal(second?.leaseOwner, "w2");
    assert.deepEqual(second?.attempts.map((attempt) => [attempt.attempt, attempt.worker]), [[1, "w1"], [2, "w2"]]);
    assert.equal(second?.attempts[0].error?.name, "LeaseExpired");
    assert.equal(second?.attempts[0].endedAt, undefined);
    assert.equal(second?.attempts[1].error, undefined);
    assert.equal(await store.renewDispatchLease(record.dispatchId, "w1", 60_000), false);
    assert.equal(await store.completeDispatch(record.dispatchId, "w1", "late"), false);
    assert.equal(await store.completeDispatch(record.dispatchId, "w2", "ok"), true);
    assert.equal((await store.getDispatch(record.dispatchId))?.result, "ok");
  });

  test("a lease that expired but was not taken over still belongs to its worker", async (store) => {
    const { record } = await store.enqueueDispatch(input("hello"));
    const claimed = await store.claimDispatch({ worker: "w1", leaseMs: 20 });
    await waitPast(claimed!.leaseExpiresAt!);
    assert.equal(await store.renewDispatchLease(record.dispatchId, "w1", 60_000), true);
    assert.equal(await store.claimDispatch({ worker: "w2", leaseMs: 60_000 }), undefined);
    assert.equal(await store.completeDispatch(record.dispatchId, "w1", "ok"), true);
  });

  test("an expired lease on the last attempt makes the dispatch dead and frees its session", async (store) => {
    const doomed = await store.enqueueDispatch(input("doomed", KEY, { maxAttempts: 1 }));
    const next = await store.enqueueDispatch(input("next"));
    const claimed = await store.claimDispatch({ worker: "w1", leaseMs: 20 });
    assert.equal(claimed?.dispatchId, doomed.record.dispatchId);
    await waitPast(claimed!.leaseExpiresAt!);
    const after = await store.claimDispatch({ worker: "w2", leaseMs: 60_000 });
    assert.equal(after?.dispatchId, next.record.dispatchId);
    const dead = await store.getDispatch(doomed.record.dispatchId);
    assert.equal(dead?.status, "dead");
    assert.equal(dead?.error?.name, "LeaseExpired");
    assert.ok(dead?.finishedAt);
    assert.equal(dead?.leaseOwner, undefined);
  });

  test("completeDispatch() marks it done with the result and closes the attempt", async (store) => {
    const { record } = await store.enqueueDispatch(input("hello"));
    await store.claimDispatch({ worker: "w1", leaseMs: 60_000 });
    const result = { text: "hi", usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 } };
    assert.equal(await store.completeDispatch(record.dispatchId, "w1", result), true);
    const done = await store.getDispatch(record.dispatchId);
    assert.equal(done?.status, "done");
    assert.deepEqual(done?.result, result);
    assert.ok(done?.finishedAt);
    assert.ok(done?.attempts[0].endedAt);
    assert.equal(done?.leaseOwner, undefined);
    assert.equal(done?.leaseExpiresAt, undefined);
    assert.equal(await store.completeDispatch(record.dispatchId, "w1", "again"), false);
    assert.equal(await store.claimDispatch({ worker: "w1", leaseMs: 60_000 }), undefined);
  });

  test("failDispatch() with retryAt holds the dispatch and its session back until then", async (store) => {
    const { record } = await store.enqueueDispatch(input("flaky"));
    const later = await store.enqueueDispatch(input("later"));
    await store.claimDispatch({ worker: "w1", leaseMs: 60_000 });
    const retryAt = new Date(Date.now() + 60);
    const error = { name: "ModelError", message: "429 Too Many Requests" };
    assert.equal(await store.failDispatch(record.dispatchId, "w1", error, retryAt), true);
    const failed = await store.getDispatch(record.dispatchId);
    assert.equal(failed?.status, "failed");
    assert.equal(failed?.availableAt, retryAt.toISOString());
    assert.deepEqual(failed?.error, error);
    assert.deepEqual(failed?.attempts[0].error, error);
    assert.ok(failed?.attempts[0].endedAt);
    assert.equal(failed?.leaseOwner, undefined);
    assert.equal(await store.claimDispatch({ worker: "w2", leaseMs: 60_000 }), undefined, "backing off");
    await waitPast(retryAt.toISOString());
    const retried = await store.claimDispatch({ worker: "w2", leaseMs: 60_000 });
    assert.equal(retried?.dispatchId, record.dispatchId);
    assert.equal(retried?.attempts.length, 2);
    await store.completeDispatch(record.dispatchId, "w2", "ok");
    assert.equal((await store.getDispatch(record.dispatchId))?.error, undefined);
    assert.equal((await store.claimDispatch({ worker: "w2", leaseMs: 60_000 }))?.dispatchId, later.record.dispatchId);
  });

  test("failDispatch() makes a dispatch dead without retryAt or after its last attempt", async (store) => {
    const permanent = await store.enqueueDispatch(input("bad input", sessionKey("a")));
    await store.claimDispatch({ worker: "w", leaseMs: 60_000 });
    await store.failDispatch(permanent.record.dispatchId, "w", { name: "TypeError", message: "bad" });
    assert.equal((await store.getDispatch(permanent.record.dispatchId))?.status, "dead");

    const flaky = await store.enqueueDispatch(input("flaky", sessionKey("b"), { maxAttempts: 2 }));
    for (const expected of ["failed", "dead"]) {
      const claimed = await store.claimDispatch({ worker: "w", leaseMs: 60_000 });
      assert.equal(claimed?.dispatchId, flaky.record.dispatchId);
      await store.failDispatch(flaky.record.dispatchId, "w", { name: "Error", message: expected }, new Date(0));
      assert.equal((await store.getDispatch(flaky.record.dispatchId))?.status, expected);
    }
    const dead = await store.getDispatch(flaky.record.dispatchId);
    assert.equal(dead?.attempts.length, 2);
    assert.deepEqual(dead?.error, { name: "Error", message: "dead" });
    assert.ok(dead?.finishedAt);
    assert.equal(await store.claimDispatch({ worker: "w", leaseMs: 60_000 }), undefined);
  });

  test("listDispatches() filters by status and session, oldest first, with a limit", async (store) => {
    const ids = [];
    for (const [index, session] of ["a", "b", "a", "c"].entries()) {
      ids.push((await store.enqueueDispatch(input(`m${index}`, sessionKey(session)))).record.dispatchId);
    }
    await store.claimDispatch({ worker: "w", leaseMs: 60_000 });
    await store.failDispatch(ids[0], "w", { name: "Error", message: "x" });
    const idsOf = (records: DispatchRecord[]) => records.map((record) => record.dispatchId);
    assert.deepEqual(idsOf(await store.listDispatches()), ids);
    assert.deepEqual(idsOf(await store.listDispatches({ status: ["dead"] })), [ids[0]]);
    assert.deepEqual(idsOf(await store.listDispatches({ status: ["accepted", "dead"] })), ids);
    assert.deepEqual(idsOf(await store.listDispatches({ status: [] })), []);
    assert.deepEqual(idsOf(await store.listDispatches({ key: sessionKey("a") })), [ids[0], ids[2]]);
    assert.deepEqual(idsOf(await store.listDispatches({ key: sessionKey("a"), status: ["accepted"] })), [ids[2]]);
    assert.deepEqual(idsOf(await store.listDispatches({ limit: 2 })), ids.slice(0, 2));
    assert.deepEqual(await store.listDispatches({ limit: 0 }), []);
  });

  test("replayDispatch() queues a dead dispatch again with a fresh set of attempts", async (store) => {
    const { record } = await store.enqueueDispatch(input("retry me", KEY, { maxAttempts: 2 }));
    await store.claimDispatch({ worker: "w", leaseMs: 60_000 });
    await store.failDispatch(record.dispatchId, "w", { name: "TypeError", message: "bad" });
    assert.equal(await store.replayDispatch(record.dispatchId + "x"), undefined);
    const replayed = await store.replayDispatch(record.dispatchId);
    assert.equal(replayed?.status, "accepted");
    assert.equal(replayed?.maxAttempts, 3, "one attempt used plus the two it was admitted with");
    assert.equal(replayed?.attempts.length, 1);
    assert.equal(replayed?.error, undefined);
    assert.equal(replayed?.finishedAt, undefined);
    assert.deepEqual(await store.getDispatch(record.dispatchId), replayed);
    assert.equal(await store.replayDispatch(record.dispatchId), undefined, "only a dead dispatch can be replayed");
    const claimed = await store.claimDispatch({ worker: "w", leaseMs: 60_000 });
    assert.equal(claimed?.attempts.at(-1)?.attempt, 2);
    await store.failDispatch(record.dispatchId, "w", { name: "TypeError", message: "bad" });
    assert.equal((await store.replayDispatch(record.dispatchId))?.maxAttempts, 4);
  });

  test("concurrent claims never hand out one dispatch twice", async (store) => {
    const ids = new Set<string>();
    for (let index = 0; index < 20; index++) {
      ids.add((await store.enqueueDispatch(input(`m${index}`, sessionKey(`s${index % 10}`)))).record.dispatchId);
    }
    const claimed: string[] = [];
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all(
        Array.from({ length: 15 }, (_, index) => store.claimDispatch({ worker: `w${index}`, leaseMs: 60_000 })),
      );
      const won = results.filter((record) => record !== undefined);
      claimed.push(...won.map((record) => record.dispatchId));
      await Promise.all(won.map((record) => store.completeDispatch(record.dispatchId, record.leaseOwner!, "ok")));
    }
    assert.equal(claimed.length, 20);
    assert.deepEqual(new Set(claimed), ids);
  });

  test("dispatch records are copies, not aliases of the caller's objects", async (store) => {
    const payload = { message: "original" };
    const { record } = await store.enqueueDispatch({ key: KEY, input: payload, maxAttempts: 1 });
    payload.message = "changed input";
    (record.input as { message: string }).message = "changed receipt";
    const read = await store.getDispatch(record.dispatchId);
    assert.deepEqual(read?.input, { message: "original" });
    read!.attempts.push({ attempt: 9, worker: "x", startedAt: "t" });
    assert.deepEqual((await store.getDispatch(record.dispatchId))?.attempts, []);
  });

  test("invalid dispatch arguments are rejected with a TypeError and change nothing", async (store) => {
    await assert.rejects(store.enqueueDispatch({ ...input("x"), maxAttempts: 0 }), TypeError);
    await assert.rejects(store.enqueueDispatch({ ...input("x"), key: { ...KEY, session: "a\u0000b" } }), TypeError);
    await assert.rejects(store.enqueueDispatch({ ...input("x"), idempotencyKey: "" }), TypeError);
    await assert.rejects(store.enqueueDispatch({ ...input("x"), input: { big: 1n } }), TypeError);
    await assert.rejects(store.enqueueDispatch({ ...input("x"), input: undefined }), TypeError);
    assert.deepEqual(await store.listDispatches(), []);
    await assert.rejects(store.claimDispatch({ worker: "", leaseMs: 1000 }), TypeError);
    await assert.rejects(store.claimDispatch({ worker: "w", leaseMs: 0 }), TypeError);
    await assert.rejects(store.listDispatches({ status: ["finished" as "done"] }), TypeError);
    await assert.rejects(store.listDispatches({ limit: -1 }), TypeError);
    const { record } = await store.enqueueDispatch(input("x"));
    await store.claimDispatch({ worker: "w", leaseMs: 60_000 });
    await assert.rejects(store.failDispatch(record.dispatchId, "w", { name: "E" } as never), TypeError);
    await assert.rejects(
      store.failDispatch(record.dispatchId, "w", { name: "E", message: "m" }, new Date(NaN)),
      TypeError,
    );
    assert.equal((await store.getDispatch(record.dispatchId))?.status, "running");
  });
}
