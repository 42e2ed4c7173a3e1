/**
 * The `write` tool: creates or replaces a text file.
 *
 * @module
 */

import { z } from "zod";
import { cachedInputSchema } from "./_schema_cache.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";
import { defineTool, type FlueTool } from "../tool.ts";
import { byteLength } from "./_truncate.ts";

/** The input of the `write` tool. */
export interface WriteInput {
  /** The file, relative to the workspace root. */
  path: string;
  /** The whole new content. */
  content: string;
}

/**
 * Creates the `write` tool over a sandbox: it writes a whole file, creating parent directories. The sandbox enforces
 * `allowWrite`; `createSandboxTools` offers this tool only when the policy allows writes.
 *
 * @example Writing a file
 * ```ts
 * import { createWriteTool } from "./write_tool.ts";
 * import { createMemorySandbox } from "../../sandbox/memory_sandbox.ts";
 * import { DENY_ALL_POLICY } from "../../sandbox/sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * const sandbox = await createMemorySandbox({
 *   projectDir: "/p", stateDir: "/p/.flue", agent: "a", instanceId: "1", session: "s",
 *   policy: { ...DENY_ALL_POLICY, allowWrite: true },
 * });
 * const write = createWriteTool(sandbox);
 * const context = { signal: new AbortController().signal, toolCallId: "1", emit: () => {} };
 * await write.run({ path: "docs/a.md", content: "# A\n" }, context);
 * assert.equal(await sandbox.readFile("docs/a.md"), "# A\n");
 * ```
 *
 * @param sandbox The sandbox to write to.
 * @returns The tool.
 */
export function createWriteTool(sandbox: Sandbox): FlueTool<WriteInput> {
  const input: z.ZodType<WriteInput> = cachedInputSchema("write", {}, () =>
    z.strictObject({
      path: z.string().min(1).describe(
        "The file to write, relative to the workspace root; parent directories are created",
      ),
      content: z.string().describe("The complete new content of the file"),
    }));
  return defineTool({
    name: "write",
    description: "Create a text file, or replace all of an existing one. To change part of a file, use edit instead.",
    input,
    run: async ({ path, content }) => {
      const existed = await sandbox.exists(path);
      if (existed && (await sandbox.stat(path)).isDirectory) {
        throw new TypeError(`"${path}" is a directory: give a file path`);
      }
      await sandbox.writeFile(path, content);
      const lines = content === "" ? 0 : content.split("\n").length - (content.endsWith("\n") ? 1 : 0);
      const lineCount = `${lines} ${lines === 1 ? "line" : "lines"}`;
      return `${existed ? "Replaced" : "Created"} "${path}" (${lineCount}, ${byteLength(content)} bytes)`;
    },
  });
}
