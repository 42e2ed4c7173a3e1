/**
 * Recognising a request the provider refused because it held more tokens than the model's context window. Providers
 * say so in different words; all of them need the same remedy (compact the history, then retry), so every harness
 * asks this one function.
 *
 * @module
 */

import { ModelError } from "../errors.ts";

// What OpenAI, Azure, Anthropic, Google, Mistral, Groq, vLLM, llama.cpp, LM Studio and OpenRouter write when a prompt
// is too long. Each is specific enough not to match a request rejected for another reason.
const OVERFLOW_PATTERNS: readonly RegExp[] = [
  /context[_ ]length[_ ]exceeded/i,
  /maximum context length/i,
  /context window/i,
  /prompt is too long/i,
  /input is too long/i,
  /too many (input )?tokens/i,
  /exceeds? the (model'?s? )?(context|token limit|max(imum)? (input|context))/i,
  /reduce the length of the (messages|prompt|input)/i,
  /requested \d+ tokens.*(limit|maximum)/i,
  /input token count.*exceeds/i,
];

/** Codes providers put in the error body for an overlong prompt. */
const OVERFLOW_CODES: ReadonlySet<string> = new Set([
  "context_length_exceeded",
  "string_above_max_length",
  "request_too_large",
]);

/**
 * Whether a provider's error status, code and message say the prompt exceeded the context window.
 *
 * @example Recognise OpenAI's error
 * ```ts
 * import { describesContextOverflow } from "./context_overflow.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(describesContextOverflow(400, "context_length_exceeded", "This model's maximum context length is 8192"));
 * assert.ok(!describesContextOverflow(400, undefined, "Invalid value for 'temperature'"));
 * ```
 *
 * @param status The HTTP status, when there was one.
 * @param code The error code in the body, if any.
 * @param message The error message.
 * @returns Whether the request was too long for the model.
 */
export function describesContextOverflow(
  status: number | undefined,
  code: string | undefined,
  message: string,
): boolean {
  if (status !== undefined && status !== 400 && status !== 413 && status !== 422) return false;
  if (status === 413) return true;
  if (code !== undefined && OVERFLOW_CODES.has(code)) return true;
  return OVERFLOW_PATTERNS.some((pattern) => pattern.test(message));
}

/**
 * Whether an error thrown by a model call means the request was too long: a `ModelError` marked
 * `isContextOverflow`, or any error whose status and message say so (for harnesses on other SDKs).
 *
 * @param error What the model call threw.
 * @returns Whether compacting the history and retrying may help.
 */
export function isContextOverflowError(error: unknown): boolean {
  if (error instanceof ModelError) {
    return error.isContextOverflow || describesContextOverflow(error.status, undefined, error.message);
  }
  if (!(error instanceof Error)) return false;
  const status = (error as { status?: unknown; statusCode?: unknown }).status ??
    (error as { statusCode?: unknown }).statusCode;
  return typeof status === "number" && describesContextOverflow(status, undefined, error.message);
}
