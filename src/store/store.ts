/**
 * The `Store` interface: sessions (append-only history keyed by agent, instance id and session name), workflow runs
 * with their ordered events, and the durable dispatch queue. Implementations: `sqlite` (default), `memory`, `postgres`
 * and `kv`; all pass one contract suite.
 *
 * @module
 */

import type { FlueEvent } from "../events/event_types.ts";
import type { Message } from "../model/message.ts";
import type { DispatchQueue } from "./dispatch_queue.ts";

/** Identifies one session. The three parts are stored separately, so no two distinct keys can collide. */
export interface SessionKey {
  /** The agent's name. */
  readonly agent: string;
  /** The agent instance id. */
  readonly instanceId: string;
  /** The session name within the instance. */
  readonly session: string;
}

/**
 * What produced a history entry. Two sources are not conversation turns: `compaction` is a summary whose message also
 * records (`compactedThrough`) the last `seq` it replaces in the model's context, and `output` holds the whole text of
 * a tool result that was cut for the model (see `docs/compaction.md`).
 */
export type EntrySource = "prompt" | "skill" | "task" | "shell" | "retry" | "dispatch" | "compaction" | "output";

/** A history entry before the store gives it a position. */
export interface NewHistoryEntry {
  /** The message. */
  message: Message;
  /** What produced it. */
  source: EntrySource;
  /** The operation that produced it. */
  operationId: string;
  /** ISO 8601 time it was produced. */
  timestamp: string;
}

/** A stored history entry. */
export interface HistoryEntry extends NewHistoryEntry {
  /** Position in the session's history, from 0, without gaps. */
  seq: number;
}

/** Options of {@linkcode Store.load}. */
export interface LoadOptions {
  /** Only entries whose `seq` is greater than this; every entry when omitted. */
  afterSeq?: number;
}

/** The state of a workflow run. */
export type RunStatus = "running" | "done" | "failed" | "aborted";

/** A workflow run as stored. */
export interface RunRecord {
  /** The run id, such as `workflow:summarize:01J...`. */
  runId: string;
  /** The workflow's name. */
  workflow: string;
  /** The instance id the run was given. */
  instanceId: string;
  /** Current state. */
  status: RunStatus;
  /** The input payload. */
  payload: unknown;
  /** The workflow's return value, once done. */
  result?: unknown;
  /** The error, once failed. */
  error?: { name: string; message: string };
  /** ISO 8601 start time. */
  startedAt: string;
  /** ISO 8601 end time, once ended. */
  endedAt?: string;
}

/** Filters for reading a run's events. */
export interface RunEventQuery {
  /** Only events with `eventIndex` greater than this. */
  after?: number;
  /** At most this many events. */
  limit?: number;
  /** Only events of these types. */
  types?: readonly string[];
}

/** Filters and a page of {@linkcode Store.listRuns}. Runs come newest first (by `startedAt`, then `runId`). */
export interface RunQuery {
  /** Only runs of this workflow. */
  workflow?: string;
  /** Only runs in one of these states. */
  status?: readonly RunStatus[];
  /** Only runs listed after this one in the order above: the last run of the previous page. */
  before?: { startedAt: string; runId: string };
  /** At most this many runs; 100 by default. */
  limit?: number;
}

/** Where sessions, runs and dispatched inputs are kept. */
export interface Store extends DispatchQueue {
  /** The implementation's name, such as `sqlite`. */
  readonly kind: string;
  /**
   * Appends entries to a session's history, all or none, after the existing ones.
   *
   * @param key The session.
   * @param entries The new entries, in order.
   * @returns The entries as stored, with their positions.
   */
  append(key: SessionKey, entries: readonly NewHistoryEntry[]): Promise<HistoryEntry[]>;
  /**
   * Reads a session's history, in order: all of it, or only the entries after a known position.
   *
   * @param key The session.
   * @param options `afterSeq`: only entries whose `seq` is greater (for catching up with other writers).
   * @returns The entries; empty for a session never written.
   */
  load(key: SessionKey, options?: LoadOptions): Promise<HistoryEntry[]>;
  /**
   * Deletes a session's history.
   *
   * @param key The session.
   * @returns Whether anything was deleted.
   */
  deleteSession(key: SessionKey): Promise<boolean>;
  /**
   * Lists stored sessions, optionally of one agent or one instance.
   *
   * @param filter Restricts the list by agent and instance id.
   * @returns The keys, sorted by agent, instance id, then session.
   */
  listSessions(filter?: { agent?: string; instanceId?: string }): Promise<SessionKey[]>;
  /**
   * Records a new run.
   *
   * @param run The run; its `runId` must be new.
   */
  createRun(run: RunRecord): Promise<void>;
  /**
   * Changes a stored run.
   *
   * @param runId The run.
   * @param patch The fields to change.
   */
  updateRun(runId: string, patch: Partial<Omit<RunRecord, "runId">>): Promise<void>;
  /**
   * Reads a run.
   *
   * @param runId The run.
   * @returns The run, or `undefined` when there is none.
   */
  getRun(runId: string): Promise<RunRecord | undefined>;
  /**
   * Lists runs, newest first.
   *
   * @param query Filters (workflow, status) and the page (`before`, `limit`).
   * @returns The matching runs.
   */
  listRuns(query?: RunQuery): Promise<RunRecord[]>;
  /**
   * Appends events to a run's log, keeping their `eventIndex`.
   *
   * @param runId The run.
   * @param events The events, in order.
   */
  appendRunEvents(runId: string, events: readonly FlueEvent[]): Promise<void>;
  /**
   * Reads a run's events in order.
   *
   * @param runId The run.
   * @param query Filters.
   * @returns The matching events.
   */
  listRunEvents(runId: string, query?: RunEventQuery): Promise<FlueEvent[]>;
  /** Releases the store's resources. Further calls fail. */
  close(): Promise<void>;
}
