/**
 * The checks and the order of `Store.listRuns`, shared by the stores that filter runs in memory (memory, kv); the SQL
 * stores express the same order in their queries.
 *
 * @module
 */

import { compareCodePoints } from "./_store_input.ts";
import type { RunQuery, RunRecord, RunStatus } from "./store.ts";

const STATUSES: readonly RunStatus[] = ["running", "done", "failed", "aborted"];

/** A run query with its defaults applied. */
export interface CheckedRunQuery {
  /** Only runs of this workflow. */
  workflow?: string;
  /** Only runs in these states. */
  status?: readonly RunStatus[];
  /** Only runs after this one, newest first. */
  before?: { startedAt: string; runId: string };
  /** At most this many. */
  limit: number;
}

/**
 * Checks a run query and applies its defaults.
 *
 * @param query What `listRuns` was given.
 * @returns The checked query.
 * @throws {TypeError} When a field has the wrong type or an unknown status.
 */
export function checkRunQuery(query: unknown): CheckedRunQuery {
  if (query === undefined) return { limit: 100 };
  if (query === null || typeof query !== "object" || Array.isArray(query)) {
    throw new TypeError(`A run query must be an object, got ${JSON.stringify(query)}`);
  }
  const { workflow, status, before, limit } = query as RunQuery;
  if (workflow !== undefined && typeof workflow !== "string") {
    throw new TypeError(`The run query's "workflow" must be a string, got ${JSON.stringify(workflow)}`);
  }
  if (status !== undefined && (!Array.isArray(status) || !status.every((entry) => STATUSES.includes(entry)))) {
    throw new TypeError(
      `The run query's "status" must be a list of ${STATUSES.join(", ")}, got ${JSON.stringify(status)}`,
    );
  }
  if (
    before !== undefined &&
    (before === null || typeof before.startedAt !== "string" || typeof before.runId !== "string")
  ) {
    throw new TypeError(`The run query's "before" must be { startedAt, runId } of a listed run`);
  }
  if (limit !== undefined && (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 0)) {
    throw new TypeError(`The run query's "limit" must be a non-negative integer, got ${JSON.stringify(limit)}`);
  }
  return { workflow, status, before, limit: limit ?? 100 };
}

/**
 * Orders runs newest first: by `startedAt`, then by `runId`, both descending.
 *
 * @param left A run.
 * @param right Another run.
 * @returns A negative number when `left` comes first.
 */
export function compareRunsNewestFirst(
  left: Pick<RunRecord, "startedAt" | "runId">,
  right: Pick<RunRecord, "startedAt" | "runId">,
): number {
  return compareCodePoints(right.startedAt, left.startedAt) || compareCodePoints(right.runId, left.runId);
}

/**
 * Applies a checked query to runs held in memory.
 *
 * @param runs Every run.
 * @param query The checked query.
 * @returns The page, newest first.
 */
export function selectRunPage(runs: Iterable<RunRecord>, query: CheckedRunQuery): RunRecord[] {
  const { workflow, status, before, limit } = query;
  const matches = [...runs].filter((run) =>
    (workflow === undefined || run.workflow === workflow) &&
    (status === undefined || status.includes(run.status)) &&
    (before === undefined || compareRunsNewestFirst(before, run) < 0)
  );
  return matches.sort(compareRunsNewestFirst).slice(0, limit);
}
