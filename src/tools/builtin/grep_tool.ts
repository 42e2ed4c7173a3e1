/**
 * The `grep` tool: searches file contents for a regular expression, bounded in files, bytes and results.
 *
 * @module
 */

import { globToRegExp } from "../../sandbox/glob_pattern.ts";
import { z } from "zod";
import { cachedInputSchema } from "./_schema_cache.ts";
import { abortErrorFrom } from "../../errors.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";
import { defineTool, type FlueTool } from "../tool.ts";
import { cutLine, cutToBytes, DEFAULT_MAX_LINE_LENGTH, DEFAULT_MAX_OUTPUT_BYTES } from "./_truncate.ts";
import {
  relativeTo,
  type SearchableSandbox,
  shownPath,
  SKIPPED_DIRECTORIES,
  untilAborted,
  walkFiles,
} from "./_walk.ts";
import type { GrepResult } from "../../sandbox/runner/deno_runner.ts";

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
 * Creates the `grep` tool over a sandbox. A sandbox that can search itself (a `grep` method, see `SearchableSandbox`)
 * searches in one request; any other is walked through its `readdir`/`readFile`, so the tool works on every sandbox, with
 * the same output either way. Skips `.git`, `node_modules`, `.flue`, symlinks, binary files and files over the size
 * limit.
 * Results read `path:line:text`; when a limit stops the search, a note says so and how to narrow it.
 *
 * @example Finding a function
 * ```ts
 * import { createGrepTool } from "./grep_tool.ts";
 * import { createMemorySandbox } from "../../sandbox/memory_sandbox.ts";
 * import { DENY_ALL_POLICY } from "../../sandbox/sandbox.ts";
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
  const input: z.ZodType<GrepInput> = cachedInputSchema("grep", options, () =>
    z.strictObject({
      pattern: z.string().min(1).max(1_000).describe('A JavaScript regular expression, such as "function \\\\w+"'),
      path: z.string().min(1).optional().describe("The file or directory to search (default: the workspace root)"),
      glob: z.string().min(1).max(1_000).optional().describe(
        'Only search files matching this glob, such as "*.ts" (matched against the file name) or "src/**/*.ts"',
      ),
      ignoreCase: z.boolean().optional().describe("Match regardless of case"),
    }));
  return defineTool({
    name: "grep",
    description: `Search file contents for a regular expression. Returns up to ${maxResults} matching lines as ` +
      `"path:line:text". Skips ${
        [...SKIPPED_DIRECTORIES].join(", ")
      }, binary files and files over ${maxFileBytes} bytes.`,
    input,
    run: async ({ pattern, path = ".", glob, ignoreCase = false }, context) => {
      const regex = compilePattern(pattern, ignoreCase);
      const limits = { maxResults, maxFiles, maxFileBytes, maxTotalBytes, maxLineLength };
      const search = await searchInOneRequest(sandbox, { pattern, path, glob, ignoreCase }, limits, context.signal) ??
        await searchByWalking(sandbox, regex, { pattern, path, glob, ignoreCase }, limits, context.signal);
      const notes: string[] = [];
      if (search.isCapped) {
        notes.push(`showing the first ${maxResults} matches; narrow the pattern, path or glob to see others`);
      }
      if (!search.isComplete || search.stoppedAtBytes) {
        notes.push(
          `searched only the first ${
            search.stoppedAtBytes ? `${search.bytesRead} bytes` : `${maxFiles} files`
          }; narrow path or glob`,
        );
      }
      if (search.skippedLarge > 0) {
        notes.push(
          `skipped ${search.skippedLarge} ${search.skippedLarge === 1 ? "file" : "files"} over ${maxFileBytes} bytes`,
        );
      }
      if (search.found.length === 0) {
        return [`No matches for /${pattern}/ in "${path}"`, ...notes.map((note) => `[${note}]`)].join("\n");
      }
      const body = cutToBytes(search.found.join("\n"), maxOutputBytes);
      if (body.truncated) notes.push(`output cut at ${maxOutputBytes} bytes; narrow the search`);
      return [body.text, ...notes.map((note) => `[${note}]`)].join("\n");
    },
  });
}

interface SearchLimits {
  maxResults: number;
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
  maxLineLength: number;
}

/** What one search found, however it ran. */
interface Search {
  /** Lines as `path:line:text`. */
  found: string[];
  isCapped: boolean;
  isComplete: boolean;
  stoppedAtBytes: boolean;
  bytesRead: number;
  skippedLarge: number;
}

// A sandbox that searches itself reads and matches every file in its own process: one request instead of a stat and a
// read per file. It walks, filters, counts and cuts exactly as `searchByWalking` does.
async function searchInOneRequest(
  sandbox: Sandbox,
  input: Required<Omit<GrepInput, "glob">> & { glob?: string },
  limits: SearchLimits,
  signal: AbortSignal,
): Promise<Search | undefined> {
  const grep = (sandbox as Sandbox & SearchableSandbox).grep;
  if (typeof grep !== "function") return undefined;
  const result = await untilAborted(
    grep.call(sandbox, input.pattern, {
      path: input.path,
      glob: input.glob,
      ignoreCase: input.ignoreCase,
      maxMatches: limits.maxResults,
      maxFiles: limits.maxFiles,
      maxFileBytes: limits.maxFileBytes,
      maxTotalBytes: limits.maxTotalBytes,
      maxLineLength: limits.maxLineLength,
    }),
    signal,
  );
  if (!isGrepResult(result)) return undefined;
  return {
    found: result.matches.map((match) => {
      const text = match.length > limits.maxLineLength
        ? `${match.text} [line cut at ${limits.maxLineLength} of ${match.length} characters]`
        : match.text;
      return `${shownPath(input.path, result.searched, match.path)}:${match.line}:${text}`;
    }),
    isCapped: result.truncated,
    isComplete: result.isComplete,
    stoppedAtBytes: result.stoppedAtBytes,
    bytesRead: result.bytesSearched,
    skippedLarge: result.filesOverSize,
  };
}

function isGrepResult(result: unknown): result is GrepResult {
  const candidate = result as GrepResult | undefined;
  return Array.isArray(candidate?.matches) && typeof candidate.searched === "string" &&
    typeof candidate.isComplete === "boolean" && typeof candidate.bytesSearched === "number";
}

async function searchByWalking(
  sandbox: Sandbox,
  regex: RegExp,
  input: Required<Omit<GrepInput, "glob">> & { glob?: string },
  limits: SearchLimits,
  signal: AbortSignal,
): Promise<Search> {
  const { path, glob } = input;
  const globMatcher = glob ? globToRegExp(glob) : undefined;
  const matchesGlob = (file: string): boolean => {
    if (!globMatcher) return true;
    const relative = relativeTo(path, file);
    return globMatcher.test(glob!.includes("/") ? relative : relative.slice(relative.lastIndexOf("/") + 1));
  };
  const walk = await walkFiles(sandbox, path, limits.maxFiles, signal);
  const search: Search = {
    found: [],
    isCapped: false,
    isComplete: walk.isComplete,
    stoppedAtBytes: false,
    bytesRead: 0,
    skippedLarge: 0,
  };
  for (const file of walk.files) {
    if (signal.aborted) throw abortErrorFrom(signal);
    if (!matchesGlob(file)) continue;
    const { size } = await sandbox.stat(file);
    if (size > limits.maxFileBytes) {
      search.skippedLarge += 1;
      continue;
    }
    if (search.bytesRead + size > limits.maxTotalBytes) {
      search.stoppedAtBytes = true;
      break;
    }
    search.bytesRead += size;
    const content = await sandbox.readFile(file);
    if (content.slice(0, 8_192).includes("\0")) continue;
    const lines = content.split("\n");
    for (let index = 0; index < lines.length; index += 1) {
      const line = lines[index].replace(/\r$/, "");
      if (!regex.test(line.slice(0, MAX_MATCHED_LINE_LENGTH))) continue;
      if (search.found.length >= limits.maxResults) {
        search.isCapped = true;
        return search;
      }
      search.found.push(`${file}:${index + 1}:${cutLine(line, limits.maxLineLength)}`);
    }
  }
  return search;
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
