/**
 * The `ls` and `stat` tools: what a directory holds, and facts about one path.
 *
 * @module
 */

import { z } from "zod";
import { cachedInputSchema } from "./_schema_cache.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";
import { defineTool, type FlueTool } from "../tool.ts";
import { joinPath } from "./_walk.ts";

/** Limits of the `ls` tool. */
export interface LsToolOptions {
  /** Most entries listed. Default 500. */
  maxListEntries?: number;
}

/** The input of the `ls` tool. */
export interface LsInput {
  /** The directory, relative to the workspace root. */
  path?: string;
}

/** The input of the `stat` tool. */
export interface StatInput {
  /** The file or directory, relative to the workspace root. */
  path: string;
}

/**
 * Creates the `ls` tool over a sandbox: one entry per line, directories first, as `dir  name/`, `file  name  (N bytes)`
 * or `link  name`. Long listings are cut with a note.
 *
 * @example Listing the workspace root
 * ```ts
 * import { createLsTool } from "./ls_tool.ts";
 * import { createMemorySandbox } from "../../sandbox/memory_sandbox.ts";
 * import { DENY_ALL_POLICY } from "../../sandbox/sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * const sandbox = await createMemorySandbox({
 *   projectDir: "/p", stateDir: "/p/.flue", agent: "a", instanceId: "1", session: "s",
 *   policy: { ...DENY_ALL_POLICY, allowWrite: true },
 * });
 * await sandbox.writeFile("src/a.ts", "x");
 * await sandbox.writeFile("b.txt", "hi");
 * const ls = createLsTool(sandbox);
 * const context = { signal: new AbortController().signal, toolCallId: "1", emit: () => {} };
 * assert.equal(await ls.run({}, context), "dir   src/\nfile  b.txt  (2 bytes)");
 * ```
 *
 * @param sandbox The sandbox to list.
 * @param options The entry limit.
 * @returns The tool.
 */
export function createLsTool(sandbox: Sandbox, options: LsToolOptions = {}): FlueTool<LsInput> {
  const maxEntries = options.maxListEntries ?? 500;
  const input: z.ZodType<LsInput> = cachedInputSchema("ls", options, () =>
    z.strictObject({
      path: z.string().min(1).optional().describe("The directory to list (default: the workspace root)"),
    }));
  return defineTool({
    name: "ls",
    description: "List a directory: each entry with its type, and the size of files.",
    input,
    run: async ({ path = "." }) => {
      const stat = await sandbox.stat(path);
      if (!stat.isDirectory) throw new TypeError(`"${path}" is not a directory: use stat or read for a file`);
      const entries = await sandbox.readdir(path);
      if (entries.length === 0) return `(the directory "${path}" is empty)`;
      entries.sort((a, b) =>
        Number(b.isDirectory) - Number(a.isDirectory) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
      );
      const shown = entries.slice(0, maxEntries);
      const lines = await Promise.all(shown.map(async (entry) => {
        if (entry.isSymlink) return `link  ${entry.name}`;
        if (entry.isDirectory) return `dir   ${entry.name}/`;
        const { size } = await sandbox.stat(joinPath(path, entry.name));
        return `file  ${entry.name}  (${bytes(size)})`;
      }));
      if (entries.length > maxEntries) {
        lines.push(`[showing ${maxEntries} of ${entries.length} entries; use glob to find specific files]`);
      }
      return lines.join("\n");
    },
  });
}

/**
 * Creates the `stat` tool over a sandbox: the type, size and modification time of one path.
 *
 * @example Facts about a file
 * ```ts
 * import { createStatTool } from "./ls_tool.ts";
 * import { createMemorySandbox } from "../../sandbox/memory_sandbox.ts";
 * import { DENY_ALL_POLICY } from "../../sandbox/sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * const sandbox = await createMemorySandbox({
 *   projectDir: "/p", stateDir: "/p/.flue", agent: "a", instanceId: "1", session: "s",
 *   policy: { ...DENY_ALL_POLICY, allowWrite: true },
 * });
 * await sandbox.writeFile("a.txt", "hello");
 * const stat = createStatTool(sandbox);
 * const context = { signal: new AbortController().signal, toolCallId: "1", emit: () => {} };
 * assert.match(String(await stat.run({ path: "a.txt" }, context)), /type: file\nsize: 5 bytes/);
 * ```
 *
 * @param sandbox The sandbox to look in.
 * @returns The tool.
 */
export function createStatTool(sandbox: Sandbox): FlueTool<StatInput> {
  const input: z.ZodType<StatInput> = cachedInputSchema("stat", {}, () =>
    z.strictObject({
      path: z.string().min(1).describe("The file or directory, relative to the workspace root"),
    }));
  return defineTool({
    name: "stat",
    description: "Show whether a path exists, its type (file, directory, symlink), size and modification time.",
    input,
    run: async ({ path }) => {
      if (!(await sandbox.exists(path))) return `path: ${path}\nexists: no`;
      const stat = await sandbox.stat(path);
      const type = stat.isDirectory ? "directory" : stat.isFile ? "file" : "other";
      return [
        `path: ${path}`,
        `type: ${type}${stat.isSymlink ? " (through a symlink)" : ""}`,
        `size: ${bytes(stat.size)}`,
        ...(stat.modifiedAt ? [`modified: ${stat.modifiedAt}`] : []),
      ].join("\n");
    },
  });
}

function bytes(count: number): string {
  return `${count} ${count === 1 ? "byte" : "bytes"}`;
}
