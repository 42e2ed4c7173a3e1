/**
 * The sqlite store's prepared SQL and the conversions between rows and records.
 *
 * @module
 */

import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type { HistoryEntry, RunRecord } from "./store.ts";

type Row = Record<string, SQLInputValue>;

/** The store's prepared statements, made once per connection and reused for every call. */
export type SqliteStatements = ReturnType<typeof prepareStatements>;

/** Prepares every statement the store runs. */
export function prepareStatements(db: DatabaseSync) {
  const prepare = (sql: string): StatementSync => db.prepare(sql);
  return {
    begin: prepare("BEGIN IMMEDIATE"),
    commit: prepare("COMMIT"),
    rollback: prepare("ROLLBACK"),
    nextSeq: prepare(
      "SELECT COALESCE(MAX(seq), -1) + 1 AS next FROM history WHERE agent = ? AND instance_id = ? AND session = ?",
    ),
    insertEntry: prepare(
      `INSERT INTO history (agent, instance_id, session, seq, message, source, operation_id, timestamp)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    loadEntries: prepare(
      `SELECT seq, message, source, operation_id, timestamp FROM history
       WHERE agent = ? AND instance_id = ? AND session = ? AND seq > ? ORDER BY seq`,
    ),
    deleteSession: prepare("DELETE FROM history WHERE agent = ? AND instance_id = ? AND session = ?"),
    listSessions: prepare(
      `SELECT DISTINCT agent, instance_id, session FROM history
       WHERE (?1 IS NULL OR agent = ?1) AND (?2 IS NULL OR instance_id = ?2)
       ORDER BY agent, instance_id, session`,
    ),
    insertRun: prepare(
      `INSERT INTO runs (run_id, workflow, instance_id, status, payload, result, error, started_at, ended_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
    ),
    updateRun: prepare(
      `UPDATE runs SET workflow = ?, instance_id = ?, status = ?, payload = ?, result = ?, error = ?, started_at = ?,
       ended_at = ? WHERE run_id = ?`,
    ),
    getRun: prepare("SELECT * FROM runs WHERE run_id = ?"),
    listRuns: prepare(
      `SELECT * FROM runs
       WHERE (?1 IS NULL OR workflow = ?1) AND (?2 IS NULL OR status IN (SELECT value FROM json_each(?2)))
         AND (?3 IS NULL OR started_at < ?3 OR (started_at = ?3 AND run_id < ?4))
       ORDER BY started_at DESC, run_id DESC LIMIT ?5`,
    ),
    insertEvent: prepare(
      `INSERT INTO run_events (run_id, event_index, type, event) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id, event_index) DO NOTHING`,
    ),
    listEvents: prepare(
      `SELECT event FROM run_events
       WHERE run_id = ?1 AND event_index > ?2 AND (?3 IS NULL OR type IN (SELECT value FROM json_each(?3)))
       ORDER BY event_index LIMIT ?4`,
    ),
  };
}

/** Reads a history row. */
export function toHistoryEntry(row: Row): HistoryEntry {
  return {
    seq: Number(row.seq),
    message: JSON.parse(String(row.message)),
    source: String(row.source) as HistoryEntry["source"],
    operationId: String(row.operation_id),
    timestamp: String(row.timestamp),
  };
}

/** The column values of a run, in table order, starting with `run_id`. */
export function runColumns(run: RunRecord): SQLInputValue[] {
  const json = (value: unknown): string | null => value === undefined ? null : JSON.stringify(value);
  return [
    run.runId,
    run.workflow,
    run.instanceId,
    run.status,
    json(run.payload),
    json(run.result),
    json(run.error),
    run.startedAt,
    run.endedAt ?? null,
  ];
}

/** Reads a run row. */
export function toRunRecord(row: Row): RunRecord {
  const record: RunRecord = {
    runId: String(row.run_id),
    workflow: String(row.workflow),
    instanceId: String(row.instance_id),
    status: String(row.status) as RunRecord["status"],
    payload: row.payload === null ? undefined : JSON.parse(String(row.payload)),
    startedAt: String(row.started_at),
  };
  if (row.result !== null) record.result = JSON.parse(String(row.result));
  if (row.error !== null) record.error = JSON.parse(String(row.error));
  if (row.ended_at !== null) record.endedAt = String(row.ended_at);
  return record;
}
