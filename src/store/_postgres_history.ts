/**
 * The postgres store's session history and workflow runs, as SQL over a pool. Input is checked by the caller.
 *
 * @module
 */

import type { CheckedRunQuery } from "./_run_query.ts";
import type { Sql } from "postgres";
import type { FlueEvent } from "../events/event_types.ts";
import type { CheckedRunEventQuery } from "./_store_input.ts";
import { duplicateEventError, duplicateRunError, normalizeRunRecord, toJson, unknownRunError } from "./_store_input.ts";
import type { Tables } from "./_postgres_schema.ts";
import type { HistoryEntry, NewHistoryEntry, RunRecord, SessionKey } from "./store.ts";

// PostgreSQL allows 65535 parameters per statement; a history row takes 8.
const ROWS_PER_INSERT = 1000;

/**
 * Appends entries in one transaction. The session's row is created or locked first and reserves the positions, so
 * appenders in any number of processes take turns per session and a rolled-back append leaves no gap.
 */
export async function appendEntries(
  sql: Sql,
  t: Tables,
  key: SessionKey,
  entries: readonly NewHistoryEntry[],
): Promise<HistoryEntry[]> {
  const rows = entries.map((entry, index) => ({
    message: toJson(entry.message, `The message of history entry ${index}`),
    source: entry.source,
    operation_id: entry.operationId,
    timestamp: entry.timestamp,
  }));
  const { agent, instanceId, session } = key;
  const count = rows.length;
  const first = await sql.begin(async (tx) => {
    const [reserved] = await tx`
      INSERT INTO ${t.sessions} AS s (agent, instance_id, session, next_seq)
      VALUES (${agent}, ${instanceId}, ${session}, ${count})
      ON CONFLICT (agent, instance_id, session) DO UPDATE SET next_seq = s.next_seq + ${count}
      RETURNING s.next_seq - ${count} AS first`;
    const first = Number(reserved.first);
    for (let start = 0; start < count; start += ROWS_PER_INSERT) {
      const chunk = rows.slice(start, start + ROWS_PER_INSERT).map((row, index) => ({
        agent,
        instance_id: instanceId,
        session,
        seq: first + start + index,
        ...row,
      }));
      await tx`INSERT INTO ${t.history} ${
        tx(chunk, "agent", "instance_id", "session", "seq", "message", "source", "operation_id", "timestamp")
      }`;
    }
    return first;
  });
  return rows.map((row, index) => ({
    seq: first + index,
    message: JSON.parse(row.message),
    source: entries[index].source,
    operationId: row.operation_id,
    timestamp: row.timestamp,
  }));
}

/** Reads a session's entries after `afterSeq`, in order. */
export async function loadEntries(sql: Sql, t: Tables, key: SessionKey, afterSeq: number): Promise<HistoryEntry[]> {
  const rows = await sql`
    SELECT seq, message, source, operation_id, timestamp FROM ${t.history}
    WHERE agent = ${key.agent} AND instance_id = ${key.instanceId} AND session = ${key.session} AND seq > ${afterSeq}
    ORDER BY seq`;
  return rows.map((row) => ({
    seq: Number(row.seq),
    message: JSON.parse(row.message),
    source: row.source,
    operationId: row.operation_id,
    timestamp: row.timestamp,
  }));
}

/** Deletes a session's entries and its position row; a later append starts again at 0. */
export async function deleteEntries(sql: Sql, t: Tables, key: SessionKey): Promise<boolean> {
  return await sql.begin(async (tx) => {
    const { agent, instanceId, session } = key;
    const deleted = await tx`
      DELETE FROM ${t.sessions} WHERE agent = ${agent} AND instance_id = ${instanceId} AND session = ${session}
      RETURNING 1`;
    await tx`DELETE FROM ${t.history} WHERE agent = ${agent} AND instance_id = ${instanceId} AND session = ${session}`;
    return deleted.length > 0;
  });
}

/** Lists sessions with entries, sorted by code point (the columns use the "C" collation). */
export async function listSessionKeys(
  sql: Sql,
  t: Tables,
  filter: { agent?: string; instanceId?: string } | undefined,
): Promise<SessionKey[]> {
  const agent = filter?.agent ?? null;
  const instanceId = filter?.instanceId ?? null;
  const rows = await sql`
    SELECT agent, instance_id, session FROM ${t.sessions}
    WHERE (${agent}::text IS NULL OR agent = ${agent}) AND (${instanceId}::text IS NULL OR instance_id = ${instanceId})
    ORDER BY agent, instance_id, session`;
  return rows.map((row) => ({ agent: row.agent, instanceId: row.instance_id, session: row.session }));
}

function runColumns(run: RunRecord) {
  const json = (value: unknown): string | null => value === undefined ? null : JSON.stringify(value);
  return {
    run_id: run.runId,
    workflow: run.workflow,
    instance_id: run.instanceId,
    status: run.status,
    payload: json(run.payload),
    result: json(run.result),
    error: json(run.error),
    started_at: run.startedAt,
    ended_at: run.endedAt ?? null,
  };
}

function toRunRecord(row: Record<string, string | null>): RunRecord {
  const record: RunRecord = {
    runId: row.run_id!,
    workflow: row.workflow!,
    instanceId: row.instance_id!,
    status: row.status as RunRecord["status"],
    payload: row.payload === null ? undefined : JSON.parse(row.payload),
    startedAt: row.started_at!,
  };
  if (row.result !== null) record.result = JSON.parse(row.result);
  if (row.error !== null) record.error = JSON.parse(row.error);
  if (row.ended_at !== null) record.endedAt = row.ended_at;
  return record;
}

/** Inserts a new run; rejects a run id already taken. */
export async function insertRun(sql: Sql, t: Tables, run: RunRecord): Promise<void> {
  const inserted = await sql`
    INSERT INTO ${t.runs} ${sql(runColumns(run))} ON CONFLICT (run_id) DO NOTHING RETURNING 1`;
  if (inserted.length === 0) throw duplicateRunError(run.runId);
}

/** Applies a patch to a run under a row lock, so concurrent patches do not lose each other's fields. */
export async function patchRun(
  sql: Sql,
  t: Tables,
  runId: string,
  patch: Partial<Omit<RunRecord, "runId">>,
): Promise<void> {
  await sql.begin(async (tx) => {
    const [row] = await tx`SELECT * FROM ${t.runs} WHERE run_id = ${runId} FOR UPDATE`;
    if (row === undefined) throw unknownRunError(runId);
    const { run_id: _, ...columns } = runColumns(normalizeRunRecord({ ...toRunRecord(row), ...patch, runId }));
    await tx`UPDATE ${t.runs} SET ${tx(columns)} WHERE run_id = ${runId}`;
  });
}

/** Reads a run. */
export async function selectRun(sql: Sql, t: Tables, runId: string): Promise<RunRecord | undefined> {
  const [row] = await sql`SELECT * FROM ${t.runs} WHERE run_id = ${runId}`;
  return row === undefined ? undefined : toRunRecord(row);
}

/** Lists runs newest first, filtered and paged as `Store.listRuns` describes. */
export async function selectRuns(sql: Sql, t: Tables, query: CheckedRunQuery): Promise<RunRecord[]> {
  const workflow = query.workflow ?? null;
  const status = query.status === undefined ? null : [...query.status];
  const startedAt = query.before?.startedAt ?? null;
  const runId = query.before?.runId ?? null;
  const rows = await sql`
    SELECT * FROM ${t.runs}
    WHERE (${workflow}::text IS NULL OR workflow = ${workflow})
      AND (${status}::text[] IS NULL OR status = ANY(${status}::text[]))
      AND (${startedAt}::text IS NULL OR (started_at COLLATE "C", run_id) < (${startedAt}::text COLLATE "C", ${runId}::text))
    ORDER BY started_at COLLATE "C" DESC, run_id DESC LIMIT ${query.limit}`;
  return rows.map((row) => toRunRecord(row));
}

/** Inserts a run's events, all or none; a repeated index rejects the whole batch. */
export async function insertRunEvents(
  sql: Sql,
  t: Tables,
  runId: string,
  events: readonly FlueEvent[],
): Promise<void> {
  const rows = events.map((event, index) => ({
    run_id: runId,
    event_index: event.eventIndex,
    type: event.type,
    event: toJson(event, `Run event ${index}`),
  }));
  await sql.begin(async (tx) => {
    // A share lock keeps the run from being deleted under the insert.
    const [run] = await tx`SELECT 1 FROM ${t.runs} WHERE run_id = ${runId} FOR SHARE`;
    if (run === undefined) throw unknownRunError(runId);
    if (rows.length === 0) return;
    const inserted = await tx`
      INSERT INTO ${t.runEvents} ${tx(rows)} ON CONFLICT (run_id, event_index) DO NOTHING RETURNING event_index`;
    if (inserted.length < rows.length) {
      const stored = new Set(inserted.map((row) => Number(row.event_index)));
      throw duplicateEventError(runId, rows.find((row) => !stored.has(row.event_index))!.event_index);
    }
  });
}

/** Reads a run's events in order, filtered in SQL. */
export async function selectRunEvents(
  sql: Sql,
  t: Tables,
  runId: string,
  { after, limit, types }: CheckedRunEventQuery,
): Promise<FlueEvent[]> {
  const rows = await sql`
    SELECT event FROM ${t.runEvents}
    WHERE run_id = ${runId} AND event_index > ${after}
    ${types === undefined ? sql`` : sql`AND type = ANY(${sql.array([...types])}::text[])`}
    ORDER BY event_index
    ${limit === undefined ? sql`` : sql`LIMIT ${limit}`}`;
  return rows.map((row) => JSON.parse(row.event));
}
