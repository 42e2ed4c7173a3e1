/**
 * The registry entry of the `ai-sdk` harness. It imports nothing of the AI SDK: the first run loads the harness (and
 * with it `npm:ai` and the `@ai-sdk/*` providers), so agents on the `flue` harness never load them.
 *
 * @module
 */

import type { Harness, HarnessRequest, HarnessResult } from "../harness.ts";

type HarnessModule = typeof import("./ai_sdk_harness.ts");

let loading: Promise<HarnessModule> | undefined;

/**
 * Builds the `ai-sdk` harness; the AI SDK loads when it first runs.
 *
 * @returns The harness.
 */
export function createAiSdkHarness(): Harness {
  let harness: Harness | undefined;
  return {
    name: "ai-sdk",
    async run(request: HarnessRequest): Promise<HarnessResult> {
      if (!harness) {
        loading ??= import("./ai_sdk_harness.ts");
        // A failed load (a missing package) is tried again on the next run rather than remembered.
        const module = await loading.catch((error) => {
          loading = undefined;
          throw new Error(
            `The "ai-sdk" harness could not load the AI SDK (npm:ai, @ai-sdk/openai, @ai-sdk/anthropic): ${
              error instanceof Error ? error.message : String(error)
            }`,
            { cause: error },
          );
        });
        harness = new module.AiSdkHarness();
      }
      return await harness.run(request);
    },
  };
}
