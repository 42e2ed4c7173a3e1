/**
 * Validation of provider names and settings, shared by the provider table and `OpenAIChatModel`.
 *
 * @module
 */

import { assertContextWindow } from "./context_window.ts";
import type { ProviderSettings } from "./providers.ts";

const NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_NAMES: ReadonlySet<string> = new Set(["test"]);
const SETTING_KEYS: readonly string[] = [
  "baseURL",
  "apiKeyEnv",
  "apiKey",
  "headers",
  "supportsStructuredOutput",
  "reasoning",
  "contextWindow",
  "stream",
];

/**
 * Checks a provider name.
 *
 * @param name The name.
 * @param allowReserved Whether `test` is acceptable (it is for a model object, not for the table).
 */
export function validateName(name: string, allowReserved = false): void {
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    throw new TypeError(
      `Invalid provider name ${JSON.stringify(name)}: use lowercase letters, digits, "_" and "-", ` +
        `starting with a letter, at most 64 characters`,
    );
  }
  if (!allowReserved && RESERVED_NAMES.has(name)) {
    throw new TypeError(`Invalid provider name "${name}": it is reserved for the key-less test model`);
  }
}

/**
 * Rejects setting keys that `ProviderSettings` does not have, so that a typo such as `baseUrl` is not ignored.
 *
 * @param name The provider name, for the message.
 * @param settings The settings object as given.
 */
export function validateKeys(name: string, settings: object): void {
  const unknown = Object.keys(settings).filter((key) => !SETTING_KEYS.includes(key));
  if (unknown.length > 0) {
    throw new TypeError(
      `Unknown setting ${JSON.stringify(unknown[0])} for provider "${name}": use ${SETTING_KEYS.join(", ")}`,
    );
  }
}

/**
 * Checks every field of provider settings: an http(s) base URL without credentials, query or fragment (plain http only
 * on loopback when a key is sent), an environment variable name, a printable key, one-line headers.
 *
 * @param name The provider name, for the message.
 * @param settings The settings.
 */
export function validateSettings(name: string, settings: ProviderSettings): void {
  const where = `provider "${name}"`;
  if (typeof settings.baseURL !== "string") {
    throw new TypeError(`Invalid baseURL for ${where}: expected a URL string such as "https://api.example.com/v1"`);
  }
  let url: URL;
  try {
    url = new URL(settings.baseURL);
  } catch (cause) {
    throw new TypeError(`Invalid baseURL ${JSON.stringify(settings.baseURL)} for ${where}: it is not a URL`, { cause });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(`Invalid baseURL "${settings.baseURL}" for ${where}: use an http or https URL`);
  }
  if (url.username || url.password) {
    throw new TypeError(`Invalid baseURL for ${where}: remove the credentials from the URL and set "apiKeyEnv"`);
  }
  if (url.search || url.hash) {
    throw new TypeError(`Invalid baseURL "${settings.baseURL}" for ${where}: remove the query and fragment`);
  }
  const sendsKey = settings.apiKey !== undefined || settings.apiKeyEnv !== undefined;
  if (url.protocol === "http:" && sendsKey && !isLoopback(url.hostname)) {
    throw new TypeError(
      `Invalid baseURL "${settings.baseURL}" for ${where}: an API key would travel unencrypted; ` +
        `use https, or plain http only on 127.0.0.1, ::1 or localhost`,
    );
  }
  if (settings.apiKeyEnv !== undefined && !ENV_NAME_PATTERN.test(settings.apiKeyEnv)) {
    throw new TypeError(
      `Invalid apiKeyEnv ${JSON.stringify(settings.apiKeyEnv)} for ${where}: use an environment variable name ` +
        `such as "MY_PROVIDER_API_KEY"`,
    );
  }
  if (
    settings.apiKey !== undefined && (typeof settings.apiKey !== "string" || !/^[\x21-\x7e]+$/.test(settings.apiKey))
  ) {
    throw new TypeError(`Invalid apiKey for ${where}: expected a non-empty string of printable characters`);
  }
  for (const [header, value] of Object.entries(settings.headers ?? {})) {
    // deno-lint-ignore no-control-regex
    if (!HEADER_NAME_PATTERN.test(header) || typeof value !== "string" || /[\r\n\u0000]/.test(value)) {
      throw new TypeError(
        `Invalid header ${JSON.stringify(header)} for ${where}: use a token name and a one-line value`,
      );
    }
  }
  if (settings.supportsStructuredOutput !== undefined && typeof settings.supportsStructuredOutput !== "boolean") {
    throw new TypeError(`Invalid supportsStructuredOutput for ${where}: expected true or false`);
  }
  if (settings.reasoning !== undefined && settings.reasoning !== "reasoning_effort" && settings.reasoning !== "none") {
    throw new TypeError(
      `Invalid reasoning ${JSON.stringify(settings.reasoning)} for ${where}: use "reasoning_effort" or "none"`,
    );
  }
  if (settings.contextWindow !== undefined) assertContextWindow(settings.contextWindow, where);
  if (settings.stream !== undefined && typeof settings.stream !== "boolean") {
    throw new TypeError(`Invalid stream ${JSON.stringify(settings.stream)} for ${where}: expected true or false`);
  }
}

/**
 * Whether a URL host name is the local machine.
 *
 * @param hostname `URL.hostname`.
 * @returns Whether it is 127.0.0.0/8, `[::1]` or `localhost`.
 */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}
