/**
 * The `read_output` tool: reads a tool result that was too large for the model's context, a part at a time, or finds
 * lines in it. The results come from the session's saved outputs, not from the sandbox, so it works with every sandbox,
 * read-only ones included.
 *
 * @module
 */

import { z } from "zod";
import { READ_OUTPUT_TOOL } from "../_oversized_result.ts";
import { defineTool, type FlueTool } from "../tool.ts";

/** Where `read_output` finds saved results. */
export interface SavedOutputs {
  /**
   * The whole (redacted) text of a saved result.
   *
   * @param id The id named in the cut result (its tool call id).
   * @returns The text, or `undefined` when nothing is saved under `id`.
   */
  get(id: string): Promise<string | undefined>;
  /** The ids saved so far, oldest first. */
  ids(): readonly string[];
}

/** The input of the `read_output` tool. */
export interface ReadOutputInput {
  /** The id named in the cut result. */
  id: string;
  /** The first character to show, from 0. */
  offset?: number;
  /** How many characters to show. */
  length?: number;
  /** A regular expression: show the lines that match instead of a range. */
  pattern?: string;
}

const MAX_MATCHES = 50;
const MATCH_LINE_CHARS = 300;

const inputSchema: z.ZodType<ReadOutputInput> = z.strictObject({
  id: z.string().min(1).describe("The id the cut result names"),
  offset: z.number().int().min(0).optional().describe("The first character to show, from 0 (default 0)"),
  length: z.number().int().min(1).optional().describe("How many characters to show (default and most: one part)"),
  pattern: z.string().min(1).optional().describe(
    "A JavaScript regular expression; when given, the matching lines are shown with their line numbers and offsets",
  ),
});

/**
 * Creates the `read_output` tool.
 *
 * @example Read a saved result in parts
 * ```ts
 * import { createReadOutputTool } from "./read_output_tool.ts";
 * import assert from "node:assert/strict";
 *
 * const saved = new Map([["call_1", "abcdef"]]);
 * const tool = createReadOutputTool({ get: (id) => Promise.resolve(saved.get(id)), ids: () => [...saved.keys()] }, () => 4);
 * const context = { signal: new AbortController().signal, toolCallId: "call_2", emit: () => {} };
 * assert.match(String(await tool.run({ id: "call_1" }, context)), /^abcd/);
 * ```
 *
 * @param outputs The saved results.
 * @param partChars Returns the most characters one call shows (kept below the cut limit, so a part is never cut).
 * @returns The tool.
 */
export function createReadOutputTool(outputs: SavedOutputs, partChars: () => number): FlueTool<ReadOutputInput> {
  return defineTool({
    name: READ_OUTPUT_TOOL,
    description: "Read a tool result that was too long to show whole, a part at a time, or find lines in it. " +
      "Cut results end with a note giving their id.",
    input: inputSchema,
    run: async ({ id, offset = 0, length, pattern }) => {
      const text = await outputs.get(id);
      if (text === undefined) {
        const known = outputs.ids();
        throw new TypeError(
          `No saved output has id ${JSON.stringify(id)}: ${
            known.length ? `saved ids are ${known.map((name) => JSON.stringify(name)).join(", ")}` : "none is saved"
          }`,
        );
      }
      const part = partChars();
      return pattern === undefined ? range(text, offset, Math.min(length ?? part, part)) : matches(text, pattern, part);
    },
  });
}

function range(text: string, offset: number, length: number): string {
  if (offset >= text.length) {
    throw new RangeError(
      `Offset ${offset} is past the end of the output, which has ${text.length} characters: use 0 to ${
        text.length - 1
      }`,
    );
  }
  let end = Math.min(text.length, offset + length);
  const code = text.charCodeAt(end - 1);
  if (end < text.length && code >= 0xd800 && code <= 0xdbff) end--;
  const note = end < text.length
    ? `\n[characters ${offset}-${end} of ${text.length}; call ${READ_OUTPUT_TOOL} with offset=${end} to continue]`
    : `\n[characters ${offset}-${end} of ${text.length}: the end]`;
  return text.slice(offset, end) + note;
}

function matches(text: string, pattern: string, maxChars: number): string {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch (error) {
    throw new TypeError(`Invalid pattern ${JSON.stringify(pattern)}: ${(error as Error).message}`);
  }
  const lines: string[] = [];
  let total = 0;
  let shownChars = 0;
  let lineStart = 0;
  let lineNumber = 1;
  while (lineStart <= text.length) {
    const newline = text.indexOf("\n", lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd);
    if (regex.test(line)) {
      total++;
      const shown = line.length > MATCH_LINE_CHARS ? `${line.slice(0, MATCH_LINE_CHARS)}…` : line;
      const entry = `line ${lineNumber} (offset ${lineStart}): ${shown}`;
      if (lines.length < MAX_MATCHES && shownChars + entry.length < maxChars) {
        lines.push(entry);
        shownChars += entry.length + 1;
      }
    }
    if (newline === -1) break;
    lineStart = newline + 1;
    lineNumber++;
  }
  if (total === 0) return `No line matches ${JSON.stringify(pattern)}.`;
  const more = total > lines.length ? `\n[${lines.length} of ${total} matching lines shown: narrow the pattern]` : "";
  return lines.join("\n") + more;
}
