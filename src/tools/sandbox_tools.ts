/**
 * The file and shell tools the model sees, built from a sandbox and its policy, and the names no custom tool may take.
 *
 * @module
 */

import type { Sandbox } from "../sandbox/sandbox.ts";
import type { FlueTool } from "./tool.ts";
import { type BashToolOptions, createBashTool } from "./builtin/bash_tool.ts";
import { createEditTool } from "./builtin/edit_tool.ts";
import { createGlobTool, type GlobToolOptions } from "./builtin/glob_tool.ts";
import { createGrepTool, type GrepToolOptions } from "./builtin/grep_tool.ts";
import { createLsTool, createStatTool, type LsToolOptions } from "./builtin/ls_tool.ts";
import { createReadTool, type ReadToolOptions } from "./builtin/read_tool.ts";
import { createWriteTool } from "./builtin/write_tool.ts";

/** The names of Flue's own tools. Custom tools and commands may not use them. */
export const BUILTIN_TOOL_NAMES: readonly string[] = Object.freeze([
  "read",
  "write",
  "edit",
  "grep",
  "glob",
  "ls",
  "stat",
  "bash",
  "task",
  "activate_skill",
  "finish",
  "code",
  "read_output",
]);

/** The file and shell tools a sandbox offers, which `builtinTools` selects from. */
export const SANDBOX_TOOL_NAMES: readonly string[] = Object.freeze([
  "read",
  "write",
  "edit",
  "grep",
  "glob",
  "ls",
  "stat",
  "bash",
]);

/**
 * A choice among the sandbox tools: the names to offer (in any order), or `false` for none. It only narrows what the
 * policy allows: `write` and `edit` still need `allowWrite`, and `bash` needs `allowShell`.
 */
export type BuiltinToolSelection = readonly string[] | false;

/**
 * Checks a `builtinTools` value: `false`, or a list of sandbox tool names.
 *
 * @example Rejecting a name that is not a sandbox tool
 * ```ts
 * import { validateBuiltinTools } from "./sandbox_tools.ts";
 * import assert from "node:assert/strict";
 *
 * validateBuiltinTools(["read", "grep"], "Option");
 * assert.throws(() => validateBuiltinTools(["cat"], "Option"), TypeError);
 * ```
 *
 * @param value The value as given.
 * @param where What set it (`Option`, `Call option`), for the message.
 * @throws {TypeError} When it is neither `false` nor a list of sandbox tool names.
 */
export function validateBuiltinTools(value: unknown, where: string): asserts value is BuiltinToolSelection {
  if (value === false) return;
  if (!Array.isArray(value) || value.some((name) => typeof name !== "string")) {
    throw new TypeError(
      `${where} "builtinTools" must be a list of built-in tool names, such as ["read", "grep"], or false for none`,
    );
  }
  const unknown = value.find((name) => !SANDBOX_TOOL_NAMES.includes(name));
  if (unknown !== undefined) {
    throw new TypeError(
      `${where} "builtinTools" names ${JSON.stringify(unknown)}, which is not a built-in tool: use some of ` +
        SANDBOX_TOOL_NAMES.join(", "),
    );
  }
}

/** The limits of every sandbox tool, in one place. */
export interface SandboxToolOptions
  extends ReadToolOptions, GrepToolOptions, GlobToolOptions, LsToolOptions, BashToolOptions {}

/**
 * Builds the tools the model may use on a sandbox, from its policy: `read`, `grep`, `glob`, `ls` and `stat` always;
 * `write` and `edit` only with `allowWrite`; `bash` only with `allowShell`. The sandbox still checks every call, so a
 * tool offered by mistake could not do more than the policy allows.
 *
 * @example A read-only agent gets no write or shell tools
 * ```ts
 * import { createSandboxTools } from "./sandbox_tools.ts";
 * import { createMemorySandbox } from "../sandbox/memory_sandbox.ts";
 * import { DENY_ALL_POLICY } from "../sandbox/sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * const sandbox = await createMemorySandbox({
 *   projectDir: "/p", stateDir: "/p/.flue", agent: "a", instanceId: "1", session: "s", policy: DENY_ALL_POLICY,
 * });
 * const names = createSandboxTools(sandbox).map((tool) => tool.name);
 * assert.deepEqual(names, ["read", "grep", "glob", "ls", "stat"]);
 * ```
 *
 * @param sandbox The sandbox the tools work on; its `policy` decides which tools exist.
 * @param options Limits of the tools' output, searches and commands.
 * @param select Which of the tools the policy allows to build: all when omitted, none with `false`. Tools left out
 *   are never built, so their schemas cost nothing.
 * @returns The tools, in a stable order.
 */
export function createSandboxTools(
  sandbox: Sandbox,
  options: SandboxToolOptions = {},
  select?: BuiltinToolSelection,
): FlueTool[] {
  if (select === false) return [];
  const wanted = (name: string): boolean => select === undefined || select.includes(name);
  const { allowWrite, allowShell } = sandbox.policy;
  const tools: FlueTool[] = [];
  if (wanted("read")) tools.push(createReadTool(sandbox, options));
  if (allowWrite && wanted("write")) tools.push(createWriteTool(sandbox));
  if (allowWrite && wanted("edit")) tools.push(createEditTool(sandbox));
  if (wanted("grep")) tools.push(createGrepTool(sandbox, options));
  if (wanted("glob")) tools.push(createGlobTool(sandbox, options));
  if (wanted("ls")) tools.push(createLsTool(sandbox, options));
  if (wanted("stat")) tools.push(createStatTool(sandbox));
  if (allowShell && wanted("bash")) tools.push(createBashTool(sandbox, options));
  return tools;
}

/**
 * Refuses a custom tool or command name that is one of Flue's own, so a user tool cannot shadow `read` or `bash`.
 *
 * @example Rejecting a reserved name
 * ```ts
 * import { assertCustomToolName } from "./sandbox_tools.ts";
 * import assert from "node:assert/strict";
 *
 * assertCustomToolName("weather");
 * assert.throws(() => assertCustomToolName("bash"), TypeError);
 * ```
 *
 * @param name The proposed name.
 * @throws {TypeError} When the name is reserved.
 */
export function assertCustomToolName(name: string): void {
  if (BUILTIN_TOOL_NAMES.includes(name)) {
    throw new TypeError(
      `Tool name "${name}" is reserved for a built-in tool (${BUILTIN_TOOL_NAMES.join(", ")}): choose another name`,
    );
  }
}
