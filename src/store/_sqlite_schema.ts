/**
 * The sqlite store's schema and its migrations. Each migration moves the file one version up; the version lives in its
 * own table, so a file written by a newer Flue is refused instead of misread.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";

/**
 * The migrations in order: entry `n` takes a file from version `n` to `n + 1`. Append new steps; never edit old ones,
 * since files in the field have already run them.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE history (
    agent TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    session TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message TEXT NOT NULL,
    source TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    PRIMARY KEY (agent, instance_id, session, seq)
  ) STRICT;
  CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT,
    result TEXT,
    error TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT
  ) STRICT;
  CREATE TABLE run_events (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    event_index INTEGER NOT NULL,
    type TEXT NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (run_id, event_index)
  ) STRICT;
  `,
  // Version 2: the dispatch queue. Times the claim compares are integers (milliseconds since the epoch); `seq` is the
  // acceptance order; `admitted_max_attempts` is what a replay grants again.
  `
  CREATE TABLE dispatches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    dispatch_id TEXT NOT NULL UNIQUE,
    agent TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    session TEXT NOT NULL,
    input TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    status TEXT NOT NULL,
    max_attempts INTEGER NOT NULL,
    admitted_max_attempts INTEGER NOT NULL,
    attempts TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    available_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    result TEXT,
    error TEXT,
    finished_at TEXT
  ) STRICT;
  CREATE INDEX dispatches_open_by_session ON dispatches (agent, instance_id, session, seq)
    WHERE status IN ('accepted', 'running', 'failed');
  CREATE INDEX dispatches_by_session ON dispatches (agent, instance_id, session, seq);
  CREATE INDEX dispatches_by_status ON dispatches (status, seq);
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * Brings the file's schema up to {@linkcode SCHEMA_VERSION} in one transaction, so processes opening the same new file
 * at once migrate it exactly once.
 *
 * @param db The open database.
 * @param path The file's path, for error messages.
 */
export function migrate(db: DatabaseSync, path: string): void {
  if (readVersion(db) === SCHEMA_VERSION) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT");
    const from = readVersion(db) ?? 0;
    if (from > SCHEMA_VERSION) {
      throw new Error(
        `The store file "${path}" has schema version ${from}, newer than the ${SCHEMA_VERSION} this Flue understands: ` +
          "upgrade Flue or use a different store path",
      );
    }
    for (let version = from; version < SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version]);
    db.exec("DELETE FROM schema_version");
    db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(SCHEMA_VERSION);
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** Reads the file's schema version without taking a write lock; `undefined` for a new file. */
function readVersion(db: DatabaseSync): number | undefined {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (table === undefined) return undefined;
  const row = db.prepare("SELECT version FROM schema_version").get();
  return row === undefined ? undefined : Number(row.version);
}
