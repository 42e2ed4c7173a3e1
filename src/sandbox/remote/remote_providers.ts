/**
 * The built-in remote sandboxes by name: which credential each needs and how its adapter is loaded (a dynamic import,
 * only when the sandbox is chosen, so the core never loads a provider SDK).
 *
 * @module
 */

import { SandboxUnavailableError } from "../../errors.ts";
import type { SandboxContext, SandboxFactory } from "../sandbox.ts";
import type { DaytonaProviderOptions, DenoSandboxProviderOptions, E2BProviderOptions } from "./remote_options.ts";
import type { RemoteProvider } from "./remote_machine.ts";
import { createRemoteSandbox, type RemoteLifecycleOptions } from "./remote_sandbox.ts";

/** The built-in remote sandboxes. */
export type RemoteSandboxName = "deno-sandbox" | "e2b" | "daytona";

/** Options of each built-in remote sandbox: its provider's connection options plus lifecycle and limits. */
export interface RemoteSandboxOptionsByName {
  /** Deno Deploy's microVMs (`npm:@deno/sandbox`). */
  "deno-sandbox": DenoSandboxProviderOptions & RemoteLifecycleOptions;
  /** E2B (`npm:e2b`). */
  e2b: E2BProviderOptions & RemoteLifecycleOptions;
  /** Daytona (`npm:@daytonaio/sdk`). */
  daytona: DaytonaProviderOptions & RemoteLifecycleOptions;
}

interface ProviderEntry {
  /** The npm package the adapter loads. */
  packageName: string;
  /** Environment variables that hold the credential, and the option that replaces each. */
  credentials: { variable: string; option: string }[];
  /** Loads the adapter. */
  load(options: Record<string, unknown>): Promise<RemoteProvider>;
}

const PROVIDERS: Readonly<Record<RemoteSandboxName, ProviderEntry>> = {
  "deno-sandbox": {
    packageName: "@deno/sandbox",
    credentials: [{ variable: "DENO_DEPLOY_TOKEN", option: "token" }],
    load: async (options) => (await import("./deno_sandbox.ts")).denoSandboxProvider(options),
  },
  e2b: {
    packageName: "e2b",
    credentials: [{ variable: "E2B_API_KEY", option: "apiKey" }],
    load: async (options) => (await import("./e2b_sandbox.ts")).e2bProvider(options),
  },
  daytona: {
    packageName: "@daytonaio/sdk",
    credentials: [{ variable: "DAYTONA_API_KEY", option: "apiKey" }],
    load: async (options) => (await import("./daytona_sandbox.ts")).daytonaProvider(options),
  },
};

/** The names of the built-in remote sandboxes. */
export const REMOTE_SANDBOX_NAMES: readonly RemoteSandboxName[] = Object.freeze(
  Object.keys(PROVIDERS) as RemoteSandboxName[],
);

const LIFECYCLE_KEYS: ReadonlySet<string> = new Set([
  "idleTimeoutMs",
  "lifetimeMs",
  "keepOnClose",
  "defaultTimeoutMs",
  "defaultMaxOutputBytes",
  "maxSeedFiles",
  "ids",
]);

const checks = new WeakMap<SandboxFactory, () => void>();

/**
 * Whether a name is a built-in remote sandbox.
 *
 * @param name A sandbox name.
 * @returns `true` for `deno-sandbox`, `e2b` and `daytona`.
 */
export function isRemoteSandboxName(name: string): name is RemoteSandboxName {
  return Object.hasOwn(PROVIDERS, name);
}

/**
 * A sandbox factory for a built-in remote sandbox with options: endpoints, credentials given directly instead of
 * through the environment, lifecycle and limits. Pass it as the agent's `sandbox`, or register it under a name.
 *
 * @example Deno Deploy's microVMs with a shorter idle timeout
 * ```ts
 * import { remoteSandbox } from "./remote_providers.ts";
 * import assert from "node:assert/strict";
 *
 * const sandbox = remoteSandbox("deno-sandbox", { token: "ddo_example", idleTimeoutMs: 5 * 60_000 });
 * assert.equal(typeof sandbox, "function");
 * ```
 *
 * @param name The provider: `deno-sandbox`, `e2b` or `daytona`.
 * @param options The provider's options plus lifecycle and limits.
 * @returns The factory; agents check its credential when they start.
 * @throws {TypeError} When the name is not a built-in remote sandbox.
 */
export function remoteSandbox<Name extends RemoteSandboxName>(
  name: Name,
  options: RemoteSandboxOptionsByName[Name] = {},
): SandboxFactory {
  if (!isRemoteSandboxName(name)) {
    throw new TypeError(
      `Unknown remote sandbox ${JSON.stringify(name)}: use one of ${
        REMOTE_SANDBOX_NAMES.map((known) => `"${known}"`).join(", ")
      }`,
    );
  }
  const given = options as Record<string, unknown>;
  const factory: SandboxFactory = (context) => createNamedRemoteSandbox(name, context, given);
  checks.set(factory, () => checkRemoteCredentials(name, given));
  return factory;
}

/**
 * Creates a built-in remote sandbox: loads its adapter, then connects or creates the session's machine.
 *
 * @param name The provider.
 * @param context The sandbox context.
 * @param options Provider options plus lifecycle and limits.
 * @returns The sandbox.
 * @throws {SandboxUnavailableError} When the credential is missing, the SDK cannot load or the provider refuses.
 */
export async function createNamedRemoteSandbox(
  name: RemoteSandboxName,
  context: SandboxContext,
  options: Record<string, unknown> = {},
): ReturnType<SandboxFactory> {
  checkRemoteCredentials(name, options);
  const entry = PROVIDERS[name];
  const providerOptions: Record<string, unknown> = {};
  const lifecycle: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    (LIFECYCLE_KEYS.has(key) ? lifecycle : providerOptions)[key] = value;
  }
  let provider: RemoteProvider;
  try {
    provider = await entry.load(providerOptions);
  } catch (error) {
    throw new SandboxUnavailableError(
      `The "${name}" sandbox could not load its SDK (npm:${entry.packageName}): ${
        error instanceof Error ? error.message : error
      }`,
      { cause: error },
    );
  }
  return await createRemoteSandbox(provider, context, lifecycle as RemoteLifecycleOptions);
}

/**
 * Checks that a remote sandbox has its credential: given as an option, or set in the environment.
 *
 * @param name The provider.
 * @param options Its options, which may hold the credential.
 * @throws {SandboxUnavailableError} Naming the environment variable to set.
 */
export function checkRemoteCredentials(name: RemoteSandboxName, options: Record<string, unknown> = {}): void {
  for (const { variable, option } of PROVIDERS[name].credentials) {
    if (typeof options[option] === "string" && options[option] !== "") continue;
    let value: string | undefined;
    try {
      value = Deno.env.get(variable);
    } catch (error) {
      throw new SandboxUnavailableError(
        `The "${name}" sandbox reads its credential from ${variable}: allow it with --allow-env=${variable}`,
        { cause: error },
      );
    }
    if (!value) {
      throw new SandboxUnavailableError(
        `The "${name}" sandbox needs ${variable}: set it in the environment (or pass "${option}" to remoteSandbox())`,
      );
    }
  }
}

/**
 * Runs the start-up check of a sandbox factory made by {@linkcode remoteSandbox}; other factories have none.
 *
 * @param factory A sandbox factory.
 * @throws {SandboxUnavailableError} When its credential is missing.
 */
export function checkRemoteFactory(factory: SandboxFactory): void {
  checks.get(factory)?.();
}

/**
 * Whether a factory was made by {@linkcode remoteSandbox}: its machines outlive the process.
 *
 * @param factory A sandbox factory.
 * @returns `true` for a remote sandbox factory.
 */
export function isRemoteFactory(factory: SandboxFactory): boolean {
  return checks.has(factory);
}
