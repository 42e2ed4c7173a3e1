/**
 * `createModel(spec)`: a model string or object to a `ChatModel`, with `test` as the key-less built-in.
 *
 * @module
 */

import type { ChatModel } from "./chat_model.ts";
import { parseModelString } from "./model_string.ts";
import type { ProviderSettings } from "./providers.ts";
import { resolveModel } from "./resolve_model.ts";
import { TestModel } from "./test_models/test_model.ts";

/**
 * Turns a model string (`openai:gpt-5.5`, `test`) or a `ChatModel` into a model.
 *
 * @param spec The model string or object.
 * @param options The environment holding provider keys, and provider overrides.
 * @returns The model.
 */
export function createModel(
  spec: string | ChatModel,
  options: { env?: Record<string, string | undefined>; providers?: Record<string, Partial<ProviderSettings>> } = {},
): ChatModel {
  if (typeof spec === "string" && parseModelString(spec).provider === "test") return new TestModel({ recordCalls: 0 });
  return resolveModel(spec, options);
}
