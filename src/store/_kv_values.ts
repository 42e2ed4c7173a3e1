/**
 * How the kv store keeps JSON values within Deno KV's limits: a value is at most 64 KiB and one atomic commit writes at
 * most 1000 mutations and 800 KiB. A value up to {@linkcode INLINE_BYTES} of UTF-8 JSON is stored in place; a larger one
 * is cut into chunks under `["flue", "blob", id, n]` and its place holds `{ blob, chunks, bytes }`. Chunks ride in the
 * commit that refers to them while they fit its budget; the rest are written first, in commits of their own, under a
 * new id that nothing refers to yet, so a reader never sees part of a value. A process that dies between those commits
 * leaves chunks nothing refers to, which take space but are never read.
 *
 * @module
 */

import { toJson } from "./_store_input.ts";
import { blobKey, keyBytes, type KvKey } from "./_kv_keys.ts";

/** A JSON value as stored: in place, or as a reference to its chunks. */
export type StoredJson = { json: Uint8Array } | { blob: string; chunks: number; bytes: number };

/** Largest JSON value, in UTF-8 bytes, kept in place (Deno KV values are at most 65536 bytes). */
export const INLINE_BYTES = 60_000;
/** Bytes per chunk of a large value. */
const CHUNK_BYTES = 60_000;
/** Bytes of values one commit carries, below Deno KV's 819200 to leave room for keys and small records. */
const COMMIT_BYTES = 600_000;
/** Mutations of values one commit carries, below Deno KV's 1000 to leave room for the record keys. */
const COMMIT_MUTATIONS = 900;
/** Keys per delete commit, and their encoded bytes, below Deno KV's 1000 mutations and 80 KiB of keys. */
const DELETE_KEYS = 500;
const DELETE_KEY_BYTES = 60_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The commit Deno KV gives back. */
export type CommitResult = Deno.KvCommitResult | Deno.KvCommitError;

/**
 * The values one commit writes. Encode each with {@linkcode WritePlan.json}, then commit through
 * {@linkcode WritePlan.commit}, which first writes the chunks that do not fit the commit. A plan can commit again after
 * a failed check (the chunks written first stay valid); {@linkcode WritePlan.discard} deletes them when the plan is
 * given up.
 */
export class WritePlan {
  readonly #kv: Deno.Kv;
  #bytes = 0;
  #mutations = 0;
  readonly #inCommit: [KvKey, Uint8Array][] = [];
  readonly #staged: [KvKey, Uint8Array][] = [];
  #isStaged = false;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /**
   * Encodes a value for this commit.
   *
   * @param value A JSON value.
   * @param what What it is, for the error when it is not JSON.
   * @returns What to store in its key.
   */
  json(value: unknown, what: string): StoredJson {
    return this.bytes(encoder.encode(toJson(value, what)));
  }

  /** Places UTF-8 JSON bytes: in place when small and the commit has room, else as chunks. */
  bytes(bytes: Uint8Array): StoredJson {
    if (bytes.length <= INLINE_BYTES && this.#fits(bytes.length)) {
      this.#take(bytes.length);
      return { json: bytes };
    }
    const blob = crypto.randomUUID();
    const chunks = Math.max(1, Math.ceil(bytes.length / CHUNK_BYTES));
    for (let index = 0; index < chunks; index++) {
      // A copy, not a view: a view would be stored with the whole buffer behind it.
      const chunk = bytes.slice(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES);
      const entry: [KvKey, Uint8Array] = [blobKey(blob, index), chunk];
      if (this.#fits(chunk.length)) {
        this.#take(chunk.length);
        this.#inCommit.push(entry);
      } else {
        this.#staged.push(entry);
      }
    }
    this.#take(0); // the reference itself is a mutation of the commit
    return { blob, chunks, bytes: bytes.length };
  }

  /**
   * Writes the chunks that do not fit (once), adds the others to `operation`, and commits it.
   *
   * @param operation The commit, with its checks and the records that refer to the values.
   * @returns Deno KV's result: `ok` false when a check failed.
   */
  async commit(operation: Deno.AtomicOperation): Promise<CommitResult> {
    if (!this.#isStaged) {
      await writeInBatches(this.#kv, this.#staged);
      this.#isStaged = true;
    }
    for (const [key, chunk] of this.#inCommit) operation.set(key, chunk);
    return await operation.commit();
  }

  /** Deletes chunks written ahead of a commit that will not happen; best effort, since nothing refers to them. */
  async discard(): Promise<void> {
    if (!this.#isStaged || this.#staged.length === 0) return;
    await deleteKeys(this.#kv, this.#staged.map(([key]) => key)).catch(() => {});
  }

  #fits(bytes: number): boolean {
    return this.#bytes + bytes <= COMMIT_BYTES && this.#mutations < COMMIT_MUTATIONS;
  }

  #take(bytes: number): void {
    this.#bytes += bytes;
    this.#mutations++;
  }
}

async function writeInBatches(kv: Deno.Kv, entries: readonly [KvKey, Uint8Array][]): Promise<void> {
  let operation = kv.atomic();
  let bytes = 0;
  let count = 0;
  for (const [key, chunk] of entries) {
    if (count > 0 && bytes + chunk.length > COMMIT_BYTES) {
      await commitOrThrow(operation);
      [operation, bytes, count] = [kv.atomic(), 0, 0];
    }
    operation.set(key, chunk);
    bytes += chunk.length;
    count++;
  }
  if (count > 0) await commitOrThrow(operation);
}

async function commitOrThrow(operation: Deno.AtomicOperation): Promise<void> {
  // Without checks a commit fails only on an error, which Deno KV throws.
  const result = await operation.commit();
  if (!result.ok) throw new Error("A Deno KV commit without checks failed");
}

/**
 * Reads a stored value. A chunked value whose chunks are gone (the record was replaced since it was read, and the old
 * chunks deleted) gives `undefined`: read the record again.
 *
 * @param kv The database.
 * @param stored What the record holds.
 * @returns The value, or `undefined` when its chunks are gone.
 */
export async function readJson<T>(kv: Deno.Kv, stored: StoredJson): Promise<T | undefined> {
  if ("json" in stored) return JSON.parse(decoder.decode(stored.json));
  const bytes = new Uint8Array(stored.bytes);
  let offset = 0;
  let count = 0;
  for await (const entry of kv.list<Uint8Array>({ prefix: blobKey(stored.blob) })) {
    bytes.set(entry.value, offset);
    offset += entry.value.length;
    count++;
  }
  if (count !== stored.chunks || offset !== stored.bytes) return undefined;
  return JSON.parse(decoder.decode(bytes));
}

/**
 * Deletes the chunks of a value no record refers to any more; best effort.
 *
 * @param kv The database.
 * @param stored The value the record held before.
 */
export async function deleteChunks(kv: Deno.Kv, stored: StoredJson | undefined): Promise<void> {
  if (stored === undefined || "json" in stored) return;
  const keys = Array.from({ length: stored.chunks }, (_, index) => blobKey(stored.blob, index));
  await deleteKeys(kv, keys).catch(() => {});
}

/**
 * Deletes keys in as many commits as Deno KV's limits need.
 *
 * @param kv The database.
 * @param keys The keys.
 */
export async function deleteKeys(kv: Deno.Kv, keys: readonly KvKey[]): Promise<void> {
  let operation = kv.atomic();
  let count = 0;
  let bytes = 0;
  for (const key of keys) {
    const size = keyBytes(key);
    if (count >= DELETE_KEYS || bytes + size > DELETE_KEY_BYTES) {
      await commitOrThrow(operation);
      [operation, count, bytes] = [kv.atomic(), 0, 0];
    }
    operation.delete(key);
    count++;
    bytes += size;
  }
  if (count > 0) await commitOrThrow(operation);
}

/** Most tries of a read-check-write step before it gives up. */
const MAX_TRIES = 500;

/**
 * Runs an optimistic step until its checks pass: `step` reads, then commits with checks on what it read, and returns
 * `{ done: value }`, or `undefined` when a check failed because another writer got there first. Waits a little,
 * growing and jittered, between tries so contending writers spread out.
 *
 * @param what What the step does, for the error when it never gets through.
 * @param step One try.
 * @returns The step's value.
 */
export async function retryOnConflict<T>(what: string, step: () => Promise<{ done: T } | undefined>): Promise<T> {
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const outcome = await step();
    if (outcome !== undefined) return outcome.done;
    const ceiling = Math.min(2 ** Math.min(attempt, 6), 50);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
  }
  throw new Error(
    `The kv store could not ${what}: other writers changed the same keys ${MAX_TRIES} times in a row; try again`,
  );
}
