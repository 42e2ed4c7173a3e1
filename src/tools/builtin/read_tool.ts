/**
 * The `read` tool: a text file's lines, numbered, a window at a time.
 *
 * @module
 */

import { z } from "zod";
import { cachedInputSchema } from "./_schema_cache.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";
import { defineTool, type FlueTool } from "../tool.ts";
import { byteLength, cutLine, cutToBytes, DEFAULT_MAX_LINE_LENGTH, DEFAULT_MAX_OUTPUT_BYTES } from "./_truncate.ts";

/** Limits of the `read` tool. */
export interface ReadToolOptions {
  /** Lines shown when the call names no `limit`, and the most it may name. Default 2,000. */
  maxReadLines?: number;
  /** Characters shown of one line. Default 2,000. */
  maxLineLength?: number;
  /** Bytes of one result. Default 50,000. */
  maxOutputBytes?: number;
  /** Largest file read at all, in bytes; the whole file is loaded to pick the window. Default 10 MiB. */
  maxReadFileBytes?: number;
}

/** The input of the `read` tool. */
export interface ReadInput {
  /** The file, relative to the workspace root. */
  path: string;
  /** The first line to show, from 1. */
  offset?: number;
  /** How many lines to show. */
  limit?: number;
}

const DEFAULT_MAX_READ_LINES = 2_000;
const DEFAULT_MAX_READ_FILE_BYTES = 10 * 1024 * 1024;

/**
 * Creates the `read` tool over a sandbox. Lines come back as `   12\tcode`. A long file is shown a window at a time,
 * ending with a note naming the `offset` that continues it; long lines are cut with a note.
 *
 * @example Reading the second line of a file
 * ```ts
 * import { createReadTool } from "./read_tool.ts";
 * import { createMemorySandbox } from "../../sandbox/memory_sandbox.ts";
 * import { DENY_ALL_POLICY } from "../../sandbox/sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * const sandbox = await createMemorySandbox({
 *   projectDir: "/p", stateDir: "/p/.flue", agent: "a", instanceId: "1", session: "s",
 *   policy: { ...DENY_ALL_POLICY, allowWrite: true },
 * });
 * await sandbox.writeFile("a.txt", "one\ntwo\nthree\n");
 * const read = createReadTool(sandbox);
 * const context = { signal: new AbortController().signal, toolCallId: "1", emit: () => {} };
 * const text = await read.run({ path: "a.txt", offset: 2, limit: 1 }, context);
 * assert.ok(String(text).startsWith("    2\ttwo"));
 * ```
 *
 * @param sandbox The sandbox to read from.
 * @param options Line and size limits.
 * @returns The tool.
 */
export function createReadTool(sandbox: Sandbox, options: ReadToolOptions = {}): FlueTool<ReadInput> {
  const maxLines = options.maxReadLines ?? DEFAULT_MAX_READ_LINES;
  const maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const maxFileBytes = options.maxReadFileBytes ?? DEFAULT_MAX_READ_FILE_BYTES;
  const input: z.ZodType<ReadInput> = cachedInputSchema("read", options, () =>
    z.strictObject({
      path: z.string().min(1).describe("The file to read, relative to the workspace root"),
      offset: z.number().int().min(1).optional().describe("The first line to show, counting from 1 (default 1)"),
      limit: z.number().int().min(1).optional().describe(`How many lines to show (default and most ${maxLines})`),
    }));
  return defineTool({
    name: "read",
    description:
      `Read a text file from the workspace. Lines come back numbered ("   12\\tcode"). At most ${maxLines} ` +
      "lines are shown per call; the result then ends with a note giving the offset to continue from.",
    input,
    run: async ({ path, offset = 1, limit = maxLines }) => {
      const stat = await sandbox.stat(path);
      if (stat.isDirectory) throw new TypeError(`"${path}" is a directory, not a file: list it with the ls tool`);
      if (stat.size > maxFileBytes) {
        throw new RangeError(
          `"${path}" is ${stat.size} bytes, more than the ${maxFileBytes} the read tool loads: search it with grep instead`,
        );
      }
      const content = await sandbox.readFile(path);
      if (content.includes("\0")) throw new TypeError(`"${path}" looks like a binary file (it contains NUL bytes)`);
      if (content === "") return `(the file "${path}" is empty)`;
      const lines = content.split("\n");
      if (lines.at(-1) === "") lines.pop();
      if (offset > lines.length) {
        throw new RangeError(
          `Offset ${offset} is past the end of "${path}", which has ${lines.length} lines: use an offset from 1 to ${lines.length}`,
        );
      }
      const end = Math.min(lines.length, offset - 1 + Math.min(limit, maxLines));
      const width = Math.max(5, String(end).length);
      let shown = "";
      let shownBytes = 0;
      let lastShown = offset - 1;
      for (let index = offset - 1; index < end; index += 1) {
        const line = `${String(index + 1).padStart(width)}\t${
          cutLine(lines[index].replace(/\r$/, ""), maxLineLength)
        }\n`;
        shownBytes += byteLength(line);
        if (shownBytes > maxOutputBytes) break;
        shown += line;
        lastShown = index + 1;
      }
      if (lastShown === offset - 1) {
        // One line too long for the byte budget even after cutting: show what fits of it.
        shown = `${cutToBytes(`${String(offset).padStart(width)}\t${lines[offset - 1]}`, maxOutputBytes).text}\n`;
        lastShown = offset;
      }
      if (lastShown < lines.length) {
        shown += `[showing lines ${offset}-${lastShown} of ${lines.length}; call read with offset=${
          lastShown + 1
        } to continue]\n`;
      }
      return shown.replace(/\n$/, "");
    },
  });
}
