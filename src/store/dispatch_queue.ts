/**
 * The durable dispatch queue every store implements: admission with an idempotency key, per-session FIFO, claims with
 * a renewable lease, retries with backoff, a dead-letter state, and recovery of work whose worker died.
 *
 * Rules every store follows (the shared contract suite, `defineStoreContractTests`, checks them):
 * - Order is acceptance order, a sequence the store assigns at admission (not `acceptedAt`, which can tie).
 * - An idempotency key is unique across the whole store, not per session.
 * - A worker "holds the lease" of a dispatch while it is `running` with that worker as `leaseOwner`, also after the
 *   lease expired, until another claim takes it over: renew, complete and fail succeed until then.
 * - Bad arguments (a malformed key, a `maxAttempts` below 1, an empty worker id, input that is not JSON) reject with a
 *   `TypeError` and change nothing.
 * - Times are the store process's clock (`Date.now()`); ISO 8601 strings in records.
 *
 * @module
 */

import type { SessionKey } from "./store.ts";

/**
 * Where a dispatch stands.
 * - `accepted`: stored, waiting for a worker.
 * - `running`: claimed by a worker whose lease has not expired.
 * - `failed`: an attempt failed; it runs again at `availableAt`.
 * - `done`: handled; `result` is set.
 * - `dead`: out of attempts; listed for inspection and replay.
 */
export type DispatchStatus = "accepted" | "running" | "failed" | "done" | "dead";

/** An error as stored: plain data, secrets already redacted. */
export interface DispatchError {
  /** The error class name. */
  name: string;
  /** The message. */
  message: string;
}

/** One attempt at handling a dispatch. */
export interface DispatchAttempt {
  /** 1 for the first attempt. */
  attempt: number;
  /** The worker that claimed it. */
  worker: string;
  /** ISO 8601 claim time. */
  startedAt: string;
  /** ISO 8601 end time; absent while running, or when the worker died holding the lease. */
  endedAt?: string;
  /** Why the attempt failed, if it did (name `LeaseExpired` when its worker stopped renewing the lease). */
  error?: DispatchError;
}

/** A dispatch before the store accepts it. */
export interface NewDispatch {
  /** The session the input is for. Inputs to one session are handled in acceptance order. */
  key: SessionKey;
  /** The input, such as `{ message: "..." }`. JSON-serialisable. */
  input: unknown;
  /**
   * Makes admission idempotent: a second dispatch with the same key returns the first one's record, whatever its
   * session and input. Unique across the store; 1 to 255 characters.
   */
  idempotencyKey?: string;
  /** Attempts before the dispatch is dead; at least 1. */
  maxAttempts: number;
}

/** A stored dispatch. */
export interface DispatchRecord {
  /** The dispatch id, such as `dispatch_01J...`. */
  dispatchId: string;
  /** The session the input is for. */
  key: SessionKey;
  /** The input. */
  input: unknown;
  /** The idempotency key it was admitted with, if any. */
  idempotencyKey?: string;
  /** Where it stands. */
  status: DispatchStatus;
  /** Attempts before it is dead. */
  maxAttempts: number;
  /** Every attempt so far, oldest first. */
  attempts: DispatchAttempt[];
  /** ISO 8601 admission time. */
  acceptedAt: string;
  /** ISO 8601 time before which it will not be claimed (retry backoff). */
  availableAt: string;
  /** The worker holding the lease while `running`. */
  leaseOwner?: string;
  /** ISO 8601 end of the current lease while `running`. */
  leaseExpiresAt?: string;
  /** The handler's result once `done`. */
  result?: unknown;
  /** The last attempt's error once `failed` or `dead` (also after an expired lease); cleared by `done` and replay. */
  error?: DispatchError;
  /** ISO 8601 time it became `done` or `dead`. */
  finishedAt?: string;
}

/** What admission returns. */
export interface DispatchReceipt {
  /** The stored dispatch (the first one's, for a repeated idempotency key). */
  record: DispatchRecord;
  /** Whether this call created it (false for a repeated idempotency key). */
  created: boolean;
}

/** Options of {@linkcode DispatchQueue.claimDispatch}. */
export interface ClaimOptions {
  /** The claiming worker's id, unique per process. */
  worker: string;
  /** How long the lease lasts unless renewed. */
  leaseMs: number;
  /** Only dispatches for these agents; all when omitted. */
  agents?: readonly string[];
}

/** Filters of {@linkcode DispatchQueue.listDispatches}. */
export interface DispatchQuery {
  /** Only dispatches in these states. */
  status?: readonly DispatchStatus[];
  /** Only dispatches for this session. */
  key?: SessionKey;
  /** At most this many, oldest first; 100 by default. */
  limit?: number;
}

/** The dispatch queue part of a store. */
export interface DispatchQueue {
  /**
   * Stores a dispatch, or returns the existing one with the same idempotency key.
   *
   * @param dispatch The session, input, idempotency key and attempt limit.
   * @returns The stored record and whether it is new.
   */
  enqueueDispatch(dispatch: NewDispatch): Promise<DispatchReceipt>;
  /**
   * Claims the oldest dispatch that may run now, marking it `running` under a lease. A dispatch may run when it is
   * `accepted`, `failed` with `availableAt` passed, or `running` with an expired lease (its worker died: that attempt
   * is closed with a `LeaseExpired` error and counts). Per-session order: a dispatch is never claimed while an older
   * one of the same session is `accepted`, `running` or `failed`. A dispatch whose expired attempt used its last
   * attempt becomes `dead` instead of being claimed. Two concurrent claims never get the same dispatch.
   *
   * @param options The worker, lease length and agent filter.
   * @returns The claimed record (status `running`, a new attempt appended), or `undefined` when none may run.
   */
  claimDispatch(options: ClaimOptions): Promise<DispatchRecord | undefined>;
  /**
   * Extends a lease.
   *
   * @param dispatchId The dispatch.
   * @param worker The worker that holds the lease.
   * @param leaseMs The new lease length from now.
   * @returns Whether the worker still held the lease (false: another worker took it over, stop work).
   */
  renewDispatchLease(dispatchId: string, worker: string, leaseMs: number): Promise<boolean>;
  /**
   * Marks a claimed dispatch `done`.
   *
   * @param dispatchId The dispatch.
   * @param worker The worker that holds the lease.
   * @param result The handler's result (JSON-serialisable).
   * @returns Whether the worker still held the lease.
   */
  completeDispatch(dispatchId: string, worker: string, result: unknown): Promise<boolean>;
  /**
   * Records a failed attempt: `failed` until `retryAt` (a past `retryAt` means now), or `dead` when `retryAt` is
   * omitted or the attempts are used up. The attempt gets `endedAt` and `error`; the lease is cleared.
   *
   * @param dispatchId The dispatch.
   * @param worker The worker that holds the lease.
   * @param error Why it failed.
   * @param retryAt When it may run again.
   * @returns Whether the worker still held the lease.
   */
  failDispatch(dispatchId: string, worker: string, error: DispatchError, retryAt?: Date): Promise<boolean>;
  /**
   * Reads a dispatch.
   *
   * @param dispatchId The dispatch.
   * @returns The record, or `undefined`.
   */
  getDispatch(dispatchId: string): Promise<DispatchRecord | undefined>;
  /**
   * Lists dispatches, oldest first.
   *
   * @param query Filters.
   * @returns The records.
   */
  listDispatches(query?: DispatchQuery): Promise<DispatchRecord[]>;
  /**
   * Puts a `dead` dispatch back in the queue: `accepted`, available now, attempts kept, `error` and `finishedAt`
   * cleared, and `maxAttempts` set to the attempts so far plus the `maxAttempts` it was admitted with, so it gets a
   * fresh set (the store keeps the admitted value for this). It keeps its place in acceptance order.
   *
   * @param dispatchId The dispatch.
   * @returns The updated record, or `undefined` when there is no dead dispatch with that id.
   */
  replayDispatch(dispatchId: string): Promise<DispatchRecord | undefined>;
}
