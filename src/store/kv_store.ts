/**
 * The store for Deno Deploy: Deno KV, the managed database there, or a local file anywhere else.
 *
 * @module
 */

import { resolve } from "node:path";
import type { FlueEvent } from "../events/event_types.ts";
import {
  claimDispatch,
  completeDispatch,
  enqueueDispatch,
  failDispatch,
  getDispatch,
  listDispatches,
  renewDispatchLease,
  replayDispatch,
} from "./_kv_dispatch.ts";
import { describeDatabase, isUrlOrMemory, openKvDatabase } from "./_kv_database.ts";
import { appendEntries, deleteEntries, listSessionKeys, loadEntries } from "./_kv_history.ts";
import { assertNamesFit, assertSessionKeyFits, metaKey } from "./_kv_keys.ts";
import { insertRun, insertRunEvents, patchRun, selectAllRuns, selectRun, selectRunEvents } from "./_kv_runs.ts";
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
import { checkRunQuery, selectRunPage } from "./_run_query.ts";
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

/** The layout version this code writes; a database with a newer one is refused rather than misread. */
export const KV_SCHEMA_VERSION = 1;

/** Options for {@linkcode KvStore}. */
export interface KvStoreOptions {
  /**
   * Where the database is: a file (created with its folder when missing), `:memory:`, or a KV Connect URL. Omitted:
   * Deno's default database, which on Deno Deploy is the deployment's managed Deno KV, and elsewhere a file Deno keeps
   * under its cache folder for the entry module (`createStore("kv")` gives a path in the project instead).
   */
  path?: string;
}

/**
 * A {@linkcode Store} in Deno KV, for Deno Deploy, where there is no writable disk for the `sqlite` store. Every
 * change is one atomic commit checked against the versions it read, retried when another isolate or process got there
 * first: `seq` stays gapless under concurrent appends, and two claims never get the same dispatch. Values larger than a
 * Deno KV value (64 KiB) are split into chunks; see `docs/deploy.md` for the key layout and limits.
 *
 * Deno KV is unstable in Deno 2: run with `--unstable-kv`, or put `"unstable": ["kv"]` in `deno.json` (Deno Deploy
 * enables it). A file needs `--allow-read` and `--allow-write` for it. The database opens on the first call.
 *
 * @example Append and load a session in an in-memory database
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvStore } from "./kv_store.ts";
 *
 * const store = new KvStore({ path: ":memory:" });
 * const key = { agent: "assistant", instanceId: "42", session: "default" };
 * await store.append(key, [{
 *   message: { role: "user", content: "Hello" },
 *   source: "prompt",
 *   operationId: "op-1",
 *   timestamp: new Date().toISOString(),
 * }]);
 * assert.equal((await store.load(key))[0].seq, 0);
 * await store.close();
 * ```
 */
export class KvStore implements Store {
  /** Always `kv`. */
  readonly kind: "kv" = "kv";
  /** The database's file, `:memory:` or URL; `undefined` for Deno's default database. */
  readonly path: string | undefined;
  #kv: Promise<Deno.Kv> | undefined;
  #isClosed = false;

  /**
   * Checks the options; the database opens on the first call.
   *
   * @param options Where the database is.
   * @throws {TypeError} When `path` is not a non-empty string.
   */
  constructor(options: KvStoreOptions = {}) {
    const { path } = options;
    if (path !== undefined && (typeof path !== "string" || path === "")) {
      throw new TypeError(`The kv store's path must be a non-empty string, got ${JSON.stringify(path)}`);
    }
    this.path = path === undefined || isUrlOrMemory(path) ? path : resolve(path);
  }

  /**
   * Appends entries after the existing ones in one atomic commit; on any failure nothing is written.
   *
   * @param key The session.
   * @param entries The new entries, in order.
   * @returns The entries as stored, with their positions.
   */
  async append(key: SessionKey, entries: readonly NewHistoryEntry[]): Promise<HistoryEntry[]> {
    assertSessionKey(key);
    assertSessionKeyFits(key);
    assertNewEntries(entries);
    const kv = await this.#open();
    return entries.length === 0 ? [] : await appendEntries(kv, key, entries);
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
    assertSessionKeyFits(key);
    const afterSeq = checkAfterSeq(options);
    return await loadEntries(await this.#open(), key, afterSeq);
  }

  /**
   * Deletes a session's history.
   *
   * @param key The session.
   * @returns Whether the session had any entries.
   */
  async deleteSession(key: SessionKey): Promise<boolean> {
    assertSessionKey(key);
    assertSessionKeyFits(key);
    return await deleteEntries(await this.#open(), key);
  }

  /**
   * Lists sessions that have entries.
   *
   * @param filter Restricts the list by agent and instance id.
   * @returns The keys, sorted by agent, instance id, then session, by code point.
   */
  async listSessions(filter?: { agent?: string; instanceId?: string }): Promise<SessionKey[]> {
    assertSessionFilter(filter);
    assertNamesFit([filter?.agent ?? "", filter?.instanceId ?? ""], "The session filter");
    return await listSessionKeys(await this.#open(), filter);
  }

  /**
   * Records a new run.
   *
   * @param run The run; its `runId` must be new.
   */
  async createRun(run: RunRecord): Promise<void> {
    const record = normalizeRunRecord(run);
    assertNamesFit([record.runId], `The run id "${record.runId.slice(0, 100)}"`);
    await insertRun(await this.#open(), record);
  }

  /**
   * Changes a stored run.
   *
   * @param runId The run.
   * @param patch The fields to change.
   * @throws {NotFoundError} When there is no such run.
   */
  async updateRun(runId: string, patch: Partial<Omit<RunRecord, "runId">>): Promise<void> {
    this.#assertRunId(runId);
    assertRunPatch(runId, patch);
    await patchRun(await this.#open(), runId, patch);
  }

  /**
   * Reads a run.
   *
   * @param runId The run.
   * @returns The run, or `undefined` when there is none.
   */
  async getRun(runId: string): Promise<RunRecord | undefined> {
    this.#assertRunId(runId);
    return await selectRun(await this.#open(), runId);
  }

  /**
   * Lists runs, newest first. The kv store reads every run record and filters them in memory.
   *
   * @param query Filters (workflow, status) and the page (`before`, `limit`).
   * @returns The matching runs.
   */
  async listRuns(query?: RunQuery): Promise<RunRecord[]> {
    const checked = checkRunQuery(query);
    return selectRunPage(await selectAllRuns(await this.#open()), checked);
  }

  /**
   * Appends events to a run's log in one atomic commit, all or none; at most 400 at once.
   *
   * @param runId The run.
   * @param events The events; each `eventIndex` must be new in the run.
   * @throws {NotFoundError} When there is no such run.
   */
  async appendRunEvents(runId: string, events: readonly FlueEvent[]): Promise<void> {
    this.#assertRunId(runId);
    assertRunEvents(runId, events);
    await insertRunEvents(await this.#open(), runId, events);
  }

  /**
   * Reads a run's events in order of `eventIndex`.
   *
   * @param runId The run.
   * @param query Filters; an empty `types` list matches no events.
   * @returns The matching events; empty for an unknown run.
   */
  async listRunEvents(runId: string, query?: RunEventQuery): Promise<FlueEvent[]> {
    this.#assertRunId(runId);
    const checked = checkRunEventQuery(query);
    return await selectRunEvents(await this.#open(), runId, checked);
  }

  /** Stores a dispatch, or returns the one admitted earlier with the same idempotency key. */
  async enqueueDispatch(dispatch: NewDispatch): Promise<DispatchReceipt> {
    return await enqueueDispatch(await this.#open(), dispatch);
  }

  /**
   * Claims the oldest dispatch that may run now, under a lease, with a commit checked against the version it read:
   * workers in any number of isolates or processes never get the same dispatch. See
   * {@linkcode DispatchQueue.claimDispatch}.
   */
  async claimDispatch(options: ClaimOptions): Promise<DispatchRecord | undefined> {
    return await claimDispatch(await this.#open(), options);
  }

  /** Extends a lease the worker holds; false when it no longer holds it. */
  async renewDispatchLease(dispatchId: string, worker: string, leaseMs: number): Promise<boolean> {
    return await renewDispatchLease(await this.#open(), dispatchId, worker, leaseMs);
  }

  /** Marks a claimed dispatch `done`; false when the worker no longer holds its lease. */
  async completeDispatch(dispatchId: string, worker: string, result: unknown): Promise<boolean> {
    return await completeDispatch(await this.#open(), dispatchId, worker, result);
  }

  /** Records a failed attempt: `failed` until `retryAt`, else `dead`; false when the worker no longer holds its lease. */
  async failDispatch(dispatchId: string, worker: string, error: DispatchError, retryAt?: Date): Promise<boolean> {
    return await failDispatch(await this.#open(), dispatchId, worker, error, retryAt);
  }

  /** Reads a dispatch, or `undefined`. */
  async getDispatch(dispatchId: string): Promise<DispatchRecord | undefined> {
    return await getDispatch(await this.#open(), dispatchId);
  }

  /** Lists dispatches in acceptance order. */
  async listDispatches(query?: DispatchQuery): Promise<DispatchRecord[]> {
    return await listDispatches(await this.#open(), query);
  }

  /** Puts a `dead` dispatch back in the queue with a fresh set of attempts. */
  async replayDispatch(dispatchId: string): Promise<DispatchRecord | undefined> {
    return await replayDispatch(await this.#open(), dispatchId);
  }

  /** Closes the database. Closing twice does nothing; other calls then reject. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    const kv = await this.#kv?.catch(() => undefined);
    kv?.close();
  }

  #assertRunId(runId: string): void {
    assertRunId(runId);
    assertNamesFit([runId], `The run id "${runId.slice(0, 100)}"`);
  }

  #open(): Promise<Deno.Kv> {
    if (this.#isClosed) return Promise.reject(closedStoreError(this.kind));
    this.#kv ??= openDatabase(this.path);
    // A permission granted or a folder fixed later: the next call tries again.
    this.#kv.catch(() => this.#kv = undefined);
    return this.#kv.then((kv) => {
      if (this.#isClosed) throw closedStoreError(this.kind);
      return kv;
    });
  }
}

async function openDatabase(path: string | undefined): Promise<Deno.Kv> {
  const kv = await openKvDatabase(path);
  try {
    await checkSchema(kv, describeDatabase(path));
    return kv;
  } catch (error) {
    kv.close();
    throw error;
  }
}

/** Records the layout version in a new database and refuses one written by a newer Flue. */
async function checkSchema(kv: Deno.Kv, where: string): Promise<void> {
  const key = metaKey;
  for (let attempt = 0; attempt < 10; attempt++) {
    const meta = await kv.get<{ schemaVersion: number }>(key);
    if (meta.value !== null) {
      if (meta.value.schemaVersion > KV_SCHEMA_VERSION) {
        throw new Error(
          `${where} holds Flue's kv layout version ${meta.value.schemaVersion}, newer than the ` +
            `${KV_SCHEMA_VERSION} this Flue understands: upgrade Flue`,
        );
      }
      return;
    }
    if ((await kv.atomic().check(meta).set(key, { schemaVersion: KV_SCHEMA_VERSION }).commit()).ok) return;
  }
}
