/**
 * The `edit` tool: replaces an exact piece of text in a file.
 *
 * @module
 */

import { z } from "zod";
import { cachedInputSchema } from "./_schema_cache.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";
import { defineTool, type FlueTool } from "../tool.ts";

/** The input of the `edit` tool. */
export interface EditInput {
  /** The file, relative to the workspace root. */
  path: string;
  /** The exact text to find, whitespace included. */
  oldText: string;
  /** The text to put in its place. */
  newText: string;
  /** Replace every occurrence instead of requiring exactly one. */
  replaceAll?: boolean;
}

/**
 * Creates the `edit` tool over a sandbox. `oldText` must match exactly; no match, or several matches without
 * `replaceAll`, is an error that says how many matches there were and what to do.
 *
 * @example Renaming a function
 * ```ts
 * import { createEditTool } from "./edit_tool.ts";
 * import { createMemorySandbox } from "../../sandbox/memory_sandbox.ts";
 * import { DENY_ALL_POLICY } from "../../sandbox/sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * const sandbox = await createMemorySandbox({
 *   projectDir: "/p", stateDir: "/p/.flue", agent: "a", instanceId: "1", session: "s",
 *   policy: { ...DENY_ALL_POLICY, allowWrite: true },
 * });
 * await sandbox.writeFile("a.ts", "function old() {}\n");
 * const edit = createEditTool(sandbox);
 * const context = { signal: new AbortController().signal, toolCallId: "1", emit: () => {} };
 * await edit.run({ path: "a.ts", oldText: "old", newText: "renamed" }, context);
 * assert.equal(await sandbox.readFile("a.ts"), "function renamed() {}\n");
 * ```
 *
 * @param sandbox The sandbox whose files it edits.
 * @returns The tool.
 */
export function createEditTool(sandbox: Sandbox): FlueTool<EditInput> {
  const input: z.ZodType<EditInput> = cachedInputSchema("edit", {}, () =>
    z.strictObject({
      path: z.string().min(1).describe("The file to edit, relative to the workspace root"),
      oldText: z.string().min(1).describe("The exact text to replace, including whitespace and indentation"),
      newText: z.string().describe("The text to put in its place (may be empty to delete)"),
      replaceAll: z.boolean().optional().describe("Replace every occurrence instead of requiring exactly one"),
    }));
  return defineTool({
    name: "edit",
    description: "Replace exact text in a file. oldText must match the file exactly (read the file first) and, " +
      "unless replaceAll is true, exactly once; include surrounding lines to make it unique.",
    input,
    run: async ({ path, oldText, newText, replaceAll = false }) => {
      if (oldText === newText) throw new TypeError("oldText and newText are identical: there is nothing to change");
      const content = await sandbox.readFile(path);
      const count = countOccurrences(content, oldText);
      if (count === 0) {
        const hint = content.includes("\r\n") && !oldText.includes("\r\n")
          ? "; the file has Windows line endings (\\r\\n), so include them in oldText"
          : "";
        throw new Error(
          `oldText was not found in "${path}": read the file and copy the text exactly, including whitespace${hint}`,
        );
      }
      if (count > 1 && !replaceAll) {
        throw new Error(
          `oldText matches ${count} places in "${path}": include more surrounding lines so it matches once, or set replaceAll to true to change all ${count}`,
        );
      }
      // split/join rather than String.replace, whose replacement string gives "$&" and "$1" special meanings.
      const updated = replaceAll
        ? content.split(oldText).join(newText)
        : content.slice(0, content.indexOf(oldText)) + newText +
          content.slice(content.indexOf(oldText) + oldText.length);
      await sandbox.writeFile(path, updated);
      return `Replaced ${count === 1 ? "1 occurrence" : `${count} occurrences`} in "${path}"`;
    },
  });
}

function countOccurrences(text: string, part: string): number {
  let count = 0;
  for (let index = text.indexOf(part); index !== -1; index = text.indexOf(part, index + part.length)) count += 1;
  return count;
}
