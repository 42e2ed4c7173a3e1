/**
 * The postgres store's tables and their migrations. Everything lives in one PostgreSQL schema (namespace), `flue` by
 * default, with a version table, so a database written by a newer Flue is refused instead of misread, and several
 * servers starting at once migrate it exactly once.
 *
 * @module
 */

import type { Helper, Sql, TransactionSql } from "postgres";

/** A quoted identifier, for use inside a tagged template. */
type Identifier = Helper<string, []>;

/** The schema and the store's tables in it, each quoted and qualified with the schema. */
export interface Tables {
  /** The schema itself. */
  schema: Identifier;
  /** The version table. */
  version: Identifier;
  /** One row per session holding its next `seq`. */
  sessions: Identifier;
  /** History entries. */
  history: Identifier;
  /** Workflow runs. */
  runs: Identifier;
  /** Run events. */
  runEvents: Identifier;
  /** The dispatch queue. */
  dispatches: Identifier;
}

/**
 * Quotes the store's table names in `schema`.
 *
 * @param sql The pool, whose helper quotes identifiers.
 * @param schema The schema's name.
 * @returns The quoted names.
 */
export function tableNames(sql: Sql, schema: string): Tables {
  const table = (name: string): Identifier => sql(`${schema}.${name}`);
  return {
    schema: sql(schema),
    version: table("schema_version"),
    sessions: table("sessions"),
    history: table("history"),
    runs: table("runs"),
    runEvents: table("run_events"),
    dispatches: table("dispatches"),
  };
}

type Migration = (tx: TransactionSql, t: Tables) => Promise<unknown>;

/**
 * The migrations in order: entry `n` takes a schema from version `n` to `n + 1`. Append new steps; never edit old ones,
 * since databases in the field have already run them.
 *
 * Text columns that hold names use the "C" collation, so keys compare and sort by code point on every database, whatever
 * its default locale. JSON is stored as text, not `jsonb`: `jsonb` rejects `\u0000` in strings and reorders keys, and the
 * store must return exactly what it was given.
 */
const MIGRATIONS: readonly Migration[] = [
  async (tx, t) => {
    // One row per session: its next position. Appends lock this row, so concurrent writers from any number of processes
    // take turns per session and `seq` stays gapless.
    await tx`
      CREATE TABLE ${t.sessions} (
        agent TEXT COLLATE "C" NOT NULL,
        instance_id TEXT COLLATE "C" NOT NULL,
        session TEXT COLLATE "C" NOT NULL,
        next_seq BIGINT NOT NULL,
        PRIMARY KEY (agent, instance_id, session)
      )`;
    await tx`
      CREATE TABLE ${t.history} (
        agent TEXT COLLATE "C" NOT NULL,
        instance_id TEXT COLLATE "C" NOT NULL,
        session TEXT COLLATE "C" NOT NULL,
        seq BIGINT NOT NULL,
        message TEXT NOT NULL,
        source TEXT NOT NULL,
        operation_id TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        PRIMARY KEY (agent, instance_id, session, seq)
      )`;
    await tx`
      CREATE TABLE ${t.runs} (
        run_id TEXT COLLATE "C" PRIMARY KEY,
        workflow TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        status TEXT NOT NULL,
        payload TEXT,
        result TEXT,
        error TEXT,
        started_at TEXT NOT NULL,
        ended_at TEXT
      )`;
    await tx`
      CREATE TABLE ${t.runEvents} (
        run_id TEXT COLLATE "C" NOT NULL REFERENCES ${t.runs} (run_id) ON DELETE CASCADE,
        event_index BIGINT NOT NULL,
        type TEXT NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (run_id, event_index)
      )`;
    await tx`
      CREATE TABLE ${t.dispatches} (
        position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        dispatch_id TEXT COLLATE "C" NOT NULL UNIQUE,
        agent TEXT COLLATE "C" NOT NULL,
        instance_id TEXT COLLATE "C" NOT NULL,
        session TEXT COLLATE "C" NOT NULL,
        input TEXT NOT NULL,
        idempotency_key TEXT COLLATE "C" UNIQUE,
        status TEXT NOT NULL,
        max_attempts INTEGER NOT NULL,
        admitted_max_attempts INTEGER NOT NULL,
        attempts TEXT NOT NULL,
        accepted_at TIMESTAMPTZ NOT NULL,
        available_at TIMESTAMPTZ NOT NULL,
        lease_owner TEXT,
        lease_expires_at TIMESTAMPTZ,
        result TEXT,
        error TEXT,
        finished_at TIMESTAMPTZ
      )`;
    // Claims scan only unfinished dispatches, oldest first, and check the older ones of the same session; listing
    // filters by session or status.
    await tx`CREATE INDEX ON ${t.dispatches} (position) WHERE status IN ('accepted', 'running', 'failed')`;
    await tx`
      CREATE INDEX ON ${t.dispatches} (agent, instance_id, session, position)
      WHERE status IN ('accepted', 'running', 'failed')`;
    await tx`CREATE INDEX ON ${t.dispatches} (agent, instance_id, session, position)`;
    await tx`CREATE INDEX ON ${t.dispatches} (status, position)`;
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * Creates the schema when missing and brings it up to {@linkcode SCHEMA_VERSION}. A transaction-scoped advisory lock
 * keyed by the schema's name makes servers that start together take turns, so each migration runs once.
 *
 * @param sql The connection pool.
 * @param schema The schema's name (already checked to be a plain identifier).
 * @param t The quoted table names.
 * @throws {Error} When the schema is newer than this code understands.
 */
export async function migrate(sql: Sql, schema: string, t: Tables): Promise<void> {
  if (await readVersion(sql, schema, t) === SCHEMA_VERSION) return;
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`flue schema ${schema}`}, 0))`;
    await tx`CREATE SCHEMA IF NOT EXISTS ${t.schema}`;
    await tx`CREATE TABLE IF NOT EXISTS ${t.version} (version INTEGER NOT NULL)`;
    const [row] = await tx`SELECT version FROM ${t.version}`;
    const from = row === undefined ? 0 : Number(row.version);
    if (from > SCHEMA_VERSION) throw newerSchemaError(schema, from);
    for (let version = from; version < SCHEMA_VERSION; version++) await MIGRATIONS[version](tx, t);
    await tx`DELETE FROM ${t.version}`;
    await tx`INSERT INTO ${t.version} (version) VALUES (${SCHEMA_VERSION})`;
  });
}

/** Reads the schema's version without locking; `undefined` when the schema or its version table does not exist. */
async function readVersion(sql: Sql, schema: string, t: Tables): Promise<number | undefined> {
  const [exists] = await sql`SELECT to_regclass(${`"${schema}".schema_version`}) IS NOT NULL AS present`;
  if (!exists.present) return undefined;
  const [row] = await sql`SELECT version FROM ${t.version}`;
  if (row === undefined) return undefined;
  const version = Number(row.version);
  if (version > SCHEMA_VERSION) throw newerSchemaError(schema, version);
  return version;
}

function newerSchemaError(schema: string, version: number): Error {
  return new Error(
    `The PostgreSQL schema "${schema}" has version ${version}, newer than the ${SCHEMA_VERSION} this Flue ` +
      "understands: upgrade Flue on this server, or point it at a different schema",
  );
}
