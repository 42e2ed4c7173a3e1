/**
 * Cutting a tool result too large for the model's context: the model sees its start and end and a note saying how to
 * read the rest with `read_output`, so one huge result can never leave a session unable to make another model call.
 *
 * @module
 */

/** The name of the tool that reads a saved result in parts. */
export const READ_OUTPUT_TOOL = "read_output";

/** A tool result as the model will see it. */
export interface LimitedResult {
  /** The text for the model: the whole result, or its head, its tail and a note. */
  text: string;
  /** Whether the result was cut, so its whole text must be saved under `id`. */
  isCut: boolean;
}

/**
 * Cuts `text` to about `maxChars` characters when it is longer: the first three quarters of the budget from its start,
 * a sixth from its end, and a note naming the saved copy. Never splits a surrogate pair.
 *
 * @example Cut a long result
 * ```ts
 * import { limitToolResult } from "./_oversized_result.ts";
 * import assert from "node:assert/strict";
 *
 * const result = limitToolResult("x".repeat(10_000), 2_000, "call_1");
 * assert.ok(result.isCut && result.text.length <= 2_000);
 * assert.match(result.text, /read_output/);
 * ```
 *
 * @param text The whole result.
 * @param maxChars The most characters the model may see, note included.
 * @param id The id the whole text is saved under (the tool call's id).
 * @returns The text for the model and whether it was cut.
 */
export function limitToolResult(text: string, maxChars: number, id: string): LimitedResult {
  if (text.length <= maxChars) return { text, isCut: false };
  const note =
    `\n\n[This result is ${text.length} characters, more than the ${maxChars} shown: its start and end are ` +
    `above, the middle is left out. The whole text is saved: call ${READ_OUTPUT_TOOL} with id ${
      JSON.stringify(id)
    } and an offset to read it in parts, or with a pattern to find lines in it.]`;
  const budget = Math.max(0, maxChars - note.length - 60);
  const headEnd = safeEnd(text, Math.floor(budget * 0.8));
  const tailStart = safeStart(text, text.length - Math.floor(budget * 0.2));
  const left = tailStart - headEnd;
  return {
    text: `${text.slice(0, headEnd)}\n\n[... ${left} characters left out ...]\n\n${text.slice(tailStart)}${note}`,
    isCut: true,
  };
}

/** Moves a cut back by one when it would fall between a high and a low surrogate. */
function safeEnd(text: string, end: number): number {
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}

function safeStart(text: string, start: number): number {
  const code = text.charCodeAt(start);
  return code >= 0xdc00 && code <= 0xdfff ? start + 1 : start;
}
