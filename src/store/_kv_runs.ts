/**
 * The kv store's workflow runs and their events. A run record changes by read, check, write, so concurrent patches do
 * not lose each other's fields; every append of events also rewrites the run's log guard, so two appends of the same
 * `eventIndex` cannot both pass their checks. Input is checked by the caller.
 *
 * @module
 */

import type { FlueEvent } from "../events/event_types.ts";
import {
  type CheckedRunEventQuery,
  duplicateEventError,
  duplicateRunError,
  normalizeRunRecord,
  unknownRunError,
} from "./_store_input.ts";
import { type KvKey, runEventKey, runKey, runLogKey, runsPrefix } from "./_kv_keys.ts";
import { deleteChunks, readJson, retryOnConflict, type StoredJson, WritePlan } from "./_kv_values.ts";
import type { RunRecord } from "./store.ts";

/** Most events one append may carry: a commit holds at most 1000 mutations. */
export const MAX_EVENTS_PER_APPEND = 400;

interface RunLog {
  /** The highest `eventIndex` stored, so appends in increasing order need no look-up for duplicates. */
  maxIndex: number;
}

interface StoredEvent {
  type: string;
  value: StoredJson;
}

/** Inserts a new run; rejects a run id already taken. */
export async function insertRun(kv: Deno.Kv, run: RunRecord): Promise<void> {
  const plan = new WritePlan(kv);
  const stored = plan.json(run, `Run "${run.runId}"`);
  const key = runKey(run.runId);
  const result = await plan.commit(kv.atomic().check({ key, versionstamp: null }).set(key, stored));
  if (!result.ok) {
    await plan.discard();
    throw duplicateRunError(run.runId);
  }
}

/** Applies a patch to a run, checked against the version it read. */
export async function patchRun(kv: Deno.Kv, runId: string, patch: Partial<Omit<RunRecord, "runId">>): Promise<void> {
  await retryOnConflict(`update run "${runId}"`, async () => {
    const entry = await kv.get<StoredJson>(runKey(runId));
    if (entry.value === null) throw unknownRunError(runId);
    const current = await readJson<RunRecord>(kv, entry.value);
    if (current === undefined) return undefined;
    const plan = new WritePlan(kv);
    const stored = plan.json(normalizeRunRecord({ ...current, ...patch, runId }), `Run "${runId}"`);
    const result = await plan.commit(kv.atomic().check(entry).set(entry.key, stored));
    if (!result.ok) {
      await plan.discard();
      return undefined;
    }
    await deleteChunks(kv, entry.value);
    return { done: undefined };
  });
}

/** Reads a run. */
export async function selectRun(kv: Deno.Kv, runId: string): Promise<RunRecord | undefined> {
  return await retryOnConflict(`read run "${runId}"`, async () => {
    const entry = await kv.get<StoredJson>(runKey(runId));
    if (entry.value === null) return { done: undefined };
    const run = await readJson<RunRecord>(kv, entry.value);
    return run === undefined ? undefined : { done: run };
  });
}

/** Reads every run record. */
export async function selectAllRuns(kv: Deno.Kv): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for await (const entry of kv.list<StoredJson>({ prefix: runsPrefix() })) {
    const run = await readJson<RunRecord>(kv, entry.value);
    if (run !== undefined) runs.push(run);
  }
  return runs;
}

/** Stores a run's events in one commit, all or none; a repeated index rejects the whole batch. */
export async function insertRunEvents(kv: Deno.Kv, runId: string, events: readonly FlueEvent[]): Promise<void> {
  if (events.length > MAX_EVENTS_PER_APPEND) {
    throw new TypeError(
      `The kv store appends at most ${MAX_EVENTS_PER_APPEND} run events at once, got ${events.length}: split the batch`,
    );
  }
  const plan = new WritePlan(kv);
  const stored = events.map((event, index): StoredEvent => ({
    type: event.type,
    value: plan.json(event, `Run event ${index}`),
  }));
  let isDone = false;
  try {
    await retryOnConflict(`append events to run "${runId}"`, async () => {
      const [run, log] = await kv.getMany<[StoredJson, RunLog]>([runKey(runId), runLogKey(runId)]);
      if (run.value === null) throw unknownRunError(runId);
      if (events.length === 0) return { done: undefined };
      const maxIndex = log.value?.maxIndex ?? -1;
      await assertNewIndexes(kv, runId, events.filter((event) => event.eventIndex <= maxIndex));
      const operation = kv.atomic()
        .check(log)
        .set(log.key, { maxIndex: Math.max(maxIndex, ...events.map((event) => event.eventIndex)) } satisfies RunLog);
      events.forEach((event, index) => operation.set(runEventKey(runId, event.eventIndex), stored[index]));
      return (await plan.commit(operation)).ok ? { done: undefined } : undefined;
    });
    isDone = true;
  } finally {
    if (!isDone) await plan.discard();
  }
}

/** Throws when the run already holds one of these events' indexes; the log guard makes the answer hold at commit. */
async function assertNewIndexes(kv: Deno.Kv, runId: string, events: readonly FlueEvent[]): Promise<void> {
  for (let start = 0; start < events.length; start += 10) {
    const batch = events.slice(start, start + 10);
    const found = await kv.getMany(batch.map((event) => runEventKey(runId, event.eventIndex)));
    const taken = found.findIndex((entry) => entry.versionstamp !== null);
    if (taken >= 0) throw duplicateEventError(runId, batch[taken].eventIndex);
  }
}

/** Reads a run's events in order of `eventIndex`, skipping unwanted types before decoding them. */
export async function selectRunEvents(
  kv: Deno.Kv,
  runId: string,
  { after, limit, types }: CheckedRunEventQuery,
): Promise<FlueEvent[]> {
  const wanted = types === undefined ? undefined : new Set(types);
  if (limit === 0 || wanted?.size === 0) return [];
  const prefix = runEventKey(runId);
  const start: KvKey = [...prefix, after + 1];
  const events: FlueEvent[] = [];
  for await (const entry of kv.list<StoredEvent>({ prefix, start: start })) {
    if (wanted !== undefined && !wanted.has(entry.value.type)) continue;
    const event = await readJson<FlueEvent>(kv, entry.value.value);
    if (event !== undefined) events.push(event);
    if (limit !== undefined && events.length >= limit) break;
  }
  return events;
}
