/**
 * Where a project app runs, and the store and sandbox that work there. On Deno Deploy there is no writable disk for
 * the `sqlite` store or the `virtual` sandbox's workspaces, and no subprocesses for the `local` sandbox, so those
 * become the `kv` store and the `deno-sandbox` sandbox (with `DENO_DEPLOY_TOKEN`) or the `memory` one; every other
 * choice is kept.
 *
 * @module
 */

import type { AgentOptions } from "../agent/agent_options.ts";
import { isDenoDeploy } from "../deno_deploy.ts";
import type { StoreSpec } from "../store/create_store.ts";

/**
 * Where a project app runs: `local` (a machine with a disk), `deno-deploy`, or `auto`: `deno-deploy` when
 * `DENO_DEPLOYMENT_ID` is set (Deno Deploy sets it in every deployment), `local` otherwise.
 */
export type Platform = "auto" | "local" | "deno-deploy";

const PLATFORMS: readonly string[] = ["auto", "local", "deno-deploy"];
const NEEDS_DISK_SANDBOXES: readonly unknown[] = [undefined, "virtual", "local"];

/** The store and sandbox a project app uses on a platform. */
export interface PlatformChoices {
  /** The store. */
  store: StoreSpec;
  /** The sandbox, when one is configured or the platform needs one. */
  sandbox?: AgentOptions["sandbox"];
}

/**
 * Turns the configured store and sandbox into ones that work on the platform: on Deno Deploy the `sqlite` store (also
 * the default) becomes `kv` and the `virtual` or `local` sandbox (also the default) becomes `deno-sandbox` (Deno
 * Deploy's microVMs, real commands) when `DENO_DEPLOY_TOKEN` is set, and `memory` (a simulated shell) otherwise.
 *
 * @example On Deno Deploy, the defaults become kv and memory
 * ```ts
 * import assert from "node:assert/strict";
 * import { platformChoices } from "./platform.ts";
 *
 * assert.deepEqual(platformChoices("deno-deploy", undefined, "virtual"), { store: "kv", sandbox: "memory" });
 * assert.deepEqual(platformChoices("deno-deploy", "postgres", undefined), { store: "postgres", sandbox: "memory" });
 * assert.deepEqual(platformChoices("local", undefined, undefined), { store: "sqlite", sandbox: undefined });
 * ```
 *
 * @param platform Where the app runs; `local` when omitted.
 * @param store The configured store.
 * @param sandbox The configured sandbox.
 * @returns The store and sandbox to use.
 * @throws {TypeError} When `platform` is not one of `auto`, `local`, `deno-deploy`.
 */
export function platformChoices(
  platform: Platform | undefined,
  store: StoreSpec | undefined,
  sandbox: AgentOptions["sandbox"],
): PlatformChoices {
  if (platform !== undefined && !PLATFORMS.includes(platform)) {
    throw new TypeError(`Unknown platform ${JSON.stringify(platform)}: use "auto", "local" or "deno-deploy"`);
  }
  const onDeploy = platform === "deno-deploy" || (platform === "auto" && isDenoDeploy());
  if (!onDeploy) return { store: store ?? "sqlite", sandbox };
  // A ready store object is the caller's choice and stays; only the sqlite configuration is replaced.
  const isSqlite = store === undefined || store === "sqlite" ||
    (typeof store === "object" && store.kind === "sqlite" && !("append" in store));
  return {
    store: isSqlite ? "kv" : store,
    sandbox: NEEDS_DISK_SANDBOXES.includes(sandbox) ? (hasDenoDeployToken() ? "deno-sandbox" : "memory") : sandbox,
  };
}

function hasDenoDeployToken(): boolean {
  try {
    return Boolean(Deno.env.get("DENO_DEPLOY_TOKEN"));
  } catch {
    return false; // without --allow-env for it, the token cannot be used either
  }
}
