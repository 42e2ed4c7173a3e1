/**
 * The postgres store's dispatch queue. Claims lock the candidate row with `FOR UPDATE SKIP LOCKED`, so workers on any
 * number of machines claim in parallel and never get the same dispatch; a dispatch waits while an older one of its
 * session is open, so each session's inputs run in acceptance order. Times come from the database server's clock, so
 * machines whose clocks disagree still agree on when a lease has expired.
 *
 * @module
 */

import type { Sql, TransactionSql } from "postgres";
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
import type { Tables } from "./_postgres_schema.ts";
import type {
  ClaimOptions,
  DispatchError,
  DispatchQuery,
  DispatchReceipt,
  DispatchRecord,
  NewDispatch,
} from "./dispatch_queue.ts";

type Query = Sql | TransactionSql;
type Row = Record<string, unknown>;

// Expired leases whose last attempt is used up turn dead one per pass; past this many the claim tries again later.
const MAX_EXPIRED_PER_CLAIM = 1000;

/** The database server's time in milliseconds since the epoch. */
async function databaseNow(sql: Query): Promise<number> {
  const [row] = await sql`SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now`;
  return Number(row.now);
}

/** Admits a dispatch; a repeated idempotency key returns the first one, even when both arrive at once. */
export async function enqueueDispatch(sql: Sql, t: Tables, dispatch: NewDispatch): Promise<DispatchReceipt> {
  const checked = checkNewDispatch(dispatch);
  const record = newDispatchRecord(checked, await databaseNow(sql));
  const inserted = await sql`
    INSERT INTO ${t.dispatches} ${
    sql({
      dispatch_id: record.dispatchId,
      agent: record.key.agent,
      instance_id: record.key.instanceId,
      session: record.key.session,
      input: JSON.stringify(record.input),
      idempotency_key: record.idempotencyKey ?? null,
      status: record.status,
      max_attempts: record.maxAttempts,
      admitted_max_attempts: record.maxAttempts,
      attempts: "[]",
      accepted_at: record.acceptedAt,
      available_at: record.availableAt,
    })
  }
    ON CONFLICT (idempotency_key) DO NOTHING RETURNING 1`;
  if (inserted.length > 0) return { record, created: true };
  // ON CONFLICT waited for the first insert to commit, so this statement sees it.
  const [row] = await sql`SELECT * FROM ${t.dispatches} WHERE idempotency_key = ${record.idempotencyKey!}`;
  return { record: toDispatchRecord(row), created: false };
}

/** Claims the next dispatch that may run, in one transaction. */
export async function claimDispatch(sql: Sql, t: Tables, options: ClaimOptions): Promise<DispatchRecord | undefined> {
  const { worker, leaseMs, agents } = checkClaimOptions(options);
  return await sql.begin(async (tx) => {
    const now = await databaseNow(tx);
    for (let pass = 0; pass < MAX_EXPIRED_PER_CLAIM; pass++) {
      const [row] = await tx`
        SELECT * FROM ${t.dispatches} AS candidate
        WHERE candidate.status IN ('accepted', 'running', 'failed')
          AND CASE candidate.status WHEN 'running' THEN candidate.lease_expires_at ELSE candidate.available_at END
            <= ${new Date(now).toISOString()}::timestamptz
          ${agents === undefined ? tx`` : tx`AND candidate.agent = ANY(${tx.array(agents as string[])}::text[])`}
          AND NOT EXISTS (
            SELECT 1 FROM ${t.dispatches} AS earlier
            WHERE earlier.status IN ('accepted', 'running', 'failed') AND earlier.agent = candidate.agent
              AND earlier.instance_id = candidate.instance_id AND earlier.session = candidate.session
              AND earlier.position < candidate.position
          )
        ORDER BY candidate.position
        LIMIT 1
        FOR UPDATE SKIP LOCKED`;
      if (row === undefined) return undefined;
      const record = toDispatchRecord(row);
      if (record.status === "running" && expireLease(record, now)) {
        await save(tx, t, record);
        continue;
      }
      startAttempt(record, worker, leaseMs, now);
      await save(tx, t, record);
      return record;
    }
    return undefined;
  });
}

/** Extends a lease in one statement, from the database's clock. */
export async function renewDispatchLease(
  sql: Sql,
  t: Tables,
  dispatchId: string,
  worker: string,
  leaseMs: number,
): Promise<boolean> {
  checkLeaseCall(dispatchId, worker);
  checkLeaseMs(leaseMs);
  const renewed = await sql`
    UPDATE ${t.dispatches} SET lease_expires_at = clock_timestamp() + make_interval(secs => ${leaseMs / 1000})
    WHERE dispatch_id = ${dispatchId} AND status = 'running' AND lease_owner = ${worker}
    RETURNING 1`;
  return renewed.length > 0;
}

/** Marks a dispatch done when the worker still holds its lease. */
export async function completeDispatch(
  sql: Sql,
  t: Tables,
  dispatchId: string,
  worker: string,
  result: unknown,
): Promise<boolean> {
  checkLeaseCall(dispatchId, worker);
  return await changeLocked(sql, t, dispatchId, (record, now) => {
    if (!holdsLease(record, worker)) return false;
    completeAttempt(record, result, now);
    return true;
  });
}

/** Records a failed attempt when the worker still holds its lease. */
export async function failDispatch(
  sql: Sql,
  t: Tables,
  dispatchId: string,
  worker: string,
  error: DispatchError,
  retryAt: Date | undefined,
): Promise<boolean> {
  checkLeaseCall(dispatchId, worker);
  const checkedError = checkDispatchError(error);
  checkRetryAt(retryAt);
  return await changeLocked(sql, t, dispatchId, (record, now) => {
    if (!holdsLease(record, worker)) return false;
    failAttempt(record, checkedError, retryAt, now);
    return true;
  });
}

/** Reads a dispatch. */
export async function getDispatch(sql: Sql, t: Tables, dispatchId: string): Promise<DispatchRecord | undefined> {
  checkDispatchId(dispatchId);
  const [row] = await sql`SELECT * FROM ${t.dispatches} WHERE dispatch_id = ${dispatchId}`;
  return row === undefined ? undefined : toDispatchRecord(row);
}

/** Lists dispatches in acceptance order. */
export async function listDispatches(sql: Sql, t: Tables, query?: DispatchQuery): Promise<DispatchRecord[]> {
  const { status, key, limit } = checkDispatchQuery(query);
  const rows = await sql`
    SELECT * FROM ${t.dispatches}
    WHERE TRUE
      ${status === undefined ? sql`` : sql`AND status = ANY(${sql.array([...status])}::text[])`}
      ${
    key === undefined
      ? sql``
      : sql`AND agent = ${key.agent} AND instance_id = ${key.instanceId} AND session = ${key.session}`
  }
    ORDER BY position
    LIMIT ${limit}`;
  return rows.map(toDispatchRecord);
}

/** Puts a dead dispatch back in the queue. */
export async function replayDispatch(sql: Sql, t: Tables, dispatchId: string): Promise<DispatchRecord | undefined> {
  checkDispatchId(dispatchId);
  let replayed: DispatchRecord | undefined;
  await changeLocked(sql, t, dispatchId, (record, now, row) => {
    if (record?.status !== "dead") return false;
    replayDead(record, Number(row!.admitted_max_attempts), now);
    replayed = record;
    return true;
  });
  return replayed;
}

/** Locks a dispatch's row, lets `change` edit the record, and saves it when `change` says so. */
async function changeLocked(
  sql: Sql,
  t: Tables,
  dispatchId: string,
  change: (record: DispatchRecord | undefined, now: number, row: Row | undefined) => boolean,
): Promise<boolean> {
  return await sql.begin(async (tx) => {
    const [row] = await tx`SELECT * FROM ${t.dispatches} WHERE dispatch_id = ${dispatchId} FOR UPDATE`;
    const record = row === undefined ? undefined : toDispatchRecord(row);
    const changed = change(record, await databaseNow(tx), row);
    if (changed) await save(tx, t, record!);
    return changed;
  });
}

async function save(tx: TransactionSql, t: Tables, record: DispatchRecord): Promise<void> {
  await tx`
    UPDATE ${t.dispatches} SET ${
    tx({
      status: record.status,
      max_attempts: record.maxAttempts,
      attempts: JSON.stringify(record.attempts),
      available_at: record.availableAt,
      lease_owner: record.leaseOwner ?? null,
      lease_expires_at: record.leaseExpiresAt ?? null,
      result: record.result === undefined ? null : JSON.stringify(record.result),
      error: record.error === undefined ? null : JSON.stringify(record.error),
      finished_at: record.finishedAt ?? null,
    })
  }
    WHERE dispatch_id = ${record.dispatchId}`;
}

function toIso(value: unknown): string {
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

function toDispatchRecord(row: Row): DispatchRecord {
  const record: DispatchRecord = {
    dispatchId: String(row.dispatch_id),
    key: { agent: String(row.agent), instanceId: String(row.instance_id), session: String(row.session) },
    input: JSON.parse(String(row.input)),
    status: String(row.status) as DispatchRecord["status"],
    maxAttempts: Number(row.max_attempts),
    attempts: JSON.parse(String(row.attempts)),
    acceptedAt: toIso(row.accepted_at),
    availableAt: toIso(row.available_at),
  };
  if (row.idempotency_key !== null) record.idempotencyKey = String(row.idempotency_key);
  if (row.lease_owner !== null) record.leaseOwner = String(row.lease_owner);
  if (row.lease_expires_at !== null) record.leaseExpiresAt = toIso(row.lease_expires_at);
  if (row.result !== null) record.result = JSON.parse(String(row.result));
  if (row.error !== null) record.error = JSON.parse(String(row.error));
  if (row.finished_at !== null) record.finishedAt = toIso(row.finished_at);
  return record;
}
