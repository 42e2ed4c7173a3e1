/**
 * Opening the Deno KV database. A local file shared by several processes answers a write with "database is locked"
 * while another process commits (Deno's SQLite backend does not wait for the lock); such a commit did not happen, so
 * the wrapper here waits a moment and sends it again (reads and opening too), as Deno Deploy's managed database
 * does on its own.
 *
 * @module
 */

import { dirname } from "node:path";

/** How long a commit or read waits for another process's lock on a local file before failing. */
const LOCK_WAIT_MS = 30_000;

/** Whether the path names a database that is not a local file. */
export function isUrlOrMemory(path: string): boolean {
  return path === ":memory:" || /^https?:\/\//.test(path);
}

/**
 * Opens a database.
 *
 * @param path A file, `:memory:`, a KV Connect URL, or `undefined` for Deno's default database.
 * @returns The database, with commits and reads that wait out another process's lock.
 */
export async function openKvDatabase(path: string | undefined): Promise<Deno.Kv> {
  const openKv = (Deno as { openKv?: typeof Deno.openKv }).openKv;
  if (typeof openKv !== "function") {
    throw new Error(
      'Deno KV is not enabled, which the kv store needs: add "unstable": ["kv"] to deno.json or run deno with ' +
        "--unstable-kv",
    );
  }
  const where = describeDatabase(path);
  try {
    if (path !== undefined && !isUrlOrMemory(path)) await Deno.mkdir(dirname(path), { recursive: true });
    // Processes creating the same new file at once wait for each other's set-up too.
    return waitingForLocks(await whileLocked(() => openKv(path)));
  } catch (error) {
    const denied = error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;
    const hint = denied ? ": run with --allow-read and --allow-write for it" : "";
    throw new Error(`The kv store could not open ${where}: ${(error as Error).message}${hint}`, { cause: error });
  }
}

/** Names the database for messages. */
export function describeDatabase(path: string | undefined): string {
  return path === undefined ? "Deno's default Deno KV database" : `the Deno KV database "${path}"`;
}

function isLocked(error: unknown): boolean {
  return error instanceof Error && /database is (locked|busy)/i.test(error.message);
}

async function whileLocked<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 0;; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isLocked(error) || Date.now() > deadline) throw error;
      const ceiling = Math.min(2 ** Math.min(attempt, 5), 20);
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * ceiling));
    }
  }
}

function waitingForLocks(kv: Deno.Kv): Deno.Kv {
  return new Proxy(kv, {
    get(target, property) {
      if (property === "atomic") {
        return () => {
          const operation = target.atomic();
          const commit = operation.commit.bind(operation);
          operation.commit = () => whileLocked(commit);
          return operation;
        };
      }
      if (property === "get" || property === "getMany") {
        const read = target[property].bind(target) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => whileLocked(() => read(...args));
      }
      if (property === "list") {
        return (...args: Parameters<Deno.Kv["list"]>) => pagesWaitingForLocks(target.list(...args));
      }
      return bound(target, property);
    },
  });
}

/** A list whose page reads wait out a lock; a failed read leaves the cursor where it was, so it can be read again. */
function pagesWaitingForLocks<T>(iterator: Deno.KvListIterator<T>): Deno.KvListIterator<T> {
  const next = iterator.next.bind(iterator);
  const wrapped: Deno.KvListIterator<T> = new Proxy(iterator, {
    get(target, property) {
      if (property === "next") return () => whileLocked(next);
      if (property === Symbol.asyncIterator) return () => wrapped;
      return bound(target, property);
    },
  });
  return wrapped;
}

function bound(target: object, property: string | symbol): unknown {
  const value = Reflect.get(target, property, target);
  return typeof value === "function" ? value.bind(target) : value;
}
