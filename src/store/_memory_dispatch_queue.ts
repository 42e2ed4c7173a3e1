/**
 * The memory store's dispatch queue. Every method is synchronous, so each runs as one step of the event loop and
 * concurrent callers never see each other's partial changes.
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
  isSameSession,
  newDispatchRecord,
  OPEN_STATUSES,
  renewLease,
  replayDead,
  startAttempt,
} from "./_dispatch_state.ts";
import type {
  ClaimOptions,
  DispatchError,
  DispatchQuery,
  DispatchReceipt,
  DispatchRecord,
  NewDispatch,
} from "./dispatch_queue.ts";

interface StoredDispatch {
  record: DispatchRecord;
  /** The `maxAttempts` it was admitted with, which a replay grants again. */
  admittedMaxAttempts: number;
}

/** Dispatches held in memory, in acceptance order. */
export class MemoryDispatchQueue {
  // A Map keeps insertion order, which is acceptance order.
  readonly #byId = new Map<string, StoredDispatch>();
  readonly #byIdempotencyKey = new Map<string, StoredDispatch>();

  /** See `DispatchQueue.enqueueDispatch`. */
  enqueue(dispatch: NewDispatch): DispatchReceipt {
    const checked = checkNewDispatch(dispatch);
    const existing = checked.idempotencyKey === undefined
      ? undefined
      : this.#byIdempotencyKey.get(checked.idempotencyKey);
    if (existing) return { record: structuredClone(existing.record), created: false };
    const stored = { record: newDispatchRecord(checked, Date.now()), admittedMaxAttempts: checked.maxAttempts };
    this.#byId.set(stored.record.dispatchId, stored);
    if (checked.idempotencyKey !== undefined) this.#byIdempotencyKey.set(checked.idempotencyKey, stored);
    return { record: structuredClone(stored.record), created: true };
  }

  /** See `DispatchQueue.claimDispatch`. */
  claim(options: ClaimOptions): DispatchRecord | undefined {
    const { worker, leaseMs, agents } = checkClaimOptions(options);
    const now = Date.now();
    const wanted = agents ? new Set(agents) : undefined;
    // Sessions with an open dispatch already passed: their later dispatches wait.
    const blocked = new Set<string>();
    for (const { record } of this.#byId.values()) {
      if (!OPEN_STATUSES.includes(record.status) || (wanted && !wanted.has(record.key.agent))) continue;
      const session = JSON.stringify([record.key.agent, record.key.instanceId, record.key.session]);
      if (blocked.has(session)) continue;
      if (!isClaimable(record, now) || (record.status === "running" && expireLease(record, now))) {
        // Not yet available, or its expired attempt was its last: a dead one no longer holds its session back.
        if (record.status !== "dead") blocked.add(session);
        continue;
      }
      startAttempt(record, worker, leaseMs, now);
      return structuredClone(record);
    }
    return undefined;
  }

  /** See `DispatchQueue.renewDispatchLease`. */
  renew(dispatchId: string, worker: string, leaseMs: number): boolean {
    checkLeaseCall(dispatchId, worker);
    checkLeaseMs(leaseMs);
    const record = this.#byId.get(dispatchId)?.record;
    if (!holdsLease(record, worker)) return false;
    renewLease(record, leaseMs, Date.now());
    return true;
  }

  /** See `DispatchQueue.completeDispatch`. */
  complete(dispatchId: string, worker: string, result: unknown): boolean {
    checkLeaseCall(dispatchId, worker);
    const record = this.#byId.get(dispatchId)?.record;
    if (!holdsLease(record, worker)) return false;
    completeAttempt(record, result, Date.now());
    return true;
  }

  /** See `DispatchQueue.failDispatch`. */
  fail(dispatchId: string, worker: string, error: DispatchError, retryAt?: Date): boolean {
    checkLeaseCall(dispatchId, worker);
    const checkedError = checkDispatchError(error);
    checkRetryAt(retryAt);
    const record = this.#byId.get(dispatchId)?.record;
    if (!holdsLease(record, worker)) return false;
    failAttempt(record, checkedError, retryAt, Date.now());
    return true;
  }

  /** See `DispatchQueue.getDispatch`. */
  get(dispatchId: string): DispatchRecord | undefined {
    checkDispatchId(dispatchId);
    const stored = this.#byId.get(dispatchId);
    return stored ? structuredClone(stored.record) : undefined;
  }

  /** See `DispatchQueue.listDispatches`. */
  list(query?: DispatchQuery): DispatchRecord[] {
    const { status, key, limit } = checkDispatchQuery(query);
    const matches: DispatchRecord[] = [];
    for (const { record } of this.#byId.values()) {
      if (matches.length >= limit) break;
      if (status && !status.includes(record.status)) continue;
      if (key && !isSameSession(key, record.key)) continue;
      matches.push(record);
    }
    return structuredClone(matches);
  }

  /** See `DispatchQueue.replayDispatch`. */
  replay(dispatchId: string): DispatchRecord | undefined {
    checkDispatchId(dispatchId);
    const stored = this.#byId.get(dispatchId);
    if (stored?.record.status !== "dead") return undefined;
    replayDead(stored.record, stored.admittedMaxAttempts, Date.now());
    return structuredClone(stored.record);
  }

  /** Drops every dispatch. */
  clear(): void {
    this.#byId.clear();
    this.#byIdempotencyKey.clear();
  }
}
