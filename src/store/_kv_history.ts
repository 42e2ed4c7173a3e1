/**
 * The kv store's session history. Each append is one atomic commit that moves the session's position record on and
 * writes the whole batch under its first `seq`, checked against the position record it read: appenders in any number
 * of isolates or processes retry until theirs is the next commit, so `seq` stays gapless and a batch is never split.
 * Deleting a session removes its position record in one commit; a later append starts a new generation, so the old
 * batches, deleted afterwards, never mix with new ones. Input is checked by the caller.
 *
 * @module
 */

import { toJson } from "./_store_input.ts";
import { blobKey, describeKey, historyKey, type KvKey, sessionKey, sessionsPrefix } from "./_kv_keys.ts";
import { deleteKeys, readJson, retryOnConflict, type StoredJson, WritePlan } from "./_kv_values.ts";
import type { HistoryEntry, NewHistoryEntry, SessionKey } from "./store.ts";

/** A session's position record. */
interface SessionRecord {
  /** The `seq` the next entry gets. */
  nextSeq: number;
  /** Names the live copy of the history; a deleted and re-created session gets a new one. */
  generation: string;
}

/** Appends a batch in one commit after the entries already stored. */
export async function appendEntries(
  kv: Deno.Kv,
  key: SessionKey,
  entries: readonly NewHistoryEntry[],
): Promise<HistoryEntry[]> {
  const json = `[${
    entries.map((entry, index) =>
      `{"message":${toJson(entry.message, `The message of history entry ${index}`)},"source":${
        JSON.stringify(entry.source)
      },"operationId":${JSON.stringify(entry.operationId)},"timestamp":${JSON.stringify(entry.timestamp)}}`
    ).join(",")
  }]`;
  const plan = new WritePlan(kv);
  const stored = plan.bytes(new TextEncoder().encode(json));
  let first: number | undefined;
  try {
    first = await retryOnConflict(`append to session ${describeKey(key)}`, async () => {
      const current = await kv.get<SessionRecord>(sessionKey(key));
      const generation = current.value?.generation ?? crypto.randomUUID();
      const nextSeq = current.value?.nextSeq ?? 0;
      const operation = kv.atomic()
        .check(current)
        .set(sessionKey(key), { nextSeq: nextSeq + entries.length, generation } satisfies SessionRecord)
        .set(historyKey(key, generation, nextSeq), stored);
      return (await plan.commit(operation)).ok ? { done: nextSeq } : undefined;
    });
  } finally {
    if (first === undefined) await plan.discard();
  }
  const parsed: NewHistoryEntry[] = JSON.parse(json);
  return parsed.map((entry, index) => ({ ...entry, seq: first + index }));
}

/** Reads a session's entries after `afterSeq`, in order, as of the position record read first. */
export async function loadEntries(kv: Deno.Kv, key: SessionKey, afterSeq: number): Promise<HistoryEntry[]> {
  const session = await kv.get<SessionRecord>(sessionKey(key));
  if (session.value === null || afterSeq + 1 >= session.value.nextSeq) return [];
  const { generation, nextSeq } = session.value;
  const prefix = historyKey(key, generation);
  // Batches are keyed by their first seq: start at the last one that begins at or before afterSeq + 1.
  let start: Deno.KvKey | undefined;
  if (afterSeq >= 0) {
    const before = kv.list({ prefix, end: [...prefix, afterSeq + 2] }, { reverse: true, limit: 1 });
    for await (const entry of before) start = entry.key;
  }
  const history: HistoryEntry[] = [];
  for await (const batch of kv.list<StoredJson>(start === undefined ? { prefix } : { prefix, start })) {
    const firstSeq = batch.key.at(-1) as number;
    // Later batches were appended after the position record was read.
    if (firstSeq >= nextSeq) break;
    const entries = await readJson<NewHistoryEntry[]>(kv, batch.value);
    // Chunks gone means the session was deleted while this read ran.
    if (entries === undefined) return [];
    entries.forEach((entry, index) => {
      const seq = firstSeq + index;
      if (seq > afterSeq && seq < nextSeq) history.push({ ...entry, seq });
    });
  }
  return history;
}

/** Deletes a session: its position record in one commit, then the batches it pointed at. */
export async function deleteEntries(kv: Deno.Kv, key: SessionKey): Promise<boolean> {
  const generation = await retryOnConflict(`delete session ${describeKey(key)}`, async () => {
    const current = await kv.get<SessionRecord>(sessionKey(key));
    if (current.value === null) return { done: undefined };
    const result = await kv.atomic().check(current).delete(sessionKey(key)).commit();
    return result.ok ? { done: current.value.generation } : undefined;
  });
  if (generation === undefined) return false;
  // Nothing reads this generation any more, so its batches can go in as many commits as they need.
  const keys: KvKey[] = [];
  for await (const batch of kv.list<StoredJson>({ prefix: historyKey(key, generation) })) {
    keys.push(batch.key as KvKey);
    const stored = batch.value;
    if ("blob" in stored) {
      for (let index = 0; index < stored.chunks; index++) keys.push(blobKey(stored.blob, index));
    }
  }
  await deleteKeys(kv, keys);
  return true;
}

/** Lists sessions with entries, sorted by code point (Deno KV orders strings by their UTF-8 bytes). */
export async function listSessionKeys(
  kv: Deno.Kv,
  filter: { agent?: string; instanceId?: string } | undefined,
): Promise<SessionKey[]> {
  const prefix = sessionsPrefix(filter?.agent, filter?.agent === undefined ? undefined : filter.instanceId);
  const keys: SessionKey[] = [];
  for await (const entry of kv.list({ prefix: prefix })) {
    const [agent, instanceId, session] = entry.key.slice(2) as string[];
    if (filter?.instanceId !== undefined && instanceId !== filter.instanceId) continue;
    keys.push({ agent, instanceId, session });
  }
  return keys;
}
