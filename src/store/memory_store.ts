/**
 * A store that keeps everything in the process's memory: for tests and throwaway runs.
 *
 * @module
 */

import type { FlueEvent } from "../events/event_types.ts";
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
  compareSessionKeys,
  copyJsonValue,
  duplicateEventError,
  duplicateRunError,
  normalizeRunRecord,
  unknownRunError,
} from "./_store_input.ts";
import { MemoryDispatchQueue } from "./_memory_dispatch_queue.ts";
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

/** Nested by agent, then instance id, then session name, so no two keys share a slot whatever characters they hold. */
type SessionTree = Map<string, Map<string, Map<string, HistoryEntry[]>>>;

interface StoredRun {
  record: RunRecord;
  /** Sorted by `eventIndex`. */
  events: FlueEvent[];
}

/**
 * A {@linkcode Store} held in memory. Values go in and come out as copies, in the JSON form a persistent store would give
 * back, so code tested against it behaves the same against `sqlite`.
 *
 * @example Append and load a session
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStore } from "./memory_store.ts";
 *
 * const store = new MemoryStore();
 * const key = { agent: "assistant", instanceId: "42", session: "default" };
 * await store.append(key, [{
 *   message: { role: "user", content: "Hello" },
 *   source: "prompt",
 *   operationId: "op-1",
 *   timestamp: new Date().toISOString(),
 * }]);
 * const history = await store.load(key);
 * assert.equal(history[0].seq, 0);
 * await store.close();
 * ```
 */
export class MemoryStore implements Store {
  /** Always `memory`. */
  readonly kind: "memory" = "memory";
  #sessions: SessionTree = new Map();
  #runs = new Map<string, StoredRun>();
  #dispatches = new MemoryDispatchQueue();
  #isClosed = false;

  /**
   * Appends entries after the existing ones, all or none.
   *
   * @param key The session.
   * @param entries The new entries, in order.
   * @returns Copies of the entries as stored, with their positions.
   */
  append(key: SessionKey, entries: readonly NewHistoryEntry[]): Promise<HistoryEntry[]> {
    return this.#run(() => {
      assertSessionKey(key);
      assertNewEntries(entries);
      if (entries.length === 0) return [];
      const history = this.#history(key, true)!;
      const stored = entries.map((entry, index): HistoryEntry => ({
        seq: history.length + index,
        message: copyJsonValue(entry.message, `The message of history entry ${index}`),
        source: entry.source,
        operationId: entry.operationId,
        timestamp: entry.timestamp,
      }));
      history.push(...stored);
      return structuredClone(stored);
    });
  }

  /**
   * Reads a session's history.
   *
   * @param key The session.
   * @returns Copies of the entries, in order; empty for a session never written.
   */
  load(key: SessionKey, options: LoadOptions = {}): Promise<HistoryEntry[]> {
    return this.#run(() => {
      assertSessionKey(key);
      const afterSeq = checkAfterSeq(options);
      // Entries sit at the index of their seq, so the tail is a slice.
      return structuredClone((this.#history(key, false) ?? []).slice(afterSeq + 1));
    });
  }

  /**
   * Deletes a session's history.
   *
   * @param key The session.
   * @returns Whether the session had any entries.
   */
  deleteSession(key: SessionKey): Promise<boolean> {
    return this.#run(() => {
      assertSessionKey(key);
      const instances = this.#sessions.get(key.agent);
      const sessions = instances?.get(key.instanceId);
      if (!sessions?.has(key.session)) return false;
      sessions!.delete(key.session);
      if (sessions!.size === 0) instances!.delete(key.instanceId);
      if (instances!.size === 0) this.#sessions.delete(key.agent);
      return true;
    });
  }

  /**
   * Lists sessions that have entries.
   *
   * @param filter Restricts the list by agent and instance id.
   * @returns The keys, sorted by agent, instance id, then session, by code point.
   */
  listSessions(filter?: { agent?: string; instanceId?: string }): Promise<SessionKey[]> {
    return this.#run(() => {
      assertSessionFilter(filter);
      const keys: SessionKey[] = [];
      for (const [agent, instances] of this.#sessions) {
        if (filter?.agent !== undefined && agent !== filter.agent) continue;
        for (const [instanceId, sessions] of instances) {
          if (filter?.instanceId !== undefined && instanceId !== filter.instanceId) continue;
          for (const session of sessions.keys()) {
            keys.push({ agent, instanceId, session });
          }
        }
      }
      return keys.sort(compareSessionKeys);
    });
  }

  /**
   * Records a new run.
   *
   * @param run The run; its `runId` must be new.
   */
  createRun(run: RunRecord): Promise<void> {
    return this.#run(() => {
      const record = normalizeRunRecord(run);
      if (this.#runs.has(record.runId)) {
        throw duplicateRunError(record.runId);
      }
      this.#runs.set(record.runId, { record, events: [] });
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
    return this.#run(() => {
      const stored = this.#storedRun(runId);
      assertRunPatch(runId, patch);
      stored.record = normalizeRunRecord({ ...stored.record, ...patch, runId });
    });
  }

  /**
   * Reads a run.
   *
   * @param runId The run.
   * @returns A copy of the run, or `undefined` when there is none.
   */
  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#run(() => {
      assertRunId(runId);
      const stored = this.#runs.get(runId);
      return stored ? structuredClone(stored.record) : undefined;
    });
  }

  /**
   * Lists runs, newest first.
   *
   * @param query Filters (workflow, status) and the page (`before`, `limit`).
   * @returns The matching runs.
   */
  listRuns(query?: RunQuery): Promise<RunRecord[]> {
    return this.#run(() => {
      const checked = checkRunQuery(query);
      return structuredClone(selectRunPage([...this.#runs.values()].map((stored) => stored.record), checked));
    });
  }

  /**
   * Appends events to a run's log, all or none.
   *
   * @param runId The run.
   * @param events The events; each `eventIndex` must be new in the run.
   * @throws {NotFoundError} When there is no such run.
   */
  appendRunEvents(runId: string, events: readonly FlueEvent[]): Promise<void> {
    return this.#run(() => {
      const stored = this.#storedRun(runId);
      assertRunEvents(runId, events);
      const existing = new Set(stored.events.map((event) => event.eventIndex));
      const copies = events.map((event, index) => {
        if (existing.has(event.eventIndex)) throw duplicateEventError(runId, event.eventIndex);
        return copyJsonValue(event, `Run event ${index}`);
      });
      stored.events.push(...copies);
      stored.events.sort((left, right) => left.eventIndex - right.eventIndex);
    });
  }

  /**
   * Reads a run's events in order of `eventIndex`.
   *
   * @param runId The run.
   * @param query Filters; an empty `types` list matches no events.
   * @returns Copies of the matching events; empty for an unknown run.
   */
  listRunEvents(runId: string, query?: RunEventQuery): Promise<FlueEvent[]> {
    return this.#run(() => {
      assertRunId(runId);
      const { after, limit, types } = checkRunEventQuery(query);
      const wanted = types ? new Set(types) : undefined;
      const matches: FlueEvent[] = [];
      for (const event of this.#runs.get(runId)?.events ?? []) {
        if (limit !== undefined && matches.length >= limit) break;
        if (event.eventIndex > after && (!wanted || wanted.has(event.type))) matches.push(event);
      }
      return structuredClone(matches);
    });
  }

  /** Stores a dispatch, or returns the one admitted earlier with the same idempotency key. */
  enqueueDispatch(dispatch: NewDispatch): Promise<DispatchReceipt> {
    return this.#run(() => this.#dispatches.enqueue(dispatch));
  }

  /** Claims the oldest dispatch that may run now, under a lease; see {@linkcode DispatchQueue.claimDispatch}. */
  claimDispatch(options: ClaimOptions): Promise<DispatchRecord | undefined> {
    return this.#run(() => this.#dispatches.claim(options));
  }

  /** Extends a lease the worker holds; false when it no longer holds it. */
  renewDispatchLease(dispatchId: string, worker: string, leaseMs: number): Promise<boolean> {
    return this.#run(() => this.#dispatches.renew(dispatchId, worker, leaseMs));
  }

  /** Marks a claimed dispatch `done`; false when the worker no longer holds its lease. */
  completeDispatch(dispatchId: string, worker: string, result: unknown): Promise<boolean> {
    return this.#run(() => this.#dispatches.complete(dispatchId, worker, result));
  }

  /** Records a failed attempt: `failed` until `retryAt`, else `dead`; false when the worker no longer holds its lease. */
  failDispatch(dispatchId: string, worker: string, error: DispatchError, retryAt?: Date): Promise<boolean> {
    return this.#run(() => this.#dispatches.fail(dispatchId, worker, error, retryAt));
  }

  /** Reads a dispatch, or `undefined`. */
  getDispatch(dispatchId: string): Promise<DispatchRecord | undefined> {
    return this.#run(() => this.#dispatches.get(dispatchId));
  }

  /** Lists dispatches in acceptance order. */
  listDispatches(query?: DispatchQuery): Promise<DispatchRecord[]> {
    return this.#run(() => this.#dispatches.list(query));
  }

  /** Puts a `dead` dispatch back in the queue with a fresh set of attempts. */
  replayDispatch(dispatchId: string): Promise<DispatchRecord | undefined> {
    return this.#run(() => this.#dispatches.replay(dispatchId));
  }

  /** Drops everything; further calls reject. */
  close(): Promise<void> {
    this.#isClosed = true;
    this.#sessions.clear();
    this.#runs.clear();
    this.#dispatches.clear();
    return Promise.resolve();
  }

  /** Runs synchronous work as one step, so concurrent callers never see each other's partial changes. */
  #run<T>(work: () => T): Promise<T> {
    try {
      if (this.#isClosed) throw closedStoreError(this.kind);
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #history(key: SessionKey, create: boolean): HistoryEntry[] | undefined {
    let instances = this.#sessions.get(key.agent);
    if (!instances && create) this.#sessions.set(key.agent, instances = new Map());
    let sessions = instances?.get(key.instanceId);
    if (!sessions && create) instances!.set(key.instanceId, sessions = new Map());
    let history = sessions?.get(key.session);
    if (!history && create) sessions!.set(key.session, history = []);
    return history;
  }

  #storedRun(runId: string): StoredRun {
    assertRunId(runId);
    const stored = this.#runs.get(runId);
    if (!stored) throw unknownRunError(runId);
    return stored;
  }
}
