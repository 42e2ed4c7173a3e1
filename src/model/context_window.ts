/**
 * Context windows of well-known model families, so that sessions know when to compact without being told. A
 * provider's `contextWindow` setting wins over this table; a model found nowhere gets a conservative default.
 *
 * @module
 */

import { DEFAULT_CONTEXT_WINDOW } from "./chat_model.ts";

/**
 * Model name patterns, tested in order against the lowercase model name (after any `vendor/` prefix, as OpenRouter
 * spells them). The numbers are the input tokens a request may hold, rounded down where the vendor's figure includes
 * the output.
 */
const FAMILIES: readonly (readonly [RegExp, number])[] = [
  [/^gpt-5/, 272_000],
  [/^gpt-4\.1/, 1_000_000],
  [/^(gpt-4o|chatgpt-4o|gpt-4-turbo)/, 128_000],
  [/^gpt-4(-|$)/, 8_192],
  [/^gpt-3\.5/, 16_385],
  [/^gpt-oss/, 131_072],
  [/^o[1-9]/, 200_000],
  [/^claude/, 200_000],
  [/^gemini/, 1_000_000],
  [/^grok-4/, 256_000],
  [/^grok/, 131_072],
  [/^deepseek/, 64_000],
  [/^(mistral-large|mistral-medium|codestral|devstral|magistral)/, 128_000],
  [/^(llama-?3\.[1-3]|llama-?4|meta-llama-3\.[1-3])/, 128_000],
  [/^(qwen3|qwen-?2\.5)/, 32_768],
  [/^kimi/, 128_000],
];

/** The window of the key-less test models unless they are given one. */
export const TEST_CONTEXT_WINDOW: number = 200_000;

/** Providers that serve models locally, whose servers default to a small window whatever the model supports. */
const LOCAL_PROVIDERS: Readonly<Record<string, number>> = { ollama: 8_192, lmstudio: 8_192 };

/**
 * The context window Flue assumes for a model: a local server's default, the family's window, or
 * {@linkcode DEFAULT_CONTEXT_WINDOW}.
 *
 * @example Look up a hosted and an unknown model
 * ```ts
 * import { defaultContextWindow } from "./context_window.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(defaultContextWindow("openai", "gpt-4o-mini"), 128_000);
 * assert.equal(defaultContextWindow("openrouter", "anthropic/claude-sonnet-4"), 200_000);
 * assert.equal(defaultContextWindow("vllm", "my-fine-tune"), 32_000);
 * ```
 *
 * @param provider The provider name, such as `openai`.
 * @param model The provider's model name, such as `gpt-5.5`.
 * @returns The window in tokens.
 */
export function defaultContextWindow(provider: string, model: string): number {
  const local = LOCAL_PROVIDERS[provider];
  if (local !== undefined) return local;
  const name = model.toLowerCase().split("/").at(-1) ?? "";
  for (const [pattern, window] of FAMILIES) {
    if (pattern.test(name)) return window;
  }
  return DEFAULT_CONTEXT_WINDOW;
}

/**
 * Checks a context window given in options or configuration.
 *
 * @param value The value as given.
 * @param where What it belongs to, for the message, such as `provider "vllm"`.
 * @throws {TypeError} Unless it is a whole number of tokens from 1,000 to 100,000,000.
 */
export function assertContextWindow(value: unknown, where: string): asserts value is number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1_000 || value > 100_000_000) {
    throw new TypeError(
      `Invalid contextWindow ${JSON.stringify(value)} for ${where}: expected a whole number of tokens from 1000 ` +
        `to 100000000, such as 128000`,
    );
  }
}
