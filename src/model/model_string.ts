/**
 * Model strings: `provider:model`, such as `openai:gpt-5.5`, or the bare `test` for the key-less test model.
 *
 * @module
 */

/** A model string split into its provider and its model name. */
export interface ModelSpec {
  /** The provider name, lowercase, such as `openai`. */
  provider: string;
  /** The provider's model name, exactly as written, such as `gpt-5.5` or `llama3.2:3b`. */
  model: string;
}

const PROVIDER_PATTERN = /^[a-z][a-z0-9_-]*$/;
const MAX_PROVIDER_LENGTH = 64;
const MAX_MODEL_LENGTH = 256;
const FORM_HINT = `use "provider:model", such as "openai:gpt-5.5", or "test" for the key-less test model`;

/**
 * Splits a model string into provider and model. Only the first `:` splits, so `ollama:llama3.2:3b` names the model
 * `llama3.2:3b`. The provider is lowercased (`OpenAI:gpt-5.5` means `openai`); the model name is kept as written, since
 * providers treat it case-sensitively. The bare string `test` means `{ provider: "test", model: "test" }`.
 *
 * @example Parse a model string
 * ```ts
 * import { parseModelString } from "./model_string.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual(parseModelString("ollama:llama3.2:3b"), { provider: "ollama", model: "llama3.2:3b" });
 * deepStrictEqual(parseModelString("test"), { provider: "test", model: "test" });
 * ```
 *
 * @param spec The model string.
 * @returns The provider and the model name.
 * @throws {TypeError} When the string is not of the form `provider:model` (empty parts, whitespace or control
 * characters, a provider name that is not letters, digits, `_` and `-`, or parts that are too long).
 */
export function parseModelString(spec: string): ModelSpec {
  if (typeof spec !== "string") {
    throw new TypeError(`Invalid model ${describe(spec)}: ${FORM_HINT}`);
  }
  if (spec === "test") return { provider: "test", model: "test" };
  const colon = spec.indexOf(":");
  if (colon === -1) throw invalid(spec);
  // deno-lint-ignore no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(spec)) throw invalid(spec, "it contains whitespace or control characters");
  const provider = spec.slice(0, colon).toLowerCase();
  const model = spec.slice(colon + 1);
  if (provider === "") throw invalid(spec, "the provider is empty");
  if (model === "") throw invalid(spec, "the model name is empty");
  if (provider.length > MAX_PROVIDER_LENGTH || !PROVIDER_PATTERN.test(provider)) {
    throw invalid(
      spec,
      `the provider must start with a letter and hold only letters, digits, "_" and "-" (at most ${MAX_PROVIDER_LENGTH})`,
    );
  }
  if (model.length > MAX_MODEL_LENGTH) {
    throw invalid(spec, `the model name is longer than ${MAX_MODEL_LENGTH} characters`);
  }
  return { provider, model };
}

function invalid(spec: string, reason?: string): TypeError {
  const shown = spec.length > 80 ? `${spec.slice(0, 80)}…` : spec;
  return new TypeError(`Invalid model ${JSON.stringify(shown)}: ${reason ? `${reason}; ` : ""}${FORM_HINT}`);
}

function describe(value: unknown): string {
  return value === null ? "null" : `of type ${typeof value}`;
}
