/**
 * Input checks and helpers shared by the store implementations, so every store rejects the same bad input with the same
 * message and stores the same JSON form of a value.
 *
 * @module
 */

import { NotFoundError } from "../errors.ts";
import type { FlueEvent } from "../events/event_types.ts";
import type { EntrySource, NewHistoryEntry, RunRecord, RunStatus, SessionKey } from "./store.ts";

const ENTRY_SOURCES: ReadonlySet<string> = new Set<EntrySource>([
  "prompt",
  "skill",
  "task",
  "shell",
  "retry",
  "dispatch",
  "compaction",
  "output",
]);
const RUN_STATUSES: ReadonlySet<string> = new Set<RunStatus>(["running", "done", "failed", "aborted"]);
const MESSAGE_ROLES: ReadonlySet<string> = new Set(["system", "user", "assistant", "tool"]);
const RUN_FIELDS: ReadonlySet<string> = new Set([
  "runId",
  "workflow",
  "instanceId",
  "status",
  "payload",
  "result",
  "error",
  "startedAt",
  "endedAt",
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function quote(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Checks a name that becomes part of a key. A NUL is cut off by SQLite on read, and a lone surrogate becomes U+FFFD when
 * encoded as UTF-8, so either would let two distinct names meet in one row.
 */
function assertKeyPart(value: unknown, what: string): asserts value is string {
  if (typeof value !== "string") throw new TypeError(`The ${what} must be a string, got ${quote(value)}`);
  if (value.includes("\u0000")) throw new TypeError(`The ${what} ${quote(value)} contains a NUL character: remove it`);
  if (!value.isWellFormed()) {
    throw new TypeError(`The ${what} ${quote(value)} contains a lone surrogate: use well-formed Unicode`);
  }
}

/**
 * Checks the options of `load` and returns the position to read after (-1 for the whole history).
 *
 * @param options The options as given.
 * @returns `afterSeq`, or -1.
 */
export function checkAfterSeq(options: unknown): number {
  if (options === null || typeof options !== "object") throw new TypeError("load() options must be an object");
  const afterSeq = (options as { afterSeq?: unknown }).afterSeq;
  if (afterSeq === undefined) return -1;
  if (typeof afterSeq !== "number" || !Number.isInteger(afterSeq) || afterSeq < -1) {
    throw new TypeError(`afterSeq must be a whole number from -1, got ${JSON.stringify(afterSeq)}`);
  }
  return afterSeq;
}

/** Throws a `TypeError` unless `key` is a session key of three usable strings. */
export function assertSessionKey(key: unknown): asserts key is SessionKey {
  if (!isRecord(key)) throw new TypeError(`A session key must be an object, got ${quote(key)}`);
  assertKeyPart(key.agent, "agent name");
  assertKeyPart(key.instanceId, "instance id");
  assertKeyPart(key.session, "session name");
}

/** Throws a `TypeError` unless `filter` is an optional `{ agent?, instanceId? }`. */
export function assertSessionFilter(filter: unknown): asserts filter is { agent?: string; instanceId?: string } {
  if (filter === undefined) return;
  if (!isRecord(filter)) throw new TypeError(`A session filter must be an object, got ${quote(filter)}`);
  if (filter.agent !== undefined) assertKeyPart(filter.agent, "agent filter");
  if (filter.instanceId !== undefined) assertKeyPart(filter.instanceId, "instance id filter");
}

/** Throws a `TypeError` unless `entries` is an array of well-formed new history entries. */
export function assertNewEntries(entries: unknown): asserts entries is readonly NewHistoryEntry[] {
  if (!Array.isArray(entries)) throw new TypeError(`History entries must be an array, got ${quote(entries)}`);
  entries.forEach((entry: unknown, index) => {
    const where = `History entry ${index}`;
    if (!isRecord(entry)) throw new TypeError(`${where} must be an object, got ${quote(entry)}`);
    const message = entry.message;
    if (!isRecord(message) || typeof message.role !== "string" || !MESSAGE_ROLES.has(message.role)) {
      throw new TypeError(`${where} needs a message with a role of ${[...MESSAGE_ROLES].join(", ")}`);
    }
    if (typeof entry.source !== "string" || !ENTRY_SOURCES.has(entry.source)) {
      throw new TypeError(
        `${where} has an unknown source ${quote(entry.source)}: use one of ${[...ENTRY_SOURCES].join(", ")}`,
      );
    }
    if (typeof entry.operationId !== "string") throw new TypeError(`${where} needs a string operationId`);
    if (typeof entry.timestamp !== "string") throw new TypeError(`${where} needs an ISO 8601 string timestamp`);
  });
}

/** Throws a `TypeError` unless `runId` is a non-empty, storable run id. */
export function assertRunId(runId: unknown): asserts runId is string {
  assertKeyPart(runId, "run id");
  if (runId === "") throw new TypeError("The run id must not be empty");
}

/** Throws a `TypeError` unless `run` is a complete run record. */
export function assertRunRecord(run: unknown): asserts run is RunRecord {
  if (!isRecord(run)) throw new TypeError(`A run must be an object, got ${quote(run)}`);
  assertRunId(run.runId);
  assertRunFields(run, `Run ${quote(run.runId)}`);
}

/** Throws a `TypeError` unless `patch` changes only known run fields, and never the run id. */
export function assertRunPatch(runId: string, patch: unknown): asserts patch is Partial<Omit<RunRecord, "runId">> {
  if (!isRecord(patch)) throw new TypeError(`A run patch must be an object, got ${quote(patch)}`);
  if ("runId" in patch) throw new TypeError(`A run patch cannot change the run id of ${quote(runId)}`);
  for (const field of Object.keys(patch)) {
    if (!RUN_FIELDS.has(field)) {
      throw new TypeError(`Unknown run field ${quote(field)}: use one of ${[...RUN_FIELDS].slice(1).join(", ")}`);
    }
  }
}

function assertRunFields(run: Record<string, unknown>, where: string): void {
  if (typeof run.workflow !== "string") throw new TypeError(`${where} needs a string workflow name`);
  assertKeyPart(run.instanceId, "run's instance id");
  if (typeof run.status !== "string" || !RUN_STATUSES.has(run.status)) {
    throw new TypeError(
      `${where} has an unknown status ${quote(run.status)}: use one of ${[...RUN_STATUSES].join(", ")}`,
    );
  }
  if (typeof run.startedAt !== "string") throw new TypeError(`${where} needs an ISO 8601 string startedAt`);
  if (run.endedAt !== undefined && typeof run.endedAt !== "string") {
    throw new TypeError(`${where} has an endedAt that is not a string: ${quote(run.endedAt)}`);
  }
  const error = run.error;
  if (
    error !== undefined && (!isRecord(error) || typeof error.name !== "string" || typeof error.message !== "string")
  ) {
    throw new TypeError(`${where} has an error that is not { name, message } strings: ${quote(error)}`);
  }
}

/**
 * Builds the stored form of a run: only the known fields, JSON values copied, absent fields left out.
 *
 * @returns The run as it will read back.
 */
export function normalizeRunRecord(run: RunRecord): RunRecord {
  assertRunRecord(run);
  const stored: RunRecord = {
    runId: run.runId,
    workflow: run.workflow,
    instanceId: run.instanceId,
    status: run.status,
    payload: copyJsonValue(run.payload, `The payload of run ${quote(run.runId)}`),
    startedAt: run.startedAt,
  };
  if (run.result !== undefined) stored.result = copyJsonValue(run.result, `The result of run ${quote(run.runId)}`);
  if (run.error !== undefined) stored.error = { name: run.error.name, message: run.error.message };
  if (run.endedAt !== undefined) stored.endedAt = run.endedAt;
  return stored;
}

/** Throws a `TypeError` unless `events` are events with unique, non-negative integer indexes that belong to `runId`. */
export function assertRunEvents(runId: string, events: unknown): asserts events is readonly FlueEvent[] {
  if (!Array.isArray(events)) throw new TypeError(`Run events must be an array, got ${quote(events)}`);
  const seen = new Set<number>();
  events.forEach((event: unknown, index) => {
    const where = `Run event ${index}`;
    if (!isRecord(event) || typeof event.type !== "string") {
      throw new TypeError(`${where} must be an event with a type`);
    }
    const eventIndex = event.eventIndex;
    if (typeof eventIndex !== "number" || !Number.isSafeInteger(eventIndex) || eventIndex < 0) {
      throw new TypeError(`${where} needs a non-negative integer eventIndex, got ${quote(eventIndex)}`);
    }
    if (seen.has(eventIndex)) throw new TypeError(`${where} repeats eventIndex ${eventIndex}: indexes must be unique`);
    seen.add(eventIndex);
    if (event.runId !== undefined && event.runId !== runId) {
      throw new TypeError(
        `${where} belongs to run ${quote(event.runId)}, not ${quote(runId)}: append it to its own run`,
      );
    }
  });
}

/** The checked form of a `RunEventQuery`: `after` is -1 and `limit` undefined when not given. */
export interface CheckedRunEventQuery {
  /** Events with a greater index only. */
  after: number;
  /** At most this many, when given. */
  limit?: number;
  /** Only these types, when given. */
  types?: readonly string[];
}

/** Checks a run event query and fills in its defaults. */
export function checkRunEventQuery(query: unknown): CheckedRunEventQuery {
  if (query === undefined) return { after: -1 };
  if (!isRecord(query)) throw new TypeError(`A run event query must be an object, got ${quote(query)}`);
  const { after, limit, types } = query;
  if (after !== undefined && (typeof after !== "number" || !Number.isSafeInteger(after))) {
    throw new TypeError(`The query's "after" must be an integer, got ${quote(after)}`);
  }
  if (limit !== undefined && (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 0)) {
    throw new TypeError(`The query's "limit" must be a non-negative integer, got ${quote(limit)}`);
  }
  if (types !== undefined && (!Array.isArray(types) || !types.every((type) => typeof type === "string"))) {
    throw new TypeError(`The query's "types" must be an array of strings, got ${quote(types)}`);
  }
  return { after: after ?? -1, limit, types };
}

/**
 * Serialises a value to JSON, saying which value could not be stored and why.
 *
 * @param value The value.
 * @param what What it is, for the error message, such as `The message of history entry 2`.
 * @returns The JSON text; `undefined` for `undefined`.
 */
export function toJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`${what} cannot be stored as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (text === undefined) throw new TypeError(`${what} cannot be stored as JSON: it is ${typeof value}`);
  return text;
}

/** Copies a JSON value, so the copy reads back exactly as a persistent store would return it. */
export function copyJsonValue<T>(value: T, what: string): T {
  return value === undefined ? value : JSON.parse(toJson(value, what));
}

/**
 * Orders strings by Unicode code point, which is also the byte order of their UTF-8 form, so every store lists keys in
 * the order SQLite's default collation gives.
 */
export function compareCodePoints(left: string, right: string): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    const a = left.codePointAt(index)!;
    const b = right.codePointAt(index)!;
    if (a !== b) return a - b;
    if (a > 0xffff) index++;
  }
  return left.length - right.length;
}

/** Orders session keys by agent, instance id, then session. */
export function compareSessionKeys(left: SessionKey, right: SessionKey): number {
  return compareCodePoints(left.agent, right.agent) || compareCodePoints(left.instanceId, right.instanceId) ||
    compareCodePoints(left.session, right.session);
}

/** The error every call on a closed store rejects with. */
export function closedStoreError(kind: string): Error {
  return new Error(`The ${kind} store is closed: create a new store to use it again`);
}

/** The error for a `runId` that is already taken. */
export function duplicateRunError(runId: string): Error {
  return new Error(`A run with id "${runId}" already exists: give each run a new id`);
}

/** The error for an event whose `eventIndex` its run already holds. */
export function duplicateEventError(runId: string, eventIndex: number): Error {
  return new Error(`Run "${runId}" already has an event with index ${eventIndex}: event indexes must be unique`);
}

/** The error for a run that does not exist. */
export function unknownRunError(runId: string): NotFoundError {
  return new NotFoundError("run", runId, `No run with id "${runId}": record it with createRun() first`);
}
