/**
 * The harness registry: `flue` is built in, `registerHarness` adds others. Agent code names a harness by string and
 * never changes when the harness does.
 *
 * @module
 */

import { createAiSdkHarness } from "./ai_sdk/ai_sdk_harness_entry.ts";
import { FlueHarness } from "./flue_harness.ts";
import type { Harness, HarnessFactory } from "./harness.ts";

const HARNESS_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
// `ai-sdk` loads the AI SDK on its first run, not here.
const BUILT_IN = new Map<string, HarnessFactory>([["flue", () => new FlueHarness()], ["ai-sdk", createAiSdkHarness]]);
const factories = new Map<string, HarnessFactory>(BUILT_IN);

/**
 * Registers a harness under a name, replacing a user-registered one of the same name. The built-in `flue` and
 * `ai-sdk` cannot be replaced; register yours under another name and select it with the `harness` option.
 *
 * @example Usage
 * ```ts
 * import { registerHarness } from "./registry.ts";
 * import { FlueHarness } from "./flue_harness.ts";
 *
 * registerHarness("logging", () => {
 *   const inner = new FlueHarness();
 *   return { name: "logging", run: (request) => inner.run(request) };
 * });
 * ```
 *
 * @param name Lowercase letters, digits, `_` and `-`.
 * @param factory Builds the harness; called once per agent.
 */
export function registerHarness(name: string, factory: HarnessFactory): void {
  if (!HARNESS_NAME.test(name)) {
    throw new TypeError(`Invalid harness name "${name}": use lowercase letters, digits, "_" or "-"`);
  }
  if (BUILT_IN.has(name)) {
    throw new TypeError(`The harness name "${name}" is built in: register yours under another name`);
  }
  if (typeof factory !== "function") throw new TypeError(`Harness "${name}" needs a factory function`);
  factories.set(name, factory);
}

/**
 * Builds a harness by name.
 *
 * @param name A registered name; `flue` when omitted.
 * @returns A new harness.
 */
export function createHarness(name = "flue"): Harness {
  const factory = factories.get(name);
  if (!factory) {
    throw new TypeError(`Unknown harness "${name}": registered harnesses are ${listHarnesses().join(", ")}`);
  }
  return factory();
}

/**
 * Lists registered harness names.
 *
 * @returns The names, sorted.
 */
export function listHarnesses(): string[] {
  return [...factories.keys()].sort();
}
