/**
 * The kv store's dispatch records and session queues: reading a dispatch at one moment, and the commits that save a
 * changed one while keeping the claim index and its session's queue in step. Each commit checks the versions it read.
 *
 * @module
 */

import {
  claimableKey,
  dispatchIdKey,
  dispatchInputKey,
  dispatchKey,
  openDispatchKey,
  sessionQueueKey,
} from "./_kv_keys.ts";
import { deleteChunks, readJson, retryOnConflict, type StoredJson, WritePlan } from "./_kv_values.ts";
import type { DispatchRecord } from "./dispatch_queue.ts";

/** A dispatch's mutable part; the input is stored once beside it. */
export interface DispatchState {
  record: Omit<DispatchRecord, "input">;
  /** The `maxAttempts` it was admitted with, which a replay grants again. */
  admittedMaxAttempts: number;
}

/** A session queue's guard. */
export interface SessionQueue {
  /** How many of the session's dispatches are accepted, running or failed. */
  open: number;
  /** The position of the oldest of them, the one in the claim index. */
  head: number;
}

/** A claim index entry. */
export interface Claimable {
  dispatchId: string;
  agent: string;
  /** When it may be claimed, in milliseconds since the epoch. */
  readyAt: number;
}

/** A dispatch as read at one moment, with the versions its commit checks. */
export interface Loaded {
  position: number;
  stateEntry: Deno.KvEntry<StoredJson>;
  state: DispatchState;
  /** The dispatch's claim index entry: set when it is its session's head. */
  claimable: Deno.KvEntryMaybe<Claimable>;
}

// The shared state functions work on whole records; the input plays no part in them, so the state stands in.
export const asRecord = (state: DispatchState) => state.record as DispatchRecord;

/** When a dispatch may be claimed: its `availableAt`, or while running, its lease's end. */
export function readyAtOf(record: Omit<DispatchRecord, "input">): number {
  return Date.parse(record.status === "running" ? record.leaseExpiresAt! : record.availableAt);
}

/** The claim index entry of a session head. */
export function claimableOf(record: Omit<DispatchRecord, "input">): Claimable {
  return { dispatchId: record.dispatchId, agent: record.key.agent, readyAt: readyAtOf(record) };
}

/** Saves a changed dispatch that stays open, with its claim index entry when it is its session's head. */
export async function commitChange(kv: Deno.Kv, loaded: Loaded): Promise<boolean> {
  const plan = new WritePlan(kv);
  const operation = kv.atomic().check(loaded.stateEntry, loaded.claimable)
    .set(loaded.stateEntry.key, plan.json(loaded.state, "The dispatch"));
  if (loaded.claimable.value !== null) operation.set(loaded.claimable.key, claimableOf(loaded.state.record));
  return await commitWith(kv, plan, operation, loaded);
}

/** Saves a dispatch that became done or dead, taking it out of its session's queue and promoting the next one. */
export async function commitFinish(kv: Deno.Kv, loaded: Loaded): Promise<boolean> {
  const { record } = loaded.state;
  const queueKey = sessionQueueKey(record.key);
  const queue = await kv.get<SessionQueue>(queueKey);
  const plan = new WritePlan(kv);
  const operation = kv.atomic().check(loaded.stateEntry, loaded.claimable, queue)
    .set(loaded.stateEntry.key, plan.json(loaded.state, "The dispatch"))
    .delete(openDispatchKey(record.key, loaded.position));
  if (loaded.claimable.value !== null) operation.delete(loaded.claimable.key);
  const next = loaded.claimable.value === null ? undefined : await nextOpen(kv, loaded);
  if (queue.value === null || queue.value.open <= 1 || (loaded.claimable.value !== null && next === undefined)) {
    operation.delete(queueKey);
  } else if (next === undefined) {
    operation.set(queueKey, { ...queue.value, open: queue.value.open - 1 } satisfies SessionQueue);
  } else {
    // The next head's state decides when it is ready, so the commit also checks that state.
    operation.check(next.stateEntry, next.claimable)
      .set(claimableKey(next.position), claimableOf(next.state.record))
      .set(queueKey, { open: queue.value.open - 1, head: next.position } satisfies SessionQueue);
  }
  return await commitWith(kv, plan, operation, loaded);
}

/** The oldest open dispatch of the session after the head that is finishing. */
async function nextOpen(kv: Deno.Kv, head: Loaded): Promise<Loaded | undefined> {
  const prefix = openDispatchKey(head.state.record.key);
  for await (const entry of kv.list({ prefix }, { limit: 2 })) {
    const position = entry.key.at(-1) as number;
    if (position !== head.position) return await load(kv, position);
  }
  return undefined;
}

/** Commits a change and then deletes the chunks of the state it replaced; false when a check failed. */
export async function commitWith(
  kv: Deno.Kv,
  plan: WritePlan,
  operation: Deno.AtomicOperation,
  loaded: Loaded,
): Promise<boolean> {
  if (!(await plan.commit(operation)).ok) {
    await plan.discard();
    return false;
  }
  await deleteChunks(kv, loaded.stateEntry.value);
  return true;
}

/** The acceptance position of a dispatch id, or `undefined`. */
export async function positionOf(kv: Deno.Kv, dispatchId: string): Promise<number | undefined> {
  return (await kv.get<number>(dispatchIdKey(dispatchId))).value ?? undefined;
}

/** Reads a dispatch's state and claim index entry at one moment; `undefined` when there is none. */
export async function load(kv: Deno.Kv, position: number): Promise<Loaded | undefined> {
  return await retryOnConflict("read a dispatch", async () => {
    const [stateEntry, claimable] = await kv.getMany<[StoredJson, Claimable]>([
      dispatchKey(position),
      claimableKey(position),
    ]);
    if (stateEntry.value === null) return { done: undefined };
    const state = await readJson<DispatchState>(kv, stateEntry.value);
    if (state === undefined) return undefined;
    return { done: { position, stateEntry: stateEntry as Deno.KvEntry<StoredJson>, state, claimable } };
  });
}

/** The state in a listed entry; read again when its chunks were replaced meanwhile. */
export async function decode(kv: Deno.Kv, position: number, entry: Deno.KvEntry<StoredJson>) {
  return await readJson<DispatchState>(kv, entry.value) ?? (await load(kv, position))?.state;
}

/** The whole record of the dispatch at a position, or `undefined`. */
export async function readDispatch(kv: Deno.Kv, position: number): Promise<DispatchRecord | undefined> {
  const loaded = await load(kv, position);
  return loaded === undefined ? undefined : await withInput(kv, position, loaded.state);
}

/** The whole record: the state with its input. */
export async function withInput(kv: Deno.Kv, position: number, state: DispatchState): Promise<DispatchRecord> {
  const stored = await kv.get<StoredJson>(dispatchInputKey(position));
  // The input is written once with the record and never changes, so its chunks are always there.
  const input = await readJson(kv, stored.value!);
  const { dispatchId, key, ...rest } = state.record;
  return structuredClone({ dispatchId, key, input, ...rest });
}
