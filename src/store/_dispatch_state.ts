/**
 * The dispatch queue's input checks and state changes, shared by the stores so that each one accepts the same input,
 * moves a dispatch through the same states and fills the same fields. A store finds the records (in memory, by SQL)
 * and applies these changes inside its own atomic step.
 *
 * @module
 */

import { newId } from "../_id.ts";
import type {
  ClaimOptions,
  DispatchError,
  DispatchQuery,
  DispatchRecord,
  DispatchStatus,
  NewDispatch,
} from "./dispatch_queue.ts";
import { assertSessionKey, copyJsonValue } from "./_store_input.ts";
import type { SessionKey } from "./store.ts";

const STATUSES: ReadonlySet<string> = new Set<DispatchStatus>(["accepted", "running", "failed", "done", "dead"]);

/** The states that hold back later dispatches of their session. */
export const OPEN_STATUSES: readonly DispatchStatus[] = ["accepted", "running", "failed"];

/** The most dispatches one `listDispatches` call returns when no limit is given. */
export const DEFAULT_LIST_LIMIT = 100;

/** The name of the error that closes an attempt whose worker stopped renewing its lease. */
export const LEASE_EXPIRED = "LeaseExpired";

function quote(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function assertText(value: unknown, what: string, maxLength = 1000): asserts value is string {
  if (typeof value !== "string" || value === "" || value.length > maxLength) {
    throw new TypeError(`The ${what} must be a string of 1 to ${maxLength} characters, got ${quote(value)}`);
  }
  if (value.includes("\u0000") || !value.isWellFormed()) {
    throw new TypeError(`The ${what} ${quote(value)} contains a NUL character or a lone surrogate: remove it`);
  }
}

/** Checks a new dispatch and returns the stored form of its fields. */
export function checkNewDispatch(dispatch: NewDispatch): NewDispatch {
  if (typeof dispatch !== "object" || dispatch === null) {
    throw new TypeError(`A dispatch must be an object, got ${quote(dispatch)}`);
  }
  assertSessionKey(dispatch.key);
  if (dispatch.idempotencyKey !== undefined) assertText(dispatch.idempotencyKey, "idempotency key", 255);
  const { maxAttempts } = dispatch;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new TypeError(`maxAttempts must be a whole number of at least 1, got ${quote(maxAttempts)}`);
  }
  if (dispatch.input === undefined) throw new TypeError('A dispatch needs an input, such as { message: "..." }');
  const { agent, instanceId, session } = dispatch.key;
  return {
    key: { agent, instanceId, session },
    input: copyJsonValue(dispatch.input, "The dispatch input"),
    idempotencyKey: dispatch.idempotencyKey,
    maxAttempts,
  };
}

/** Checks the options of a claim. */
export function checkClaimOptions(options: ClaimOptions): ClaimOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Claim options must be an object, got ${quote(options)}`);
  }
  assertText(options.worker, "worker id", 255);
  checkLeaseMs(options.leaseMs);
  const { agents } = options;
  if (agents !== undefined && (!Array.isArray(agents) || !agents.every((agent) => typeof agent === "string"))) {
    throw new TypeError(`The claim's "agents" must be an array of agent names, got ${quote(agents)}`);
  }
  return { worker: options.worker, leaseMs: options.leaseMs, agents: agents ? [...agents] : undefined };
}

/** Checks a lease length in milliseconds. */
export function checkLeaseMs(leaseMs: unknown): asserts leaseMs is number {
  if (typeof leaseMs !== "number" || !Number.isSafeInteger(leaseMs) || leaseMs < 1) {
    throw new TypeError(`leaseMs must be a whole number of milliseconds of at least 1, got ${quote(leaseMs)}`);
  }
}

/** Checks the dispatch id and worker id of a lease holder's call. */
export function checkLeaseCall(dispatchId: unknown, worker: unknown): void {
  checkDispatchId(dispatchId);
  assertText(worker, "worker id", 255);
}

/** Checks a dispatch id. */
export function checkDispatchId(dispatchId: unknown): asserts dispatchId is string {
  assertText(dispatchId, "dispatch id", 255);
}

/** Checks and copies a stored error. */
export function checkDispatchError(error: DispatchError): DispatchError {
  if (
    typeof error !== "object" || error === null || typeof error.name !== "string" || typeof error.message !== "string"
  ) {
    throw new TypeError(`A dispatch error must be { name, message } strings, got ${quote(error)}`);
  }
  return { name: error.name, message: error.message };
}

/** Checks a retry time. */
export function checkRetryAt(retryAt: unknown): asserts retryAt is Date | undefined {
  if (retryAt !== undefined && (!(retryAt instanceof Date) || Number.isNaN(retryAt.getTime()))) {
    throw new TypeError(`retryAt must be a valid Date, got ${quote(retryAt)}`);
  }
}

/** The checked form of a {@linkcode DispatchQuery}. */
export interface CheckedDispatchQuery {
  /** Only these states, when given. */
  status?: readonly DispatchStatus[];
  /** Only this session, when given. */
  key?: SessionKey;
  /** At most this many. */
  limit: number;
}

/** Checks a list query and fills in its defaults. */
export function checkDispatchQuery(query: DispatchQuery | undefined): CheckedDispatchQuery {
  if (query === undefined) return { limit: DEFAULT_LIST_LIMIT };
  if (typeof query !== "object" || query === null) {
    throw new TypeError(`A dispatch query must be an object, got ${quote(query)}`);
  }
  const { status, key, limit = DEFAULT_LIST_LIMIT } = query;
  if (status !== undefined && (!Array.isArray(status) || !status.every((item) => STATUSES.has(item)))) {
    throw new TypeError(`The query's "status" must be an array of ${[...STATUSES].join(", ")}, got ${quote(status)}`);
  }
  if (key !== undefined) assertSessionKey(key);
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new TypeError(`The query's "limit" must be a non-negative integer, got ${quote(limit)}`);
  }
  return { status, key, limit };
}

/** Builds the record of a newly admitted dispatch. */
export function newDispatchRecord(dispatch: NewDispatch, now: number): DispatchRecord {
  const acceptedAt = new Date(now).toISOString();
  const record: DispatchRecord = {
    dispatchId: newId("dispatch"),
    key: dispatch.key,
    input: dispatch.input,
    status: "accepted",
    maxAttempts: dispatch.maxAttempts,
    attempts: [],
    acceptedAt,
    availableAt: acceptedAt,
  };
  if (dispatch.idempotencyKey !== undefined) record.idempotencyKey = dispatch.idempotencyKey;
  return record;
}

/** Whether a claim at `now` may take the record, its session's order aside. */
export function isClaimable(record: DispatchRecord, now: number): boolean {
  if (record.status === "running") return Date.parse(record.leaseExpiresAt!) <= now;
  return (record.status === "accepted" || record.status === "failed") && Date.parse(record.availableAt) <= now;
}

/**
 * Closes the attempt of a worker whose lease expired. The attempt counts: when it was the last one the dispatch is
 * dead, otherwise it may be claimed again.
 *
 * @returns Whether the dispatch is now dead.
 */
export function expireLease(record: DispatchRecord, now: number): boolean {
  const attempt = record.attempts.at(-1);
  if (attempt) {
    attempt.error = {
      name: LEASE_EXPIRED,
      message: `Worker "${attempt.worker}" stopped renewing its lease, so it stopped or stalled`,
    };
    record.error = attempt.error;
  }
  clearLease(record);
  if (record.attempts.length < record.maxAttempts) return false;
  record.status = "dead";
  record.finishedAt = new Date(now).toISOString();
  return true;
}

/** Marks the record `running` for `worker` and appends its attempt. */
export function startAttempt(record: DispatchRecord, worker: string, leaseMs: number, now: number): void {
  record.status = "running";
  record.leaseOwner = worker;
  record.leaseExpiresAt = new Date(now + leaseMs).toISOString();
  record.attempts.push({ attempt: record.attempts.length + 1, worker, startedAt: new Date(now).toISOString() });
}

/** Whether `worker` still holds the lease: the dispatch runs and nobody else has claimed it since, expired or not. */
export function holdsLease(record: DispatchRecord | undefined, worker: string): record is DispatchRecord {
  return record?.status === "running" && record.leaseOwner === worker;
}

/** Extends the lease to `leaseMs` from now. */
export function renewLease(record: DispatchRecord, leaseMs: number, now: number): void {
  record.leaseExpiresAt = new Date(now + leaseMs).toISOString();
}

/** Marks the record `done` with the handler's result. */
export function completeAttempt(record: DispatchRecord, result: unknown, now: number): void {
  const finishedAt = new Date(now).toISOString();
  record.attempts.at(-1)!.endedAt = finishedAt;
  record.status = "done";
  record.finishedAt = finishedAt;
  delete record.error;
  if (result === undefined) delete record.result;
  else record.result = copyJsonValue(result, "The dispatch result");
  clearLease(record);
}

/** Records a failed attempt: `failed` until `retryAt`, or `dead` without one or without attempts left. */
export function failAttempt(
  record: DispatchRecord,
  error: DispatchError,
  retryAt: Date | undefined,
  now: number,
): void {
  const endedAt = new Date(now).toISOString();
  const attempt = record.attempts.at(-1)!;
  attempt.endedAt = endedAt;
  attempt.error = error;
  record.error = error;
  clearLease(record);
  if (retryAt !== undefined && record.attempts.length < record.maxAttempts) {
    record.status = "failed";
    record.availableAt = new Date(Math.max(retryAt.getTime(), now)).toISOString();
  } else {
    record.status = "dead";
    record.finishedAt = endedAt;
  }
}

/** Puts a dead record back in the queue with as many fresh attempts as it was admitted with. */
export function replayDead(record: DispatchRecord, admittedMaxAttempts: number, now: number): void {
  record.status = "accepted";
  record.availableAt = new Date(now).toISOString();
  record.maxAttempts = record.attempts.length + admittedMaxAttempts;
  delete record.error;
  delete record.finishedAt;
}

function clearLease(record: DispatchRecord): void {
  delete record.leaseOwner;
  delete record.leaseExpiresAt;
}

/** Whether two session keys are the same session. */
export function isSameSession(left: SessionKey, right: SessionKey): boolean {
  return left.agent === right.agent && left.instanceId === right.instanceId && left.session === right.session;
}
