/**
 * The sandbox registry: built-in sandboxes by name (`virtual`, `local`, `memory`, and the remote `deno-sandbox` and
 * `e2b`, whose adapters load only when chosen) and the ones an application adds.
 *
 * @module
 */

import { createLocalSandbox } from "./local_sandbox.ts";
import { createMemorySandbox } from "./memory_sandbox.ts";
import {
  checkRemoteCredentials,
  checkRemoteFactory,
  createNamedRemoteSandbox,
  isRemoteFactory,
  isRemoteSandboxName,
  REMOTE_SANDBOX_NAMES,
} from "./remote/remote_providers.ts";
import type { Sandbox, SandboxContext, SandboxFactory } from "./sandbox.ts";
import { createVirtualSandbox } from "./virtual_sandbox.ts";

const SANDBOX_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

const BUILT_IN_SANDBOXES: ReadonlyMap<string, SandboxFactory> = new Map<string, SandboxFactory>([
  ["virtual", createVirtualSandbox],
  ["local", createLocalSandbox],
  ["memory", (context) => createMemorySandbox(context)],
  ...REMOTE_SANDBOX_NAMES.map((name): [string, SandboxFactory] => [
    name,
    (context) => createNamedRemoteSandbox(name, context),
  ]),
]);

const registered = new Map<string, SandboxFactory>();

/**
 * Adds a sandbox under a name, so configuration can choose it with `"sandbox": "<name>"`. Registering a name again
 * replaces the earlier factory; built-in names cannot be replaced.
 *
 * @example Registering a sandbox
 * ```ts
 * import { createSandbox, listSandboxes, registerSandbox } from "./registry.ts";
 * import assert from "node:assert/strict";
 *
 * registerSandbox("scratch", (context) => createSandbox("memory", context));
 * assert.ok(listSandboxes().includes("scratch"));
 * ```
 *
 * @param name Lowercase letters, digits, `_` and `-`, starting with a letter, at most 64 characters.
 * @param factory Creates the sandbox for one agent instance and session.
 * @throws {TypeError} When the name is malformed, names a built-in sandbox, or the factory is not a function.
 */
export function registerSandbox(name: string, factory: SandboxFactory): void {
  if (typeof name !== "string" || !SANDBOX_NAME.test(name)) {
    throw new TypeError(
      `Invalid sandbox name ${
        JSON.stringify(name)
      }: use a lowercase letter, then lowercase letters, digits, "_" or "-" ` +
        `(at most 64)`,
    );
  }
  if (BUILT_IN_SANDBOXES.has(name)) {
    throw new TypeError(`Sandbox "${name}" is built in and cannot be replaced: register yours under another name`);
  }
  if (typeof factory !== "function") throw new TypeError(`Sandbox "${name}" needs a factory function`);
  registered.set(name, factory);
}

/**
 * Creates a sandbox from a registered name or a factory.
 *
 * @example Creating a memory sandbox by name
 * ```ts
 * import { createSandbox } from "./registry.ts";
 * import { DENY_ALL_POLICY } from "./sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * const sandbox = await createSandbox("memory", {
 *   projectDir: "/project",
 *   stateDir: "/project/.flue",
 *   agent: "demo",
 *   instanceId: "1",
 *   session: "main",
 *   policy: DENY_ALL_POLICY,
 * });
 * assert.equal(sandbox.kind, "memory");
 * await sandbox.close();
 * ```
 *
 * @param spec A sandbox name (`virtual`, `local`, `memory`, `deno-sandbox`, `e2b` or a registered one) or a factory.
 * @param context The agent, instance, session and policy the sandbox is for.
 * @returns The sandbox.
 * @throws {TypeError} When no sandbox has that name; the message lists the known ones.
 */
export async function createSandbox(spec: string | SandboxFactory, context: SandboxContext): Promise<Sandbox> {
  if (typeof spec === "function") return await spec(context);
  const factory = typeof spec === "string" ? BUILT_IN_SANDBOXES.get(spec) ?? registered.get(spec) : undefined;
  if (factory === undefined) {
    throw new TypeError(
      `Unknown sandbox ${JSON.stringify(spec)}: use one of ${listSandboxes().map((name) => `"${name}"`).join(", ")} ` +
        `or register it with registerSandbox()`,
    );
  }
  return await factory(context);
}

/**
 * The names `createSandbox` accepts: built-in ones first, then registered ones, each group sorted.
 *
 * @returns The sandbox names.
 */
export function listSandboxes(): string[] {
  return [...[...BUILT_IN_SANDBOXES.keys()].sort(), ...[...registered.keys()].sort()];
}

/**
 * Checks at agent start what a sandbox needs before its first use: a remote sandbox's credential (from the
 * environment, or the options given to `remoteSandbox()`). Other sandboxes need nothing checked here.
 *
 * @example A remote sandbox without its credential
 * ```ts
 * import { checkSandbox } from "./registry.ts";
 * import assert from "node:assert/strict";
 *
 * checkSandbox("virtual");
 * if (!Deno.env.get("E2B_API_KEY")) assert.throws(() => checkSandbox("e2b"), /E2B_API_KEY/);
 * ```
 *
 * @param spec A sandbox name or factory.
 * @throws {SandboxUnavailableError} When a remote sandbox's credential is missing; the message names the variable.
 */
export function checkSandbox(spec: string | SandboxFactory): void {
  if (typeof spec === "function") checkRemoteFactory(spec);
  else if (isRemoteSandboxName(spec)) checkRemoteCredentials(spec);
}

/**
 * Whether a sandbox's workspace outlives the process (a remote machine, reconnected by its stored id), so deleting a
 * session must reach it even when this process never opened it.
 *
 * @param spec A sandbox name or factory.
 * @returns `true` for the remote sandboxes.
 */
export function sandboxOutlivesProcess(spec: string | SandboxFactory): boolean {
  return typeof spec === "function" ? isRemoteFactory(spec) : isRemoteSandboxName(spec);
}
