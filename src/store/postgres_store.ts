/**
 * The store for several servers on several machines: one PostgreSQL database through `npm:postgres`, shared by every
 * Flue process pointed at it.
 *
 * @module
 */

import type { Sql } from "postgres";
import type { FlueEvent } from "../events/event_types.ts";
import { type ConnectionSettings, connectionSettings, explainPostgresError, openPool } from "./_postgres_connection.ts";
import {
  claimDispatch,
  completeDispatch,
  enqueueDispatch,
  failDispatch,
  getDispatch,
  listDispatches,
  renewDispatchLease,
  replayDispatch,
} from "./_postgres_dispatch.ts";
import {
  appendEntries,
  deleteEntries,
  insertRun,
  insertRunEvents,
  listSessionKeys,
  loadEntries,
  patchRun,
  selectRun,
  selectRunEvents,
  selectRuns,
} from "./_postgres_history.ts";
import { migrate, tableNames, type Tables } from "./_postgres_schema.ts";
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
  normalizeRunRecord,
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

/** Options for {@linkcode PostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * The connection URL, such as `postgres://flue:PASSWORD@db.internal:5432/flue?sslmode=require`. Defaults to the
   * `FLUE_POSTGRES_URL` environment variable, then `DATABASE_URL`. Never shown in errors or logs with its password.
   */
  url?: string;
  /** The PostgreSQL schema (namespace) that holds Flue's tables, created when missing. Defaults to `flue`. */
  schema?: string;
  /** Most connections this process opens to the server. Defaults to 10. */
  maxConnections?: number;
  /** How long to wait for a connection before failing, in milliseconds. Defaults to 10000. */
  connectTimeoutMs?: number;
  /** How long an unused connection stays open, in milliseconds. Defaults to 30000. */
  idleTimeoutMs?: number;
}

interface Connection {
  sql: Sql;
  t: Tables;
}

/**
 * A {@linkcode Store} in a PostgreSQL database, for running Flue on several machines against one database. Appends lock
 * the session's row, so `seq` stays gapless whichever process writes. The first call connects and creates or migrates
 * the schema; a failed connection is retried on the next call.
 *
 * The client (`npm:postgres`) is loaded on first use only. Needs `--allow-net` for the server and `--allow-env` when the
 * URL comes from the environment.
 *
 * @example Connect through FLUE_POSTGRES_URL
 * ```ts ignore
 * import { PostgresStore } from "./postgres_store.ts";
 *
 * const store = new PostgresStore({ url: Deno.env.get("FLUE_POSTGRES_URL") });
 * const key = { agent: "assistant", instanceId: "42", session: "default" };
 * await store.append(key, [{
 *   message: { role: "user", content: "Hello" },
 *   source: "prompt",
 *   operationId: "op-1",
 *   timestamp: new Date().toISOString(),
 * }]);
 * console.log(await store.load(key));
 * await store.close();
 * ```
 */
export class PostgresStore implements Store {
  /** Always `postgres`. */
  readonly kind: "postgres" = "postgres";
  /** The PostgreSQL schema holding the tables. */
  readonly schema: string;
  /** The server's URL with the password replaced by `***`. */
  readonly url: string;
  readonly #settings: ConnectionSettings;
  #connection: Promise<Connection> | undefined;
  #isClosed = false;

  /**
   * Checks the options; connecting waits for the first call (see {@linkcode PostgresStore.connect} to connect now).
   *
   * @param options The URL, schema and pool limits.
   * @throws {TypeError} When an option is invalid or no URL is given or found in the environment.
   */
  constructor(options: PostgresStoreOptions = {}) {
    this.#settings = connectionSettings(options);
    this.schema = this.#settings.schema;
    this.url = this.#settings.safeUrl;
  }

  /**
   * Connects and brings the schema up to date now, so a wrong URL or password fails at start-up rather than on the first
   * request.
   *
   * @throws {Error} When the server cannot be reached, refuses the login, or holds a newer schema.
   */
  async connect(): Promise<void> {
    await this.#run("connect", () => Promise.resolve());
  }

  /**
   * Appends entries after the existing ones in one transaction; on any failure nothing is written.
   *
   * @param key The session.
   * @param entries The new entries, in order.
   * @returns The entries as stored, with their positions.
   */
  async append(key: SessionKey, entries: readonly NewHistoryEntry[]): Promise<HistoryEntry[]> {
    assertSessionKey(key);
    assertNewEntries(entries);
    if (entries.length === 0) return await this.#run("append", () => Promise.resolve([]));
    return await this.#run(
      `append to session ${describeKey(key)}`,
      ({ sql, t }) => appendEntries(sql, t, key, entries),
    );
  }

  /**
   * Reads a session's history.
   *
   * @param key The session.
   * @param options `afterSeq`: only entries whose `seq` is greater.
   * @returns The entries, in order; empty for a session never written.
   */
  async load(key: SessionKey, options: LoadOptions = {}): Promise<HistoryEntry[]> {
    assertSessionKey(key);
    const afterSeq = checkAfterSeq(options);
    return await this.#run(`load session ${describeKey(key)}`, ({ sql, t }) => loadEntries(sql, t, key, afterSeq));
  }

  /**
   * Deletes a session's history.
   *
   * @param key The session.
   * @returns Whether the session had any entries.
   */
  async deleteSession(key: SessionKey): Promise<boolean> {
    assertSessionKey(key);
    return await this.#run(`delete session ${describeKey(key)}`, ({ sql, t }) => deleteEntries(sql, t, key));
  }

  /**
   * Lists sessions that have entries.
   *
   * @param filter Restricts the list by agent and instance id.
   * @returns The keys, sorted by agent, instance id, then session, by code point.
   */
  async listSessions(filter?: { agent?: string; instanceId?: string }): Promise<SessionKey[]> {
    assertSessionFilter(filter);
    return await this.#run("list sessions", ({ sql, t }) => listSessionKeys(sql, t, filter));
  }

  /**
   * Records a new run.
   *
   * @param run The run; its `runId` must be new.
   */
  async createRun(run: RunRecord): Promise<void> {
    const record = normalizeRunRecord(run);
    return await this.#run("create a run", ({ sql, t }) => insertRun(sql, t, record));
  }

  /**
   * Changes a stored run.
   *
   * @param runId The run.
   * @param patch The fields to change.
   * @throws {NotFoundError} When there is no such run.
   */
  async updateRun(runId: string, patch: Partial<Omit<RunRecord, "runId">>): Promise<void> {
    assertRunId(runId);
    assertRunPatch(runId, patch);
    return await this.#run(`update run "${runId}"`, ({ sql, t }) => patchRun(sql, t, runId, patch));
  }

  /**
   * Reads a run.
   *
   * @param runId The run.
   * @returns The run, or `undefined` when there is none.
   */
  async getRun(runId: string): Promise<RunRecord | undefined> {
    assertRunId(runId);
    return await this.#run(`read run "${runId}"`, ({ sql, t }) => selectRun(sql, t, runId));
  }

  /**
   * Lists runs, newest first.
   *
   * @param query Filters (workflow, status) and the page (`before`, `limit`).
   * @returns The matching runs.
   */
  async listRuns(query?: RunQuery): Promise<RunRecord[]> {
    const checked = checkRunQuery(query);
    return await this.#run("list runs", ({ sql, t }) => selectRuns(sql, t, checked));
  }

  /**
   * Appends events to a run's log in one transaction, all or none.
   *
   * @param runId The run.
   * @param events The events; each `eventIndex` must be new in the run.
   * @throws {NotFoundError} When there is no such run.
   */
  async appendRunEvents(runId: string, events: readonly FlueEvent[]): Promise<void> {
    assertRunId(runId);
    assertRunEvents(runId, events);
    return await this.#run(`append events to run "${runId}"`, ({ sql, t }) => insertRunEvents(sql, t, runId, events));
  }

  /**
   * Reads a run's events in order of `eventIndex`, filtered in SQL.
   *
   * @param runId The run.
   * @param query Filters; an empty `types` list matches no events.
   * @returns The matching events; empty for an unknown run.
   */
  async listRunEvents(runId: string, query?: RunEventQuery): Promise<FlueEvent[]> {
    assertRunId(runId);
    const checked = checkRunEventQuery(query);
    return await this.#run(`list events of run "${runId}"`, ({ sql, t }) => selectRunEvents(sql, t, runId, checked));
  }

  /** Stores a dispatch, or returns the one admitted earlier with the same idempotency key. */
  enqueueDispatch(dispatch: NewDispatch): Promise<DispatchReceipt> {
    return this.#run("enqueue a dispatch", ({ sql, t }) => enqueueDispatch(sql, t, dispatch));
  }

  /**
   * Claims the oldest dispatch that may run now, under a lease, with `FOR UPDATE SKIP LOCKED`: workers in any number of
   * processes claim in parallel and never get the same dispatch. See {@linkcode DispatchQueue.claimDispatch}.
   */
  claimDispatch(options: ClaimOptions): Promise<DispatchRecord | undefined> {
    return this.#run("claim a dispatch", ({ sql, t }) => claimDispatch(sql, t, options));
  }

  /** Extends a lease the worker holds, from the database's clock; false when it no longer holds it. */
  renewDispatchLease(dispatchId: string, worker: string, leaseMs: number): Promise<boolean> {
    return this.#run(
      `renew the lease of dispatch "${dispatchId}"`,
      ({ sql, t }) => renewDispatchLease(sql, t, dispatchId, worker, leaseMs),
    );
  }

  /** Marks a claimed dispatch `done`; false when the worker no longer holds its lease. */
  completeDispatch(dispatchId: string, worker: string, result: unknown): Promise<boolean> {
    return this.#run(
      `complete dispatch "${dispatchId}"`,
      ({ sql, t }) => completeDispatch(sql, t, dispatchId, worker, result),
    );
  }

  /** Records a failed attempt: `failed` until `retryAt`, else `dead`; false when the worker no longer holds its lease. */
  failDispatch(dispatchId: string, worker: string, error: DispatchError, retryAt?: Date): Promise<boolean> {
    return this.#run(
      `record a failure of dispatch "${dispatchId}"`,
      ({ sql, t }) => failDispatch(sql, t, dispatchId, worker, error, retryAt),
    );
  }

  /** Reads a dispatch, or `undefined`. */
  getDispatch(dispatchId: string): Promise<DispatchRecord | undefined> {
    return this.#run(`read dispatch "${dispatchId}"`, ({ sql, t }) => getDispatch(sql, t, dispatchId));
  }

  /** Lists dispatches in acceptance order. */
  listDispatches(query?: DispatchQuery): Promise<DispatchRecord[]> {
    return this.#run("list dispatches", ({ sql, t }) => listDispatches(sql, t, query));
  }

  /** Puts a `dead` dispatch back in the queue with a fresh set of attempts. */
  replayDispatch(dispatchId: string): Promise<DispatchRecord | undefined> {
    return this.#run(`replay dispatch "${dispatchId}"`, ({ sql, t }) => replayDispatch(sql, t, dispatchId));
  }

  /** Closes the pool, letting running queries finish for up to five seconds. Closing twice does nothing. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    const connection = await this.#connection?.catch(() => undefined);
    await connection?.sql.end({ timeout: 5 });
  }

  #connect(): Promise<Connection> {
    this.#connection ??= (async () => {
      const settings = this.#settings;
      const sql = await openPool(settings);
      try {
        const t = tableNames(sql, settings.schema);
        await migrate(sql, settings.schema, t);
        return { sql, t };
      } catch (error) {
        await sql.end({ timeout: 0 }).catch(() => {});
        throw error;
      }
    })();
    // A server that was down or a password fixed later: the next call tries again.
    this.#connection.catch(() => this.#connection = undefined);
    return this.#connection;
  }

  async #run<T>(action: string, work: (connection: Connection) => Promise<T>): Promise<T> {
    if (this.#isClosed) throw closedStoreError(this.kind);
    let connection: Connection;
    try {
      connection = await this.#connect();
    } catch (error) {
      throw explainPostgresError(error, this.#settings, `${action} (while connecting)`);
    }
    try {
      return await work(connection);
    } catch (error) {
      throw explainPostgresError(error, this.#settings, action);
    }
  }
}

function describeKey(key: SessionKey): string {
  return JSON.stringify([key.agent, key.instanceId, key.session]);
}
