/**
 * The kv store's key layout. Every key starts with `"flue"`, so Flue shares a Deno KV database with an application's
 * own keys without meeting them; a session's agent, instance id and session name are separate key parts, so no two
 * distinct sessions share a key whatever characters their names hold.
 *
 * | Key                                               | Value                                                   |
 * | ------------------------------------------------- | ------------------------------------------------------- |
 * | `meta`                                            | `{ schemaVersion }`                                     |
 * | `session`, agent, instance, session               | `{ nextSeq, generation }`: positions and the live copy  |
 * | `history`, agent, instance, session, gen, first   | one appended batch: its entries as JSON                 |
 * | `blob`, id, n                                     | chunk n of a value too large for one key               |
 * | `run`, runId / `run-log`, runId                   | the run record / `{ maxIndex }` of its events          |
 * | `run-event`, runId, eventIndex                    | `{ type, value }`                                       |
 * | `dispatch-counter`                                | the last acceptance position given out                 |
 * | `dispatch`, position (and `..., "input"`)         | the dispatch's mutable state (and its input, immutable) |
 * | `dispatch-id`, id / `idem`, key                   | the dispatch's position                                 |
 * | `session-dispatch`, agent, instance, session, pos | every dispatch of a session                             |
 * | `open-dispatch`, agent, instance, session, pos    | its accepted, running and failed dispatches             |
 * | `session-queue`, agent, instance, session         | `{ open, head }`: the session queue's guard             |
 * | `claimable`, position                             | `{ dispatchId, agent, readyAt }`, one per session head  |
 *
 * @module
 */

import type { SessionKey } from "./store.ts";

/** A Deno KV key. */
export type KvKey = Deno.KvKey;

const ROOT = "flue";

/** The most UTF-8 bytes the names in one key may take: Deno KV refuses keys over 2048 bytes, and ours add ~100. */
export const MAX_NAME_BYTES = 1900;

const encoder = new TextEncoder();

/** The store's schema record. */
export const metaKey: KvKey = [ROOT, "meta"];

/** The prefix of every session's position record, or of those of one agent or agent instance. */
export function sessionsPrefix(agent?: string, instanceId?: string): KvKey {
  if (agent === undefined) return [ROOT, "session"];
  return instanceId === undefined ? [ROOT, "session", agent] : [ROOT, "session", agent, instanceId];
}

/** A session's position record: the next `seq` and the generation its batches are stored under. */
export function sessionKey(key: SessionKey): KvKey {
  return [ROOT, "session", key.agent, key.instanceId, key.session];
}

/** The batches of one generation of a session, or the one that starts at `firstSeq`. */
export function historyKey(key: SessionKey, generation: string, firstSeq?: number): KvKey {
  const prefix = [ROOT, "history", key.agent, key.instanceId, key.session, generation];
  return firstSeq === undefined ? prefix : [...prefix, firstSeq];
}

/** The chunks of a large value, or one of them. */
export function blobKey(blobId: string, chunk?: number): KvKey {
  return chunk === undefined ? [ROOT, "blob", blobId] : [ROOT, "blob", blobId, chunk];
}

/** A run's record. */
export function runKey(runId: string): KvKey {
  return [ROOT, "run", runId];
}

/** The prefix of every run record. */
export function runsPrefix(): KvKey {
  return [ROOT, "run"];
}

/** A run's event log guard: every append to the run's events changes it. */
export function runLogKey(runId: string): KvKey {
  return [ROOT, "run-log", runId];
}

/** A run's events, or one of them. */
export function runEventKey(runId: string, eventIndex?: number): KvKey {
  return eventIndex === undefined ? [ROOT, "run-event", runId] : [ROOT, "run-event", runId, eventIndex];
}

/** The last acceptance position given to a dispatch. */
export const dispatchCounterKey: KvKey = [ROOT, "dispatch-counter"];

/** Every dispatch's state and input, in acceptance order. */
export const dispatchesPrefix: KvKey = [ROOT, "dispatch"];

/** A dispatch's mutable state. */
export function dispatchKey(position: number): KvKey {
  return [ROOT, "dispatch", position];
}

/** A dispatch's input, written once; it sorts right after the state. */
export function dispatchInputKey(position: number): KvKey {
  return [ROOT, "dispatch", position, "input"];
}

/** Maps a dispatch id to its position. */
export function dispatchIdKey(dispatchId: string): KvKey {
  return [ROOT, "dispatch-id", dispatchId];
}

/** Maps an idempotency key, unique across the store, to the position of the dispatch admitted with it. */
export function idempotencyKey(key: string): KvKey {
  return [ROOT, "idem", key];
}

/** Every dispatch of a session, or one, by position. */
export function sessionDispatchKey(key: SessionKey, position?: number): KvKey {
  const prefix = [ROOT, "session-dispatch", key.agent, key.instanceId, key.session];
  return position === undefined ? prefix : [...prefix, position];
}

/** The open (accepted, running, failed) dispatches of a session, or one, by position. */
export function openDispatchKey(key: SessionKey, position?: number): KvKey {
  const prefix = [ROOT, "open-dispatch", key.agent, key.instanceId, key.session];
  return position === undefined ? prefix : [...prefix, position];
}

/** A session queue's guard: every change to the session's open dispatches changes it. */
export function sessionQueueKey(key: SessionKey): KvKey {
  return [ROOT, "session-queue", key.agent, key.instanceId, key.session];
}

/** The claim index: each session's head (its oldest open dispatch), by position. */
export const claimablePrefix: KvKey = [ROOT, "claimable"];

/** The claim index entry of the dispatch at `position`. */
export function claimableKey(position: number): KvKey {
  return [ROOT, "claimable", position];
}

/** How many bytes a key takes in Deno KV's encoding, near enough to batch deletes under its limits. */
export function keyBytes(key: KvKey): number {
  let bytes = 0;
  for (const part of key) bytes += typeof part === "string" ? encoder.encode(part).length + 2 : 9;
  return bytes;
}

/**
 * Throws a `TypeError` when names would make a key longer than Deno KV accepts.
 *
 * @param names The names that become key parts.
 * @param what What they are, for the message, such as `The session key`.
 */
export function assertNamesFit(names: readonly string[], what: string): void {
  const bytes = names.reduce((sum, name) => sum + encoder.encode(name).length, 0);
  if (bytes > MAX_NAME_BYTES) {
    throw new TypeError(
      `${what} takes ${bytes} bytes in UTF-8, more than the ${MAX_NAME_BYTES} the kv store can key (Deno KV keys ` +
        `are at most 2 KiB): use shorter names`,
    );
  }
}

/** Throws a `TypeError` when a session key's names are too long for a Deno KV key. */
export function assertSessionKeyFits(key: SessionKey): void {
  assertNamesFit([key.agent, key.instanceId, key.session], `The session key ${describeKey(key)}`);
}

/** A session key for messages, cut short when long. */
export function describeKey(key: SessionKey): string {
  const text = JSON.stringify([key.agent, key.instanceId, key.session]);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
