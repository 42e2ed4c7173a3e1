/**
 * Turns a model string such as `openai:gpt-5.5` into a `ChatModel`, with the provider table, configuration overrides
 * and the API key from the environment: `anthropic` on its native Messages API, `google`, `vertex`, `bedrock` and
 * `azure` through their AI SDK provider packages, every other provider on its OpenAI-compatible endpoint.
 *
 * @module
 */

import type { ChatModel } from "./chat_model.ts";
import { parseModelString } from "./model_string.ts";
import { AnthropicChatModel } from "./anthropic/anthropic_chat_model.ts";
import { OpenAIChatModel } from "./openai/openai_chat_model.ts";
import { SdkProviderModel } from "./sdk_provider_model.ts";
import { isSdkProvider, sdkProviderEndpoint } from "./sdk_providers.ts";
import { getProvider, type ProviderSettings } from "./providers.ts";

/** The options of {@linkcode resolveModel}. */
export interface ResolveModelOptions {
  /**
   * Where API keys are read from. Defaults to the process environment, read one variable at a time so that
   * `--allow-env=OPENAI_API_KEY` is enough.
   */
  env?: Record<string, string | undefined>;
  /** Per-provider settings merged over the provider table, such as from the `providers` key of configuration. */
  providers?: Record<string, Partial<ProviderSettings>>;
  /** Per-request timeout in milliseconds; see {@linkcode OpenAIChatModel}. Defaults to 120000. */
  timeoutMs?: number;
  /** Retries after the first attempt. Defaults to 4. */
  maxRetries?: number;
}

/**
 * Resolves a model string, or passes a `ChatModel` object through unchanged.
 *
 * @example Resolve a model string with a key from a given environment
 * ```ts
 * import { resolveModel } from "./resolve_model.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const model = resolveModel("openai:gpt-5.5", { env: { OPENAI_API_KEY: "sk-example" } });
 * deepStrictEqual([model.id, model.provider], ["openai:gpt-5.5", "openai"]);
 * ```
 *
 * @param spec A model string (`provider:model`) or a model object.
 * @param options Where keys come from, provider overrides, timeout and retries.
 * @returns The model.
 * @throws {TypeError} When the string is malformed, the provider unknown, or its API key variable unset.
 */
export function resolveModel(spec: string | ChatModel, options: ResolveModelOptions = {}): ChatModel {
  if (typeof spec === "object" && spec !== null && typeof spec.complete === "function") return spec;
  if (typeof spec !== "string") {
    throw new TypeError(`Invalid model: expected a "provider:model" string or a ChatModel object, got ${typeof spec}`);
  }
  const { provider, model } = parseModelString(spec);
  if (provider === "test") {
    // The key-less TestModel lives in its own module and is wired in where models are resolved for sessions.
    throw new TypeError(
      `The "test" model cannot be resolved here yet: pass a TestModel object from "@flue/cli/testing" instead`,
    );
  }
  const overrides = options.providers?.[provider];
  if (isSdkProvider(provider)) {
    const endpoint = sdkProviderEndpoint(provider, model, (name) => readKey(name, options.env), overrides);
    return new SdkProviderModel(
      { ...endpoint, timeoutMs: options.timeoutMs, maxRetries: options.maxRetries },
      overrides?.contextWindow,
    );
  }
  const settings = getProvider(provider, overrides);
  let apiKey = settings.apiKey;
  if (apiKey === undefined && settings.apiKeyEnv !== undefined) {
    apiKey = readKey(settings.apiKeyEnv, options.env);
    if (apiKey === undefined) {
      throw new TypeError(`${settings.apiKeyEnv} is not set: export it, or use --model test to run key-less`);
    }
  }
  if (provider === "anthropic") {
    return new AnthropicChatModel({
      model,
      apiKey: apiKey ?? "",
      apiKeyEnv: settings.apiKey === undefined ? settings.apiKeyEnv : undefined,
      baseURL: settings.baseURL,
      headers: settings.headers,
      contextWindow: settings.contextWindow,
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
    });
  }
  return new OpenAIChatModel({
    ...settings,
    apiKey,
    // A key given in the settings did not come from the variable, so a rejection must not blame it.
    apiKeyEnv: settings.apiKey === undefined ? settings.apiKeyEnv : undefined,
    provider,
    model,
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries,
  });
}

function readKey(name: string, env: Record<string, string | undefined> | undefined): string | undefined {
  let value: string | undefined;
  if (env) {
    value = Object.hasOwn(env, name) ? env[name] : undefined;
  } else {
    try {
      value = Deno.env.get(name);
    } catch (cause) {
      throw new TypeError(`Cannot read ${name}: grant --allow-env=${name}, or use --model test to run key-less`, {
        cause,
      });
    }
  }
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}
