/**
 * Whether the code runs on Deno Deploy, where there is no writable disk and no subprocesses.
 *
 * @module
 */

/**
 * Whether this process runs on Deno Deploy: Deploy sets `DENO_DEPLOYMENT_ID` in every deployment. Without
 * `--allow-env` for it, the answer is no.
 *
 * @example Outside Deno Deploy
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDenoDeploy } from "./deno_deploy.ts";
 *
 * assert.equal(isDenoDeploy(), Boolean(Deno.env.get("DENO_DEPLOYMENT_ID")));
 * ```
 *
 * @returns `true` on Deno Deploy.
 */
export function isDenoDeploy(): boolean {
  try {
    return Boolean(Deno.env.get("DENO_DEPLOYMENT_ID"));
  } catch {
    return false; // no --allow-env: not a Deploy isolate, which always may read its environment
  }
}
