/**
 * The kv store's dispatch queue. Every change reads what it depends on and commits with checks on those versions, so
 * two isolates or processes never both win: two claims of one dispatch, an enqueue racing a repeated idempotency key,
 * a completion racing a new dispatch of its session. The claim index (`claimable`) holds one entry per session, its
 * head (oldest open dispatch), keyed by acceptance position with the time it may run (`readyAt`: `availableAt`, or the
 * lease's end while running), so a claim walks it in acceptance order and takes the first entry that is ready; later
 * dispatches of a session wait in `open-dispatch` until their head is done or dead. The session queue's guard changes
 * with every change to its open dispatches, which keeps the index and the queue in step.
 *
 * @module
 */

import {
  checkClaimOptions,
  checkDispatchError,
  checkDispatchId,
  checkDispatchQuery,
  checkLeaseCall,
  checkLeaseMs,
  checkNewDispatch,
  checkRetryAt,
  completeAttempt,
  expireLease,
  failAttempt,
  holdsLease,
  isClaimable,
  newDispatchRecord,
  renewLease,
  replayDead,
  startAttempt,
} from "./_dispatch_state.ts";
import {
  assertSessionKeyFits,
  claimableKey,
  claimablePrefix,
  dispatchCounterKey,
  dispatchesPrefix,
  dispatchIdKey,
  dispatchInputKey,
  dispatchKey,
  idempotencyKey,
  openDispatchKey,
  sessionDispatchKey,
  sessionQueueKey,
} from "./_kv_keys.ts";
import {
  asRecord,
  type Claimable,
  claimableOf,
  commitChange,
  commitFinish,
  commitWith,
  decode,
  type DispatchState,
  load,
  type Loaded,
  positionOf,
  readDispatch,
  type SessionQueue,
  withInput,
} from "./_kv_dispatch_records.ts";
import { retryOnConflict, type StoredJson, WritePlan } from "./_kv_values.ts";
import type {
  ClaimOptions,
  DispatchError,
  DispatchQuery,
  DispatchReceipt,
  DispatchRecord,
  NewDispatch,
} from "./dispatch_queue.ts";

// Expired leases whose last attempt is used up turn dead one per pass; past this many the claim tries again later.
const MAX_CLAIM_PASSES = 1000;

/** Admits a dispatch; a repeated idempotency key returns the first one, even when both arrive at once. */
export async function enqueueDispatch(kv: Deno.Kv, dispatch: NewDispatch): Promise<DispatchReceipt> {
  const checked = checkNewDispatch(dispatch);
  assertSessionKeyFits(checked.key);
  const { input, ...record } = newDispatchRecord(checked, Date.now());
  const plan = new WritePlan(kv);
  const storedInput = plan.json(input, "The dispatch input");
  const state: DispatchState = { record, admittedMaxAttempts: checked.maxAttempts };
  const storedState = plan.json(state, "The dispatch");
  const idempotency = checked.idempotencyKey === undefined ? undefined : idempotencyKey(checked.idempotencyKey);
  const { key } = record;
  let created = false;
  try {
    const position = await retryOnConflict("enqueue a dispatch", async () => {
      const [counter, queue, earlier] = await kv.getMany<[number, SessionQueue, number]>(
        [dispatchCounterKey, sessionQueueKey(key), idempotency ?? dispatchCounterKey],
      );
      if (idempotency && earlier.value !== null) return { done: earlier.value };
      const position = (counter.value ?? 0) + 1;
      const operation = kv.atomic().check(counter, queue)
        .set(dispatchCounterKey, position)
        .set(dispatchKey(position), storedState)
        .set(dispatchInputKey(position), storedInput)
        .set(dispatchIdKey(record.dispatchId), position)
        .set(sessionDispatchKey(key, position), record.dispatchId)
        .set(openDispatchKey(key, position), record.dispatchId);
      if (idempotency) operation.check({ key: idempotency, versionstamp: null }).set(idempotency, position);
      if (queue.value === null) {
        operation.set(sessionQueueKey(key), { open: 1, head: position } satisfies SessionQueue)
          .set(claimableKey(position), claimableOf(record));
      } else {
        operation.set(sessionQueueKey(key), { ...queue.value, open: queue.value.open + 1 } satisfies SessionQueue);
      }
      if (!(await plan.commit(operation)).ok) return undefined;
      created = true;
      return { done: position };
    });
    if (created) return { record: { ...structuredClone(record), input: structuredClone(input) }, created };
    return { record: (await readDispatch(kv, position))!, created };
  } finally {
    if (!created) await plan.discard();
  }
}

/** Claims the first ready session head in acceptance order, checked against the versions it read. */
export async function claimDispatch(kv: Deno.Kv, options: ClaimOptions): Promise<DispatchRecord | undefined> {
  const { worker, leaseMs, agents } = checkClaimOptions(options);
  const wanted = agents === undefined ? undefined : new Set(agents);
  if (wanted?.size === 0) return undefined;
  let conflicts = 0;
  for (let pass = 0; pass < MAX_CLAIM_PASSES; pass++) {
    const now = Date.now();
    const position = await firstReady(kv, now, wanted);
    if (position === undefined) return undefined;
    const loaded = await load(kv, position);
    const record = loaded && asRecord(loaded.state);
    if (loaded === undefined || loaded.claimable.value === null || !isClaimable(record!, now)) {
      await backOff(conflicts++);
      continue;
    }
    if (record!.status === "running" && expireLease(record!, now)) {
      // Its expired attempt was its last: it is dead, and the next dispatch of its session becomes the head.
      if (!await commitFinish(kv, loaded)) await backOff(conflicts++);
      continue;
    }
    startAttempt(record!, worker, leaseMs, now);
    if (await commitChange(kv, loaded)) return await withInput(kv, position, loaded.state);
    await backOff(conflicts++);
  }
  return undefined;
}

async function firstReady(kv: Deno.Kv, now: number, wanted: ReadonlySet<string> | undefined) {
  for await (const entry of kv.list<Claimable>({ prefix: claimablePrefix })) {
    if (entry.value.readyAt <= now && (wanted === undefined || wanted.has(entry.value.agent))) {
      return entry.key.at(-1) as number;
    }
  }
  return undefined;
}

function backOff(conflicts: number): Promise<void> {
  const ceiling = Math.min(2 ** Math.min(conflicts, 6), 50);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/** Runs a change of a dispatch the worker holds the lease of; false when it no longer does. */
function changeHeld(
  kv: Deno.Kv,
  dispatchId: string,
  worker: string,
  what: string,
  change: (loaded: Loaded, record: DispatchRecord, now: number) => Promise<boolean>,
): Promise<boolean> {
  return retryOnConflict(`${what} dispatch "${dispatchId}"`, async () => {
    const position = await positionOf(kv, dispatchId);
    const loaded = position === undefined ? undefined : await load(kv, position);
    if (loaded === undefined || !holdsLease(asRecord(loaded.state), worker)) return { done: false };
    return await change(loaded, asRecord(loaded.state), Date.now()) ? { done: true } : undefined;
  });
}

/** Extends a lease the worker holds. */
export function renewDispatchLease(kv: Deno.Kv, dispatchId: string, worker: string, leaseMs: number): Promise<boolean> {
  checkLeaseCall(dispatchId, worker);
  checkLeaseMs(leaseMs);
  return changeHeld(kv, dispatchId, worker, "renew the lease of", (loaded, record, now) => {
    renewLease(record, leaseMs, now);
    return commitChange(kv, loaded);
  });
}

/** Marks a dispatch done when the worker still holds its lease. */
export function completeDispatch(kv: Deno.Kv, dispatchId: string, worker: string, result: unknown): Promise<boolean> {
  checkLeaseCall(dispatchId, worker);
  return changeHeld(kv, dispatchId, worker, "complete", (loaded, record, now) => {
    completeAttempt(record, result, now);
    return commitFinish(kv, loaded);
  });
}

/** Records a failed attempt when the worker still holds its lease. */
export function failDispatch(
  kv: Deno.Kv,
  dispatchId: string,
  worker: string,
  error: DispatchError,
  retryAt: Date | undefined,
): Promise<boolean> {
  checkLeaseCall(dispatchId, worker);
  const checkedError = checkDispatchError(error);
  checkRetryAt(retryAt);
  return changeHeld(kv, dispatchId, worker, "record a failure of", (loaded, record, now) => {
    failAttempt(record, checkedError, retryAt, now);
    return record.status === "dead" ? commitFinish(kv, loaded) : commitChange(kv, loaded);
  });
}

/** Reads a dispatch. */
export async function getDispatch(kv: Deno.Kv, dispatchId: string): Promise<DispatchRecord | undefined> {
  checkDispatchId(dispatchId);
  const position = await positionOf(kv, dispatchId);
  return position === undefined ? undefined : await readDispatch(kv, position);
}

/** Lists dispatches in acceptance order: a session's through its index, all of them by walking the records. */
export async function listDispatches(kv: Deno.Kv, query?: DispatchQuery): Promise<DispatchRecord[]> {
  const { status, key, limit } = checkDispatchQuery(query);
  if (key !== undefined) assertSessionKeyFits(key);
  const wanted = status === undefined ? undefined : new Set(status);
  const records: DispatchRecord[] = [];
  if (limit === 0 || wanted?.size === 0) return records;
  const positions = key === undefined
    ? kv.list<StoredJson>({ prefix: dispatchesPrefix })
    : kv.list<string>({ prefix: sessionDispatchKey(key) });
  for await (const entry of positions) {
    // The walk over all records also meets each input, stored right after its state.
    if (entry.key.length !== (key === undefined ? 3 : 6)) continue;
    const position = entry.key.at(-1) as number;
    const loaded = key === undefined ? await decode(kv, position, entry as Deno.KvEntry<StoredJson>) : undefined;
    const state = loaded ?? (await load(kv, position))?.state;
    if (state === undefined || (wanted !== undefined && !wanted.has(state.record.status))) continue;
    records.push(await withInput(kv, position, state));
    if (records.length >= limit) break;
  }
  return records;
}

/** Puts a dead dispatch back in its session's queue; it becomes the head again when it is the oldest open one. */
export async function replayDispatch(kv: Deno.Kv, dispatchId: string): Promise<DispatchRecord | undefined> {
  checkDispatchId(dispatchId);
  return await retryOnConflict(`replay dispatch "${dispatchId}"`, async () => {
    const position = await positionOf(kv, dispatchId);
    const loaded = position === undefined ? undefined : await load(kv, position);
    if (loaded === undefined || loaded.state.record.status !== "dead") return { done: undefined };
    const { record, admittedMaxAttempts } = loaded.state;
    replayDead(record as DispatchRecord, admittedMaxAttempts, Date.now());
    const queueKey = sessionQueueKey(record.key);
    const queue = await kv.get<SessionQueue>(queueKey);
    const plan = new WritePlan(kv);
    const operation = kv.atomic().check(loaded.stateEntry, loaded.claimable, queue)
      .set(loaded.stateEntry.key, plan.json(loaded.state, "The dispatch"))
      .set(openDispatchKey(record.key, loaded.position), dispatchId);
    const head = queue.value === null ? loaded.position : Math.min(queue.value.head, loaded.position);
    operation.set(queueKey, { open: (queue.value?.open ?? 0) + 1, head } satisfies SessionQueue);
    if (head === loaded.position) {
      if (queue.value !== null) operation.delete(claimableKey(queue.value.head));
      operation.set(claimableKey(loaded.position), claimableOf(record));
    }
    if (!await commitWith(kv, plan, operation, loaded)) return undefined;
    return { done: await withInput(kv, loaded.position, loaded.state) };
  });
}
