/**
 * The sqlite store's dispatch queue: its SQL and the conversions between rows and records. Methods are synchronous;
 * the store runs those that read and then write inside one `BEGIN IMMEDIATE` transaction, which holds the file's write
 * lock, so two processes claiming at once take turns and never get the same dispatch.
 *
 * @module
 */

import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
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
  newDispatchRecord,
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

type Row = Record<string, SQLInputValue>;

const OPEN = "('accepted', 'running', 'failed')";

// The first dispatch in acceptance order that may run now and has no older open dispatch in its session. Both lookups
// go through indexes that reach the open dispatches only, so finished ones, however many, cost nothing.
/** The query that finds the next dispatch to claim; exported for its query plan test. */
export const CLAIM_CANDIDATE_SQL: string = `
  SELECT * FROM dispatches AS candidate
  WHERE candidate.status IN ${OPEN}
    AND CASE candidate.status WHEN 'running' THEN candidate.lease_expires_at ELSE candidate.available_at END <= ?1
    AND (?2 IS NULL OR candidate.agent IN (SELECT value FROM json_each(?2)))
    AND NOT EXISTS (
      SELECT 1 FROM dispatches AS earlier
      WHERE earlier.status IN ${OPEN} AND earlier.agent = candidate.agent
        AND earlier.instance_id = candidate.instance_id AND earlier.session = candidate.session
        AND earlier.seq < candidate.seq
    )
  ORDER BY candidate.seq LIMIT 1`;

/** The dispatches table of one connection. */
export class SqliteDispatchQueue {
  readonly #insert: StatementSync;
  readonly #byId: StatementSync;
  readonly #byIdempotencyKey: StatementSync;
  readonly #candidate: StatementSync;
  readonly #update: StatementSync;
  readonly #renew: StatementSync;
  readonly #list: StatementSync;

  /** Prepares the statements once per connection. */
  constructor(db: DatabaseSync) {
    this.#insert = db.prepare(
      `INSERT INTO dispatches (dispatch_id, agent, instance_id, session, input, idempotency_key, status, max_attempts,
       admitted_max_attempts, attempts, accepted_at, available_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)`,
    );
    this.#byId = db.prepare("SELECT * FROM dispatches WHERE dispatch_id = ?");
    this.#byIdempotencyKey = db.prepare("SELECT * FROM dispatches WHERE idempotency_key = ?");
    this.#candidate = db.prepare(CLAIM_CANDIDATE_SQL);
    this.#update = db.prepare(
      `UPDATE dispatches SET status = ?, max_attempts = ?, attempts = ?, available_at = ?, lease_owner = ?,
       lease_expires_at = ?, result = ?, error = ?, finished_at = ? WHERE dispatch_id = ?`,
    );
    this.#renew = db.prepare(
      "UPDATE dispatches SET lease_expires_at = ? WHERE dispatch_id = ? AND status = 'running' AND lease_owner = ?",
    );
    this.#list = db.prepare(
      `SELECT * FROM dispatches
       WHERE (?1 IS NULL OR status IN (SELECT value FROM json_each(?1)))
         AND (?2 IS NULL OR (agent = ?2 AND instance_id = ?3 AND session = ?4))
       ORDER BY seq LIMIT ?5`,
    );
  }

  /** Admits a dispatch; run inside a transaction, so a repeated idempotency key finds the first one. */
  enqueue(dispatch: NewDispatch): DispatchReceipt {
    const checked = checkNewDispatch(dispatch);
    if (checked.idempotencyKey !== undefined) {
      const row = this.#byIdempotencyKey.get(checked.idempotencyKey);
      if (row !== undefined) return { record: toDispatchRecord(row), created: false };
    }
    const record = newDispatchRecord(checked, Date.now());
    this.#insert.run(
      record.dispatchId,
      record.key.agent,
      record.key.instanceId,
      record.key.session,
      JSON.stringify(record.input),
      record.idempotencyKey ?? null,
      record.status,
      record.maxAttempts,
      record.maxAttempts,
      record.acceptedAt,
      Date.parse(record.availableAt),
    );
    return { record, created: true };
  }

  /** Claims the next dispatch; run inside a transaction. */
  claim(options: ClaimOptions): DispatchRecord | undefined {
    const { worker, leaseMs, agents } = checkClaimOptions(options);
    const now = Date.now();
    const agentsJson = agents === undefined ? null : JSON.stringify(agents);
    // Each pass either claims or turns one expired dispatch dead, so the loop ends within the open dispatches' count.
    for (;;) {
      const row = this.#candidate.get(now, agentsJson);
      if (row === undefined) return undefined;
      const record = toDispatchRecord(row);
      if (record.status === "running" && expireLease(record, now)) {
        this.#save(record);
        continue;
      }
      startAttempt(record, worker, leaseMs, now);
      this.#save(record);
      return record;
    }
  }

  /** Extends a lease in one statement. */
  renew(dispatchId: string, worker: string, leaseMs: number): boolean {
    checkLeaseCall(dispatchId, worker);
    checkLeaseMs(leaseMs);
    return Number(this.#renew.run(Date.now() + leaseMs, dispatchId, worker).changes) > 0;
  }

  /** Marks a dispatch done; run inside a transaction. */
  complete(dispatchId: string, worker: string, result: unknown): boolean {
    checkLeaseCall(dispatchId, worker);
    const record = this.get(dispatchId);
    if (!holdsLease(record, worker)) return false;
    completeAttempt(record, result, Date.now());
    this.#save(record);
    return true;
  }

  /** Records a failed attempt; run inside a transaction. */
  fail(dispatchId: string, worker: string, error: DispatchError, retryAt?: Date): boolean {
    checkLeaseCall(dispatchId, worker);
    const checkedError = checkDispatchError(error);
    checkRetryAt(retryAt);
    const record = this.get(dispatchId);
    if (!holdsLease(record, worker)) return false;
    failAttempt(record, checkedError, retryAt, Date.now());
    this.#save(record);
    return true;
  }

  /** Reads a dispatch. */
  get(dispatchId: string): DispatchRecord | undefined {
    checkDispatchId(dispatchId);
    const row = this.#byId.get(dispatchId);
    return row === undefined ? undefined : toDispatchRecord(row);
  }

  /** Lists dispatches in acceptance order. */
  list(query?: DispatchQuery): DispatchRecord[] {
    const { status, key, limit } = checkDispatchQuery(query);
    return this.#list.all(
      status === undefined ? null : JSON.stringify(status),
      key?.agent ?? null,
      key?.instanceId ?? null,
      key?.session ?? null,
      limit,
    ).map(toDispatchRecord);
  }

  /** Puts a dead dispatch back in the queue; run inside a transaction. */
  replay(dispatchId: string): DispatchRecord | undefined {
    checkDispatchId(dispatchId);
    const row = this.#byId.get(dispatchId);
    if (row === undefined || row.status !== "dead") return undefined;
    const record = toDispatchRecord(row);
    replayDead(record, Number(row.admitted_max_attempts), Date.now());
    this.#save(record);
    return record;
  }

  #save(record: DispatchRecord): void {
    this.#update.run(
      record.status,
      record.maxAttempts,
      JSON.stringify(record.attempts),
      Date.parse(record.availableAt),
      record.leaseOwner ?? null,
      record.leaseExpiresAt === undefined ? null : Date.parse(record.leaseExpiresAt),
      record.result === undefined ? null : JSON.stringify(record.result),
      record.error === undefined ? null : JSON.stringify(record.error),
      record.finishedAt ?? null,
      record.dispatchId,
    );
  }
}

function toDispatchRecord(row: Row): DispatchRecord {
  const record: DispatchRecord = {
    dispatchId: String(row.dispatch_id),
    key: { agent: String(row.agent), instanceId: String(row.instance_id), session: String(row.session) },
    input: JSON.parse(String(row.input)),
    status: String(row.status) as DispatchRecord["status"],
    maxAttempts: Number(row.max_attempts),
    attempts: JSON.parse(String(row.attempts)),
    acceptedAt: String(row.accepted_at),
    availableAt: new Date(Number(row.available_at)).toISOString(),
  };
  if (row.idempotency_key !== null) record.idempotencyKey = String(row.idempotency_key);
  if (row.lease_owner !== null) record.leaseOwner = String(row.lease_owner);
  if (row.lease_expires_at !== null) record.leaseExpiresAt = new Date(Number(row.lease_expires_at)).toISOString();
  if (row.result !== null) record.result = JSON.parse(String(row.result));
  if (row.error !== null) record.error = JSON.parse(String(row.error));
  if (row.finished_at !== null) record.finishedAt = String(row.finished_at);
  return record;
}
