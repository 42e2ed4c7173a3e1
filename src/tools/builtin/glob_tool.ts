/**
 * The `glob` tool: finds files by path pattern, bounded in files walked and results.
 *
 * @module
 */

import { z } from "zod";
import { cachedInputSchema } from "./_schema_cache.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";
import { defineTool, type FlueTool } from "../tool.ts";
import { cutToBytes, DEFAULT_MAX_OUTPUT_BYTES } from "./_truncate.ts";
import { globToRegExp } from "../../sandbox/glob_pattern.ts";
import { relativeTo, SKIPPED_DIRECTORIES, walkFiles } from "./_walk.ts";

/** Limits of the `glob` tool. */
export interface GlobToolOptions {
  /** Most paths returned. Default 200. */
  maxGlobResults?: number;
  /** Most files looked at in one search. Default 5,000. */
  maxSearchFiles?: number;
  /** Bytes of one result. Default 50,000. */
  maxOutputBytes?: number;
}

/** The input of the `glob` tool. */
export interface GlobInput {
  /** The pattern, relative to `path`. */
  pattern: string;
  /** The directory the pattern is relative to. */
  path?: string;
}

/**
 * Creates the `glob` tool over a sandbox. The pattern is matched against paths relative to `path` (default the
 * workspace root): `*` and `?` stay within a directory, `**` crosses directories, `{a,b}` and `[ab]` work. Files only;
 * symlinks, `.git`, `node_modules` and `.flue` are skipped. When a limit stops the search, a note says so. A sandbox
 * that can list its own files (a `glob` method, see `SearchableSandbox`) does so in one request; any other is walked
 * through `readdir`, with the same output.
 *
 * @example Listing TypeScript files
 * ```ts
 * import { createGlobTool } from "./glob_tool.ts";
 * import { createMemorySandbox } from "../../sandbox/memory_sandbox.ts";
 * import { DENY_ALL_POLICY } from "../../sandbox/sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * const sandbox = await createMemorySandbox({
 *   projectDir: "/p", stateDir: "/p/.flue", agent: "a", instanceId: "1", session: "s",
 *   policy: { ...DENY_ALL_POLICY, allowWrite: true },
 * });
 * await sandbox.writeFile("src/a.ts", "");
 * await sandbox.writeFile("README.md", "");
 * const glob = createGlobTool(sandbox);
 * const context = { signal: new AbortController().signal, toolCallId: "1", emit: () => {} };
 * assert.equal(await glob.run({ pattern: "**\/*.ts" }, context), "src/a.ts");
 * ```
 *
 * @param sandbox The sandbox to search.
 * @param options Result and file limits.
 * @returns The tool.
 */
export function createGlobTool(sandbox: Sandbox, options: GlobToolOptions = {}): FlueTool<GlobInput> {
  const maxResults = options.maxGlobResults ?? 200;
  const maxFiles = options.maxSearchFiles ?? 5_000;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const input: z.ZodType<GlobInput> = cachedInputSchema("glob", options, () =>
    z.strictObject({
      pattern: z.string().min(1).max(1_000).describe('A glob such as "**/*.ts" or "src/*.{js,json}"'),
      path: z.string().min(1).optional().describe(
        "The directory the pattern is relative to (default: the workspace root)",
      ),
    }));
  return defineTool({
    name: "glob",
    description: `Find files whose path matches a glob pattern. Returns up to ${maxResults} paths, one per line. ` +
      `"*" stays within a directory, "**" crosses directories. Skips ${[...SKIPPED_DIRECTORIES].join(", ")}.`,
    input,
    run: async ({ pattern, path = "." }, context) => {
      const matcher = globToRegExp(pattern.replace(/^\.\//, ""));
      const walk = await walkFiles(sandbox, path, maxFiles, context.signal);
      const found = walk.files.filter((file) => matcher.test(relativeTo(path, file)));
      const notes: string[] = [];
      if (found.length > maxResults) {
        notes.push(`showing ${maxResults} of ${found.length} matches; use a narrower pattern or path to see others`);
        found.length = maxResults;
      }
      if (!walk.isComplete) notes.push(`looked at only the first ${maxFiles} files; narrow the path`);
      if (found.length === 0) {
        return [`No files match "${pattern}" in "${path}"`, ...notes.map((note) => `[${note}]`)].join("\n");
      }
      const body = cutToBytes(found.join("\n"), maxOutputBytes);
      if (body.truncated) notes.push(`output cut at ${maxOutputBytes} bytes; use a narrower pattern`);
      return [body.text, ...notes.map((note) => `[${note}]`)].join("\n");
    },
  });
}
