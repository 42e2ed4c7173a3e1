/**
 * Turns the `store` option (a name, a small object from configuration, or a ready store) into a {@linkcode Store}.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { isDenoDeploy } from "../deno_deploy.ts";
import { KvStore } from "./kv_store.ts";
import { MemoryStore } from "./memory_store.ts";
import { PostgresStore } from "./postgres_store.ts";
import { SqliteStore } from "./sqlite_store.ts";
import type { Store } from "./store.ts";

/** What the `store` option accepts: a built-in's name, its configuration, or any object implementing `Store`. */
export type StoreSpec =
  | "sqlite"
  | "memory"
  | "postgres"
  | "kv"
  | Store
  | { kind: "sqlite"; path?: string }
  | { kind: "memory" }
  | PostgresStoreSpec
  | KvStoreSpec;

/**
 * The kv store's configuration (Deno KV; see `docs/deploy.md`). `path` is a file (relative to the project), `:memory:`
 * or a KV Connect URL; without it, Deno Deploy's managed database on Deno Deploy and `<stateDir>/kv.sqlite3` elsewhere.
 */
export interface KvStoreSpec {
  /** Always `kv`. */
  kind: "kv";
  /** Where the database is. */
  path?: string;
}

/**
 * The postgres store's configuration. Without `url`, the URL comes from `FLUE_POSTGRES_URL`, then `DATABASE_URL`; keep
 * passwords out of configuration files. See `docs/postgres.md`.
 */
export interface PostgresStoreSpec {
  /** Always `postgres`. */
  kind: "postgres";
  /** The connection URL. */
  url?: string;
  /** The PostgreSQL schema holding Flue's tables; `flue` by default. */
  schema?: string;
  /** Most connections per process; 10 by default. */
  maxConnections?: number;
}

/** Where the project lives, for stores that keep files. */
export interface CreateStoreOptions {
  /** The project folder; relative store paths resolve against it. */
  projectDir: string;
  /** The folder for local state; defaults to `<projectDir>/.flue`. The sqlite file is `flue.db` inside it. */
  stateDir?: string;
}

const KNOWN_KINDS: readonly string[] = ["sqlite", "memory", "postgres", "kv"];
const CONFIG_KEYS: Readonly<Record<string, readonly string[]>> = {
  sqlite: ["kind", "path"],
  memory: ["kind"],
  postgres: ["kind", "url", "schema", "maxConnections"],
  kv: ["kind", "path"],
};
const STORE_METHODS: readonly (keyof Store)[] = [
  "append",
  "load",
  "deleteSession",
  "listSessions",
  "createRun",
  "updateRun",
  "getRun",
  "listRuns",
  "appendRunEvents",
  "listRunEvents",
  "enqueueDispatch",
  "claimDispatch",
  "renewDispatchLease",
  "completeDispatch",
  "failDispatch",
  "getDispatch",
  "listDispatches",
  "replayDispatch",
  "close",
];

/**
 * Builds the store a `store` option names. A ready store is returned as it is; `"sqlite"` opens
 * `<stateDir>/flue.db` (by default `<projectDir>/.flue/flue.db`), and `{ kind: "sqlite", path }` opens `path`,
 * resolved against `projectDir`. `"postgres"` connects to the URL in `FLUE_POSTGRES_URL` or `DATABASE_URL`, and
 * `{ kind: "postgres", url, schema, maxConnections }` to `url`; the connection is made on first use. `"kv"` opens Deno
 * KV: on Deno Deploy (`DENO_DEPLOYMENT_ID` set) the deployment's managed database, elsewhere `<stateDir>/kv.sqlite3`;
 * `{ kind: "kv", path }` opens `path` (resolved against `projectDir`, or `:memory:`, or a KV Connect URL).
 *
 * @param spec The `store` option.
 * @param options Where the project and its state live.
 * @returns The store.
 * @throws {TypeError} When `spec` is not a known store, naming the known ones.
 *
 * @example Create a memory store
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStore } from "./create_store.ts";
 *
 * const store = createStore("memory", { projectDir: "." });
 * assert.equal(store.kind, "memory");
 * await store.close();
 * ```
 */
export function createStore(spec: StoreSpec, options: CreateStoreOptions): Store {
  if (typeof options?.projectDir !== "string") {
    throw new TypeError(`createStore() needs options.projectDir as a string, got ${describe(options?.projectDir)}`);
  }
  if (options.stateDir !== undefined && typeof options.stateDir !== "string") {
    throw new TypeError(`The stateDir must be a string, got ${describe(options.stateDir)}`);
  }
  if (isStore(spec)) return spec;
  const missing = missingStoreMethods(spec);
  if (missing.length > 0 && missing.length < STORE_METHODS.length) {
    throw new TypeError(`The store object lacks the Store method(s) ${missing.join(", ")}: implement every method`);
  }
  const config = typeof spec === "string" ? { kind: spec } : spec as unknown;
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw unknownStoreError(spec);
  const { kind, path } = config as { kind?: unknown; path?: unknown };
  if (typeof kind !== "string" || !KNOWN_KINDS.includes(kind)) throw unknownStoreError(spec);
  const unknownKey = Object.keys(config).find((key) => !CONFIG_KEYS[kind].includes(key));
  if (unknownKey !== undefined) {
    throw new TypeError(
      `Unknown key "${unknownKey}" in the ${kind} store configuration: use ${CONFIG_KEYS[kind].join(", ")}`,
    );
  }
  if (kind === "memory") return new MemoryStore();
  if (kind === "postgres") {
    const { url, schema, maxConnections } = config as Omit<PostgresStoreSpec, "kind">;
    return new PostgresStore({ url, schema, maxConnections });
  }
  if (path !== undefined && (typeof path !== "string" || path === "")) {
    throw new TypeError(`The ${kind} store's path must be a non-empty string, got ${describe(path)}`);
  }
  const stateDir = resolve(options.projectDir, options.stateDir ?? ".flue");
  if (kind === "kv") {
    // Deno's own default outside Deploy is a file under its cache folder, one per entry module, so `flue serve` and
    // `deno serve server.ts` would not share it: the project's state folder keeps one database for every entry point.
    if (path === undefined) return new KvStore(isDenoDeploy() ? {} : { path: join(stateDir, "kv.sqlite3") });
    return new KvStore({ path: /^https?:\/\/|^:memory:$/.test(path) ? path : resolve(options.projectDir, path) });
  }
  return new SqliteStore({ projectDir: options.projectDir, path: path ?? join(stateDir, "flue.db") });
}

function isStore(value: unknown): value is Store {
  return typeof value === "object" && value !== null && typeof (value as Store).kind === "string" &&
    missingStoreMethods(value).length === 0;
}

function missingStoreMethods(value: unknown): string[] {
  if (typeof value !== "object" || value === null) return [...STORE_METHODS];
  const candidate = value as Record<string, unknown>;
  return STORE_METHODS.filter((method) => typeof candidate[method] !== "function");
}

function unknownStoreError(spec: unknown): TypeError {
  return new TypeError(
    `Unknown store ${
      describe(spec)
    }: use "sqlite", "memory", "postgres", "kv", { kind: "sqlite", path }, { kind: "postgres", url }, { kind: "kv", path }, or an object implementing Store`,
  );
}

function describe(value: unknown): string {
  return hidePasswords(describeValue(value));
}

function describeValue(value: unknown): string {
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

// A store configuration may hold a connection URL with a password, which must not reach an error message.
function hidePasswords(text: string): string {
  return text.replace(/(\/\/[^:/@\s"]*:)[^@\s"]*@/g, "$1***@");
}
