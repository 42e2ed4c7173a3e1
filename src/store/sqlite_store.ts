/**
 * The default store: one SQLite file (`.flue/flue.db`) in WAL mode through `node:sqlite`, shared safely by several
 * processes on one machine.
 *
 * @module
 */

import { mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { FlueEvent } from "../events/event_types.ts";
import { explainSqliteError } from "./_sqlite_errors.ts";
import { migrate } from "./_sqlite_schema.ts";
import { SqliteDispatchQueue } from "./_sqlite_dispatch_queue.ts";
import {
  prepareStatements,
  runColumns,
  type SqliteStatements,
  toHistoryEntry,
  toRunRecord,
} from "./_sqlite_statements.ts";
import {
  assertNewEntries,
  assertRunEvents,
  assertRunId,
  assertRunPatch,
  assertSessionFilter,
  assertSessionKey,
  checkAfterSeq,
  checkRunEventQuery,
  closedStoreError,
  duplicateEventError,
  duplicateRunError,
  normalizeRunRecord,
  toJson,
  unknownRunError,
} from "./_store_input.ts";
import { checkRunQuery } from "./_run_query.ts";
import type {
  ClaimOptions,
  DispatchError,
  DispatchQuery,
  DispatchReceipt,
  DispatchRecord,
  NewDispatch,
} from "./dispatch_queue.ts";
import type {
  HistoryEntry,
  LoadOptions,
  NewHistoryEntry,
  RunEventQuery,
  RunQuery,
  RunRecord,
  SessionKey,
  Store,
} from "./store.ts";

/** Options for {@linkcode SqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file; relative paths resolve against `projectDir`. Defaults to `<projectDir>/.flue/flue.db`. */
  path?: string;
  /** The project folder; needed when `path` is omitted or relative (the current directory otherwise). */
  projectDir?: string;
  /** How long to wait for another process's lock before failing, in milliseconds. Defaults to 5000. */
  busyTimeoutMs?: number;
}

/**
 * A {@linkcode Store} in a SQLite file. Each write is one `BEGIN IMMEDIATE` transaction, so several processes can append
 * to the same file and every session's `seq` stays gapless. History rows are only ever inserted, never rewritten.
 *
 * Needs `--allow-read` and `--allow-write` for the file's folder.
 *
 * @example Open a store in a temporary project
 * ```ts
 * import assert from "node:assert/strict";
 * import { SqliteStore } from "./sqlite_store.ts";
 *
 * const projectDir = Deno.makeTempDirSync();
 * const store = new SqliteStore({ projectDir });
 * const key = { agent: "assistant", instanceId: "42", session: "default" };
 * const [entry] = await store.append(key, [{
 *   message: { role: "user", content: "Hello" },
 *   source: "prompt",
 *   operationId: "op-1",
 *   timestamp: new Date().toISOString(),
 * }]);
 * assert.equal(entry.seq, 0);
 * await store.close();
 * Deno.removeSync(projectDir, { recursive: true });
 * ```
 */
export class SqliteStore implements Store {
  /** Always `sqlite`. */
  readonly kind: "sqlite" = "sqlite";
  /** The absolute path of the database file (or `:memory:`). */
  readonly path: string;
  readonly #busyTimeoutMs: number;
  readonly #db: DatabaseSync;
  readonly #sql: SqliteStatements;
  readonly #dispatches: SqliteDispatchQueue;
  #isClosed = false;

  /**
   * Opens the file, creating it and its folder when missing, and brings its schema up to date.
   *
   * @param options Where the file is and how long to wait for locks.
   * @throws {Error} When the file is not a database, stays locked, or cannot be written; the message says what to do.
   */
  constructor(options: SqliteStoreOptions) {
    const { path, projectDir, busyTimeoutMs = 5000 } = options ?? {};
    if (path === undefined && projectDir === undefined) {
      throw new TypeError('The sqlite store needs a "path" or a "projectDir" to find its database file');
    }
    if (path !== undefined && (typeof path !== "string" || path === "")) {
      throw new TypeError(`The sqlite store's path must be a non-empty string, got ${JSON.stringify(path)}`);
    }
    if (projectDir !== undefined && typeof projectDir !== "string") {
      throw new TypeError(`The projectDir must be a string, got ${JSON.stringify(projectDir)}`);
    }
    if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new TypeError(`The busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
    }
    this.path = path === ":memory:" ? path : resolve(projectDir ?? ".", path ?? join(".flue", "flue.db"));
    this.#busyTimeoutMs = busyTimeoutMs;
    if (this.path !== ":memory:") createFolder(dirname(this.path));
    const deadline = Date.now() + busyTimeoutMs;
    for (let attempt = 1;; attempt++) {
      let db: DatabaseSync | undefined;
      try {
        db = new DatabaseSync(this.path, { timeout: busyTimeoutMs, enableForeignKeyConstraints: true });
        // NORMAL is safe in WAL mode: a process crash loses nothing committed; a power loss can drop the last commits.
        db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
        migrate(db, this.path);
        this.#sql = prepareStatements(db);
        this.#dispatches = new SqliteDispatchQueue(db);
        this.#db = db;
        return;
      } catch (error) {
        db?.close();
        // Switching a new file to WAL while another process opens it fails at once, without the busy handler (SQLite
        // refuses to wait there, to avoid deadlock): processes starting together take turns instead of failing.
        if (isBusy(error) && Date.now() < deadline) {
          sleepSync(Math.min(5 * attempt, 50) + Math.random() * 10);
          continue;
        }
        throw explainSqliteError(error, this.path, "open", busyTimeoutMs);
      }
    }
  }

  /**
   * Appends entries after the existing ones in one transaction; on any failure nothing is written.
   *
   * @param key The session.
   * @param entries The new entries, in order.
   * @returns The entries as stored, with their positions.
   */
  append(key: SessionKey, entries: readonly NewHistoryEntry[]): Promise<HistoryEntry[]> {
    return this.#run(() => `append to session ${describeKey(key)}`, () => {
      assertSessionKey(key);
      assertNewEntries(entries);
      if (entries.length === 0) return [];
      return this.#transaction(() => {
        const { agent, instanceId, session } = key;
        const next = Number(this.#sql.nextSeq.get(agent, instanceId, session)!.next);
        return entries.map((entry, index): HistoryEntry => {
          const json = toJson(entry.message, `The message of history entry ${index}`);
          const seq = next + index;
          this.#sql.insertEntry.run(
            agent,
            instanceId,
            session,
            seq,
            json,
            entry.source,
            entry.operationId,
            entry.timestamp,
          );
          return {
            seq,
            message: JSON.parse(json),
            source: entry.source,
            operationId: entry.operationId,
            timestamp: entry.timestamp,
          };
        });
      });
    });
  }

  /**
   * Reads a session's history.
   *
   * @param key The session.
   * @returns The entries, in order; empty for a session never written.
   */
  load(key: SessionKey, options: LoadOptions = {}): Promise<HistoryEntry[]> {
    return this.#run(() => `load session ${describeKey(key)}`, () => {
      assertSessionKey(key);
      const afterSeq = checkAfterSeq(options);
      return this.#sql.loadEntries.all(key.agent, key.instanceId, key.session, afterSeq).map(toHistoryEntry);
    });
  }

  /**
   * Deletes a session's history.
   *
   * @param key The session.
   * @returns Whether the session had any entries.
   */
  deleteSession(key: SessionKey): Promise<boolean> {
    return this.#run(() => `delete session ${describeKey(key)}`, () => {
      assertSessionKey(key);
      return Number(this.#sql.deleteSession.run(key.agent, key.instanceId, key.session).changes) > 0;
    });
  }

  /**
   * Lists sessions that have entries.
   *
   * @param filter Restricts the list by agent and instance id.
   * @returns The keys, sorted by agent, instance id, then session, by code point.
   */
  listSessions(filter?: { agent?: string; instanceId?: string }): Promise<SessionKey[]> {
    return this.#run("list sessions", () => {
      assertSessionFilter(filter);
      return this.#sql.listSessions.all(filter?.agent ?? null, filter?.instanceId ?? null).map((row) => ({
        agent: String(row.agent),
        instanceId: String(row.instance_id),
        session: String(row.session),
      }));
    });
  }

  /**
   * Records a new run.
   *
   * @param run The run; its `runId` must be new.
   */
  createRun(run: RunRecord): Promise<void> {
    return this.#run("create a run", () => {
      const record = normalizeRunRecord(run);
      if (Number(this.#sql.insertRun.run(...runColumns(record)).changes) === 0) throw duplicateRunError(record.runId);
    });
  }

  /**
   * Changes a stored run.
   *
   * @param runId The run.
   * @param patch The fields to change.
   * @throws {NotFoundError} When there is no such run.
   */
  updateRun(runId: string, patch: Partial<Omit<RunRecord, "runId">>): Promise<void> {
    return this.#run(() => `update run "${runId}"`, () => {
      assertRunId(runId);
      assertRunPatch(runId, patch);
      this.#transaction(() => {
        const row = this.#sql.getRun.get(runId);
        if (row === undefined) throw unknownRunError(runId);
        const record = normalizeRunRecord({ ...toRunRecord(row), ...patch, runId });
        const [, ...columns] = runColumns(record);
        this.#sql.updateRun.run(...columns, runId);
      });
    });
  }

  /**
   * Reads a run.
   *
   * @param runId The run.
   * @returns The run, or `undefined` when there is none.
   */
  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#run(() => `read run "${runId}"`, () => {
      assertRunId(runId);
      const row = this.#sql.getRun.get(runId);
      return row === undefined ? undefined : toRunRecord(row);
    });
  }

  /**
   * Lists runs, newest first.
   *
   * @param query Filters (workflow, status) and the page (`before`, `limit`).
   * @returns The matching runs.
   */
  listRuns(query?: RunQuery): Promise<RunRecord[]> {
    return this.#run(() => "list runs", () => {
      const { workflow, status, before, limit } = checkRunQuery(query);
      const rows = this.#sql.listRuns.all(
        workflow ?? null,
        status === undefined ? null : JSON.stringify(status),
        before?.startedAt ?? null,
        before?.runId ?? null,
        limit,
      );
      return rows.map(toRunRecord);
    });
  }

  /**
   * Appends events to a run's log in one transaction, all or none.
   *
   * @param runId The run.
   * @param events The events; each `eventIndex` must be new in the run.
   * @throws {NotFoundError} When there is no such run.
   */
  appendRunEvents(runId: string, events: readonly FlueEvent[]): Promise<void> {
    return this.#run(() => `append events to run "${runId}"`, () => {
      assertRunId(runId);
      assertRunEvents(runId, events);
      this.#transaction(() => {
        if (this.#sql.getRun.get(runId) === undefined) throw unknownRunError(runId);
        events.forEach((event, index) => {
          const json = toJson(event, `Run event ${index}`);
          const { changes } = this.#sql.insertEvent.run(runId, event.eventIndex, event.type, json);
          if (Number(changes) === 0) throw duplicateEventError(runId, event.eventIndex);
        });
      });
    });
  }

  /**
   * Reads a run's events in order of `eventIndex`, filtered in SQL.
   *
   * @param runId The run.
   * @param query Filters; an empty `types` list matches no events.
   * @returns The matching events; empty for an unknown run.
   */
  listRunEvents(runId: string, query?: RunEventQuery): Promise<FlueEvent[]> {
    return this.#run(() => `list events of run "${runId}"`, () => {
      assertRunId(runId);
      const { after, limit, types } = checkRunEventQuery(query);
      const typesJson = types === undefined ? null : JSON.stringify(types);
      return this.#sql.listEvents.all(runId, after, typesJson, limit ?? -1).map((row) => JSON.parse(String(row.event)));
    });
  }

  /** Stores a dispatch, or returns the one admitted earlier with the same idempotency key. */
  enqueueDispatch(dispatch: NewDispatch): Promise<DispatchReceipt> {
    return this.#run("enqueue a dispatch", () => this.#transaction(() => this.#dispatches.enqueue(dispatch)));
  }

  /**
   * Claims the oldest dispatch that may run now, under a lease, in one `BEGIN IMMEDIATE` transaction: processes
   * claiming at once take turns on the file's write lock. See {@linkcode DispatchQueue.claimDispatch}.
   */
  claimDispatch(options: ClaimOptions): Promise<DispatchRecord | undefined> {
    return this.#run("claim a dispatch", () => this.#transaction(() => this.#dispatches.claim(options)));
  }

  /** Extends a lease the worker holds; false when it no longer holds it. */
  renewDispatchLease(dispatchId: string, worker: string, leaseMs: number): Promise<boolean> {
    return this.#run(() => `renew the lease of dispatch "${dispatchId}"`, () => {
      return this.#dispatches.renew(dispatchId, worker, leaseMs);
    });
  }

  /** Marks a claimed dispatch `done`; false when the worker no longer holds its lease. */
  completeDispatch(dispatchId: string, worker: string, result: unknown): Promise<boolean> {
    return this.#run(() => `complete dispatch "${dispatchId}"`, () => {
      return this.#transaction(() => this.#dispatches.complete(dispatchId, worker, result));
    });
  }

  /** Records a failed attempt: `failed` until `retryAt`, else `dead`; false when the worker no longer holds its lease. */
  failDispatch(dispatchId: string, worker: string, error: DispatchError, retryAt?: Date): Promise<boolean> {
    return this.#run(() => `record a failure of dispatch "${dispatchId}"`, () => {
      return this.#transaction(() => this.#dispatches.fail(dispatchId, worker, error, retryAt));
    });
  }

  /** Reads a dispatch, or `undefined`. */
  getDispatch(dispatchId: string): Promise<DispatchRecord | undefined> {
    return this.#run(() => `read dispatch "${dispatchId}"`, () => this.#dispatches.get(dispatchId));
  }

  /** Lists dispatches in acceptance order. */
  listDispatches(query?: DispatchQuery): Promise<DispatchRecord[]> {
    return this.#run("list dispatches", () => this.#dispatches.list(query));
  }

  /** Puts a `dead` dispatch back in the queue with a fresh set of attempts. */
  replayDispatch(dispatchId: string): Promise<DispatchRecord | undefined> {
    return this.#run(() => `replay dispatch "${dispatchId}"`, () => {
      return this.#transaction(() => this.#dispatches.replay(dispatchId));
    });
  }

  /** Closes the file; further calls reject. Closing twice does nothing. */
  close(): Promise<void> {
    if (!this.#isClosed) {
      this.#isClosed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }

  // The action is described only when something fails: building it costs more than some of the calls themselves.
  #run<T>(action: string | (() => string), work: () => T): Promise<T> {
    try {
      if (this.#isClosed) throw closedStoreError(this.kind);
      return Promise.resolve(work());
    } catch (error) {
      const described = typeof action === "string" ? action : action();
      return Promise.reject(explainSqliteError(error, this.path, described, this.#busyTimeoutMs));
    }
  }

  #transaction<T>(work: () => T): T {
    this.#sql.begin.run();
    try {
      const result = work();
      this.#sql.commit.run();
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#sql.rollback.run();
      throw error;
    }
  }
}

function isBusy(error: unknown): boolean {
  return /database is locked|database is busy/.test(error instanceof Error ? error.message : String(error));
}

// The constructor is synchronous, so waits between open attempts block; they are short and only happen at start-up.
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function createFolder(folder: string): void {
  try {
    if (statSync(folder).isDirectory()) return;
  } catch {
    // Missing or unreadable: creating it below either works or says why not.
  }
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    const fix = error instanceof Deno.errors.NotCapable
      ? "allow writing to it with --allow-write or choose a different store"
      : "the location is read-only, missing or not permitted; choose a writable store path";
    throw new Error(`Cannot create the store folder "${folder}" (${(error as Error).message}): ${fix}`, {
      cause: error,
    });
  }
}

function describeKey(key: SessionKey): string {
  return JSON.stringify([key?.agent, key?.instanceId, key?.session]);
}
