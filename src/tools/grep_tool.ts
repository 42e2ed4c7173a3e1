/**
 * The `grep` tool: searches file contents for a regular expression, bounded in files, bytes and results.
 *
 * @module
 */

import { z } from "zod";
import { abortErrorFrom } from "../errors.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { defineTool, type FlueTool } from "./tool.ts";
import { cutLine, cutToBytes, DEFAULT_MAX_LINE_LENGTH, DEFAULT_MAX_OUTPUT_BYTES } from "./_truncate.ts";
import { globToRegExp, relativeTo, SKIPPED_DIRECTORIES, walkFiles } from "./_walk.ts";

/** Limits of the `grep` tool. */
export interface GrepToolOptions {
  /** Most matching lines shown. Default 100. */
  maxSearchResults?: number;
  /** Most files looked at in one search. Default 5,000. */
  maxSearchFiles?: number;
  /** Files larger than this are skipped, in bytes. Default 1 MiB. */
  maxSearchFileBytes?: number;
  /** Most bytes read in one search. Default 32 MiB. */
  maxSearchBytes?: number;
  /** Characters shown of one line. Default 2,000. */
  maxLineLength?: number;
  /** Bytes of one result. Default 50,000. */
  maxOutputBytes?: number;
}

/** The input of the `grep` tool. */
export interface GrepInput {
  /** A JavaScript regular expression. */
  pattern: string;
  /** The file or directory to search. */
  path?: string;
  /** Only files whose path matches this glob. */
  glob?: string;
  /** Match regardless of case. */
  ignoreCase?: boolean;
}

/** Matching runs on at most this much of a line, so a pathological pattern meets bounded input. */
const MAX_MATCHED_LINE_LENGTH = 10_000;

/**
 * Creates the `grep` tool over a sandbox. It walks the sandbox through its `readdir`/`readFile`, so it works on every
 * sandbox, and skips `.git`, `node_modules`, `.flue`, symlinks, binary files and files over the size limit.
 * Results read `path:line:text`; when a limit stops the search, a note says so and how to narrow it.
 *
 * @example Finding a function
 * ```ts
 * import { createGrepTool } from "./grep_tool.ts";
 * import { createMemorySandbox } from "../sandbox/memory_sandbox.ts";
 * import { DENY_ALL_POLICY } from "../sandbox/sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * const sandbox = await createMemorySandbox({
 *   projectDir: "/p", stateDir: "/p/.flue", agent: "a", instanceId: "1", session: "s",
 *   policy: { ...DENY_ALL_POLICY, allowWrite: true },
 * });
 * await sandbox.writeFile("src/a.ts", "export function hello() {}\n");
 * const grep = createGrepTool(sandbox);
 * const context = { signal: new AbortController().signal, toolCallId: "1", emit: () => {} };
 * assert.equal(await grep.run({ pattern: "function \\w+" }, context), "src/a.ts:1:export function hello() {}");
 * ```
 *
 * @param sandbox The sandbox to search.
 * @param options Result, file and byte limits.
 * @returns The tool.
 */
export function createGrepTool(sandbox: Sandbox, options: GrepToolOptions = {}): FlueTool<GrepInput> {
  const maxResults = options.maxSearchResults ?? 100;
  const maxFiles = options.maxSearchFiles ?? 5_000;
  const maxFileBytes = options.maxSearchFileBytes ?? 1024 * 1024;
  const maxTotalBytes = options.maxSearchBytes ?? 32 * 1024 * 1024;
  const maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const input: z.ZodType<GrepInput> = z.strictObject({
    pattern: z.string().min(1).max(1_000).describe('A JavaScript regular expression, such as "function \\\\w+"'),
    path: z.string().min(1).optional().describe("The file or directory to search (default: the workspace root)"),
    glob: z.string().min(1).max(1_000).optional().describe(
      'Only search files matching this glob, such as "*.ts" (matched against the file name) or "src/**/*.ts"',
    ),
    ignoreCase: z.boolean().optional().describe("Match regardless of case"),
  });
  return defineTool({
    name: "grep",
    description: `Search file contents for a regular expression. Returns up to ${maxResults} matching lines as ` +
      `"path:line:text". Skips ${
        [...SKIPPED_DIRECTORIES].join(", ")
      }, binary files and files over ${maxFileBytes} bytes.`,
    input,
    run: async ({ pattern, path = ".", glob, ignoreCase = false }, context) => {
      const regex = compilePattern(pattern, ignoreCase);
      const globMatcher = glob ? globToRegExp(glob) : undefined;
      const matchesGlob = (file: string): boolean => {
        if (!globMatcher) return true;
        const relative = relativeTo(path, file);
        return globMatcher.test(glob!.includes("/") ? relative : relative.slice(relative.lastIndexOf("/") + 1));
      };
      const walk = await walkFiles(sandbox, path, maxFiles, context.signal);
      const found: string[] = [];
      let bytesRead = 0;
      let skippedLarge = 0;
      let isCapped = false;
      let stoppedAtBytes = false;
      for (const file of walk.files) {
        if (context.signal.aborted) throw abortErrorFrom(context.signal);
        if (!matchesGlob(file)) continue;
        const { size } = await sandbox.stat(file);
        if (size > maxFileBytes) {
          skippedLarge += 1;
          continue;
        }
        if (bytesRead + size > maxTotalBytes) {
          stoppedAtBytes = true;
          break;
        }
        bytesRead += size;
        const content = await sandbox.readFile(file);
        if (content.slice(0, 8_192).includes("\0")) continue;
        const lines = content.split("\n");
        for (let index = 0; index < lines.length; index += 1) {
          const line = lines[index].replace(/\r$/, "");
          if (!regex.test(line.slice(0, MAX_MATCHED_LINE_LENGTH))) continue;
          if (found.length >= maxResults) {
            isCapped = true;
            break;
          }
          found.push(`${file}:${index + 1}:${cutLine(line, maxLineLength)}`);
        }
        if (isCapped) break;
      }
      const notes: string[] = [];
      if (isCapped) {
        notes.push(`showing the first ${maxResults} matches; narrow the pattern, path or glob to see others`);
      }
      if (!walk.isComplete || stoppedAtBytes) {
        notes.push(
          `searched only the first ${stoppedAtBytes ? `${bytesRead} bytes` : `${maxFiles} files`}; narrow path or glob`,
        );
      }
      if (skippedLarge > 0) {
        notes.push(`skipped ${skippedLarge} ${skippedLarge === 1 ? "file" : "files"} over ${maxFileBytes} bytes`);
      }
      if (found.length === 0) {
        return [`No matches for /${pattern}/ in "${path}"`, ...notes.map((note) => `[${note}]`)].join("\n");
      }
      const body = cutToBytes(found.join("\n"), maxOutputBytes);
      if (body.truncated) notes.push(`output cut at ${maxOutputBytes} bytes; narrow the search`);
      return [body.text, ...notes.map((note) => `[${note}]`)].join("\n");
    },
  });
}

function compilePattern(pattern: string, ignoreCase: boolean): RegExp {
  try {
    return new RegExp(pattern, ignoreCase ? "i" : "");
  } catch (error) {
    throw new SyntaxError(
      `Invalid regular expression "${pattern}": ${
        (error as Error).message
      }; use JavaScript syntax and escape special characters`,
      { cause: error },
    );
  }
}
