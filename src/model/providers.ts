/**
 * The provider table: OpenAI-compatible endpoints a model string's provider part names. Built-in entries cover the
 * common hosted services and two local servers; `registerProvider` adds or replaces entries, and configuration
 * overrides merge over an entry per call without changing the table.
 *
 * @module
 */

import { validateKeys, validateName, validateSettings } from "./_provider_validation.ts";
import { SDK_PROVIDERS } from "./sdk_providers.ts";

/** How to reach one OpenAI-compatible provider. */
export interface ProviderSettings {
  /** The API base URL, up to and including the version path, such as `https://api.openai.com/v1`. */
  baseURL: string;
  /** The environment variable holding the API key. Omitted for providers that need no key (local servers). */
  apiKeyEnv?: string;
  /** The API key itself; wins over `apiKeyEnv`. Prefer `apiKeyEnv` so keys stay out of configuration files. */
  apiKey?: string;
  /** Extra headers sent with every request, such as `HTTP-Referer` for OpenRouter. */
  headers?: Record<string, string>;
  /** Whether the provider honours `response_format: { type: "json_schema" }`. Defaults to `false`. */
  supportsStructuredOutput?: boolean;
  /**
   * How a thinking level reaches the provider: `"reasoning_effort"` always sends it as `reasoning_effort`, `"none"`
   * never sends it. When omitted, it is sent only to models known by name to take it (OpenAI `o*`, `gpt-5*`,
   * `gpt-oss*`).
   */
  reasoning?: "reasoning_effort" | "none";
  /**
   * The context window of the provider's models, in tokens, when it differs from what Flue assumes (see
   * `defaultContextWindow`): set it for a local server started with a larger window, or a fine-tune.
   */
  contextWindow?: number;
  /**
   * Whether calls stream (`true`, the default) or ask for the whole reply at once (`false`: `stream: false` in the
   * request). Some OpenAI-compatible servers and proxies only answer whole; a call's `stream` option wins.
   */
  stream?: boolean;
}

const BUILT_IN: Readonly<Record<string, ProviderSettings>> = {
  openai: {
    baseURL: "https://api.openai.com/v1",
    apiKeyEnv: "OPENAI_API_KEY",
    supportsStructuredOutput: true,
  },
  // Called on its native Messages API (see `anthropic/anthropic_chat_model.ts`) under both harnesses.
  anthropic: { baseURL: "https://api.anthropic.com/v1", apiKeyEnv: "ANTHROPIC_API_KEY" },
  openrouter: {
    baseURL: "https://openrouter.ai/api/v1",
    apiKeyEnv: "OPENROUTER_API_KEY",
    supportsStructuredOutput: true,
    // OpenRouter normalizes `reasoning_effort` for every reasoning model it routes to.
    reasoning: "reasoning_effort",
  },
  groq: { baseURL: "https://api.groq.com/openai/v1", apiKeyEnv: "GROQ_API_KEY" },
  deepseek: { baseURL: "https://api.deepseek.com/v1", apiKeyEnv: "DEEPSEEK_API_KEY", reasoning: "none" },
  together: { baseURL: "https://api.together.xyz/v1", apiKeyEnv: "TOGETHER_API_KEY" },
  mistral: { baseURL: "https://api.mistral.ai/v1", apiKeyEnv: "MISTRAL_API_KEY", reasoning: "none" },
  xai: { baseURL: "https://api.x.ai/v1", apiKeyEnv: "XAI_API_KEY" },
  fireworks: { baseURL: "https://api.fireworks.ai/inference/v1", apiKeyEnv: "FIREWORKS_API_KEY" },
  ollama: { baseURL: "http://127.0.0.1:11434/v1", supportsStructuredOutput: true },
  lmstudio: { baseURL: "http://127.0.0.1:1234/v1", supportsStructuredOutput: true },
};

const table = new Map<string, ProviderSettings>(
  Object.entries(BUILT_IN).map(([name, settings]) => [name, copySettings(settings)]),
);

/**
 * Adds a provider to the table, or replaces the one of that name.
 *
 * @example Register a self-hosted endpoint
 * ```ts
 * import { getProvider, registerProvider } from "./providers.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * registerProvider("vllm", { baseURL: "http://127.0.0.1:8000/v1" });
 * deepStrictEqual(getProvider("vllm").baseURL, "http://127.0.0.1:8000/v1");
 * ```
 *
 * @param name Lowercase letters, digits, `_` and `-`, starting with a letter; `test` is reserved.
 * @param settings The endpoint; see {@linkcode ProviderSettings}.
 * @throws {TypeError} When the name or any setting is invalid.
 */
export function registerProvider(name: string, settings: ProviderSettings): void {
  validateName(name);
  if (settings === null || typeof settings !== "object") {
    throw new TypeError(`Invalid settings for provider "${name}": expected an object with a "baseURL"`);
  }
  validateKeys(name, settings);
  const copy = copySettings(settings);
  validateSettings(name, copy);
  table.set(name, copy);
}

/**
 * Looks up a provider, with `overrides` merged over the table entry for this call only (headers merge key by key).
 * A name missing from the table is accepted when the overrides give a full entry (at least `baseURL`), which is how
 * configuration defines a provider of its own.
 *
 * @example Override a base URL for one call
 * ```ts
 * import { getProvider } from "./providers.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const local = getProvider("openai", { baseURL: "http://127.0.0.1:8080/v1" });
 * deepStrictEqual(local.baseURL, "http://127.0.0.1:8080/v1");
 * deepStrictEqual(getProvider("openai").baseURL, "https://api.openai.com/v1");
 * ```
 *
 * @param name The provider name.
 * @param overrides Settings that win over the table's, such as from the `providers` key of configuration.
 * @returns A fresh copy of the merged settings.
 * @throws {TypeError} When the provider is unknown, or the merged settings are invalid.
 */
export function getProvider(name: string, overrides?: Partial<ProviderSettings>): ProviderSettings {
  const base = table.get(name);
  if (!base && overrides?.baseURL === undefined) {
    throw new TypeError(
      `Unknown provider ${JSON.stringify(name)}: use one of ${
        [...listProviders(), ...SDK_PROVIDERS, "test"].sort().join(", ")
      }, ` +
        `or add it with registerProvider() or the "providers" key of the configuration`,
    );
  }
  if (!base) validateName(name);
  if (overrides) validateKeys(name, overrides);
  const merged = copySettings({
    ...base,
    ...withoutUndefined(overrides ?? {}),
    baseURL: overrides?.baseURL ?? base!.baseURL,
    headers: base?.headers || overrides?.headers ? { ...base?.headers, ...overrides?.headers } : undefined,
  });
  if (overrides) validateSettings(name, merged);
  return merged;
}

/**
 * The names in the provider table, sorted.
 *
 * @returns The provider names (without the built-in `test`, which is not an endpoint).
 */
export function listProviders(): string[] {
  return [...table.keys()].sort();
}

function copySettings(settings: ProviderSettings): ProviderSettings {
  const copy: ProviderSettings = { baseURL: settings.baseURL };
  if (settings.apiKeyEnv !== undefined) copy.apiKeyEnv = settings.apiKeyEnv;
  if (settings.apiKey !== undefined) copy.apiKey = settings.apiKey;
  if (settings.headers !== undefined) copy.headers = { ...settings.headers };
  if (settings.supportsStructuredOutput !== undefined) {
    copy.supportsStructuredOutput = settings.supportsStructuredOutput;
  }
  if (settings.reasoning !== undefined) copy.reasoning = settings.reasoning;
  if (settings.contextWindow !== undefined) copy.contextWindow = settings.contextWindow;
  if (settings.stream !== undefined) copy.stream = settings.stream;
  return copy;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
