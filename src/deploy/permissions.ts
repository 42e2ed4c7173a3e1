/**
 * The Deno permission flags a deployed Flue server needs, derived from its configuration instead of `-A`.
 *
 * @module
 */

import type { FlueConfig } from "../project/config.ts";

/**
 * The permission flags for serving a project with the given configuration:
 * - `--allow-net` and `--allow-env` always (the server listens; model keys, `FLUE_*` overrides and tokens are read
 *   from the environment);
 * - `--allow-read` always (project files, skills, `AGENTS.md`, the workspace runner);
 * - `--allow-write` when anything is kept on disk: the sqlite or a local kv store, or a `virtual` or `local` sandbox;
 * - `--allow-run` when commands or file operations run in subprocesses: a `virtual` or `local` sandbox (the Deno
 *   file runner, bubblewrap), `allowShell`, or the `code` tool;
 * - `--allow-sys` alongside `--allow-run`, which the subprocess runners need to size their limits;
 * - `--unstable-kv` for the kv store.
 *
 * @example The default configuration (sqlite store, virtual sandbox)
 * ```ts
 * import assert from "node:assert/strict";
 * import { permissionFlags } from "./permissions.ts";
 *
 * assert.deepEqual(permissionFlags({}), [
 *   "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--allow-run", "--allow-sys",
 * ]);
 * assert.deepEqual(permissionFlags({ store: "memory", sandbox: "memory" }), ["--allow-net", "--allow-env", "--allow-read"]);
 * ```
 *
 * @param config The project's `"flue"` configuration.
 * @returns The flags, in a stable order.
 */
export function permissionFlags(config: FlueConfig): string[] {
  const store = typeof config.store === "string" ? config.store : config.store?.kind ?? "sqlite";
  const storePath = typeof config.store === "object" && "path" in config.store ? config.store.path : undefined;
  const sandbox = config.sandbox ?? "virtual";
  const localSandbox = sandbox === "virtual" || sandbox === "local";
  const onDisk = store === "sqlite" || (store === "kv" && !storePath?.startsWith("https:")) || localSandbox;
  const subprocesses = localSandbox || config.allowShell === true || config.code === true;
  const flags = ["--allow-net", "--allow-env", "--allow-read"];
  if (onDisk) flags.push("--allow-write");
  if (subprocesses) flags.push("--allow-run", "--allow-sys");
  if (store === "kv") flags.push("--unstable-kv");
  return flags;
}
