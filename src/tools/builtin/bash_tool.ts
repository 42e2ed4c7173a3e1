/**
 * The `bash` tool: runs a command in the sandbox under its policy.
 *
 * @module
 */

import { z } from "zod";
import { findRunnerForm } from "../../sandbox/commands/_command_runners.ts";
import { cachedInputSchema } from "./_schema_cache.ts";
import { abortErrorFrom } from "../../errors.ts";
import type { Sandbox, ShellResult } from "../../sandbox/sandbox.ts";
import { defineTool, type FlueTool, type ToolContext } from "../tool.ts";
import { DEFAULT_MAX_OUTPUT_BYTES } from "./_truncate.ts";

/** Limits of the `bash` tool. */
export interface BashToolOptions {
  /** Timeout of a call that names none, in milliseconds. Default 120,000. */
  defaultTimeoutMs?: number;
  /** The longest timeout a call may name, in milliseconds. Default 600,000. */
  maxTimeoutMs?: number;
  /** Bytes kept of stdout and of stderr each. Default 50,000. */
  maxOutputBytes?: number;
}

/** The input of the `bash` tool. */
export interface BashInput {
  /** The command line. */
  command: string;
  /** Kills the command after this many milliseconds. */
  timeoutMs?: number;
}

/**
 * Creates the `bash` tool over a sandbox. The sandbox enforces the policy (`allowShell`, `allowedCommands`,
 * `allowCompoundCommands`); the description tells the model what the policy allows so it does not guess. The result
 * gives the exit code, stdout and stderr, each cut at the output limit with a note. `createSandboxTools` offers this
 * tool only when the policy has `allowShell`.
 *
 * @example Running an allowed command
 * ```ts
 * import { createBashTool } from "./bash_tool.ts";
 * import { createMemorySandbox } from "../../sandbox/memory_sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * const sandbox = await createMemorySandbox({
 *   projectDir: "/p", stateDir: "/p/.flue", agent: "a", instanceId: "1", session: "s",
 *   policy: { allowWrite: false, allowShell: true, allowedCommands: ["echo"], allowCompoundCommands: false, allowNet: false },
 * });
 * const bash = createBashTool(sandbox);
 * const context = { signal: new AbortController().signal, toolCallId: "1", emit: () => {} };
 * assert.equal(await bash.run({ command: "echo hi" }, context), "exit code: 0\nstdout:\nhi\n");
 * ```
 *
 * @param sandbox The sandbox to run commands in.
 * @param options Timeout and output limits.
 * @returns The tool.
 */
export function createBashTool(sandbox: Sandbox, options: BashToolOptions = {}): FlueTool<BashInput> {
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 120_000;
  const maxTimeoutMs = options.maxTimeoutMs ?? 600_000;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const input: z.ZodType<BashInput> = cachedInputSchema("bash", options, () =>
    z.strictObject({
      command: z.string().min(1).max(100_000).describe("The command line to run in the workspace"),
      timeoutMs: z.number().int().min(1).max(maxTimeoutMs).optional().describe(
        `Kill the command after this many milliseconds (default ${defaultTimeoutMs}, at most ${maxTimeoutMs})`,
      ),
    }));
  return defineTool({
    name: "bash",
    description: describePolicy(sandbox),
    input,
    run: async ({ command, timeoutMs: requested = defaultTimeoutMs }, context) => {
      const timeoutMs = Math.min(requested, context.timeoutMs ?? Infinity);
      return formatShellResult(
        await runToolCommand(sandbox, command, context, { timeoutMs, maxOutputBytes }),
        timeoutMs,
      );
    },
  });
}

/**
 * Runs a command in a sandbox for a tool call: emits `command_start` and `command_end`, passes the call's signal, and
 * throws an `AbortError` when the call was cancelled rather than returning the partial result.
 *
 * @param sandbox The sandbox.
 * @param command The command line.
 * @param context The tool call's context.
 * @param limits Timeout and output cap.
 * @returns What the command did.
 */
export async function runToolCommand(
  sandbox: Sandbox,
  command: string,
  context: ToolContext,
  limits: { timeoutMs: number; maxOutputBytes: number },
): Promise<ShellResult> {
  const started = performance.now();
  // The call id tells a listener (tracing) which of several concurrent tool calls ran the command.
  context.emit({ type: "command_start", command, toolCallId: context.toolCallId });
  let result: ShellResult | undefined;
  try {
    result = await sandbox.exec(command, { ...limits, signal: context.signal });
  } finally {
    context.emit({
      type: "command_end",
      command,
      exitCode: result?.exitCode ?? -1,
      durationMs: Math.round(performance.now() - started),
      toolCallId: context.toolCallId,
    });
  }
  if (result.aborted || context.signal.aborted) throw abortErrorFrom(context.signal);
  return result;
}

/**
 * Formats a command's result for the model: exit code, then stdout and stderr when not empty, then any notes.
 *
 * @param result What the command did.
 * @param timeoutMs The timeout it ran under, for the note when it was hit.
 * @returns The text for the model.
 */
export function formatShellResult(result: ShellResult, timeoutMs: number): string {
  const parts = [`exit code: ${result.exitCode}`];
  if (result.stdout !== "") parts.push(`stdout:\n${result.stdout}`);
  if (result.stderr !== "") parts.push(`stderr:\n${result.stderr}`);
  if (result.stdout === "" && result.stderr === "") parts.push("(no output)");
  if (result.timedOut) parts.push(`[timed out after ${timeoutMs} ms and was killed; the output so far is shown]`);
  if (result.truncated) parts.push("[output was cut at the size limit; redirect it to a file or filter it]");
  return parts.join("\n");
}

function describePolicy(sandbox: Sandbox): string {
  const { allowedCommands, allowCompoundCommands, allowWrite, allowNet, allowInterpreters } = sandbox.policy;
  const programs = allowedCommands.length ? allowedCommands.join(", ") : "none";
  return [
    "Run a command in the workspace and get its exit code, stdout and stderr.",
    `Allowed commands: ${programs}.`,
    allowCompoundCommands
      ? "Pipes, redirections, ; && || and substitutions are allowed."
      : "Only one simple command per call: pipes, redirections, ; && || and $( ) are refused.",
    allowInterpreters || !allowedCommands.some(isInterpreterEntry)
      ? ""
      : "Listed interpreters (sh, python, node ...) are refused: the policy does not allow interpreters.",
    allowWrite ? "" : "The workspace is read-only.",
    allowNet ? "" : "There is no network access.",
  ].filter(Boolean).join(" ");
}

function isInterpreterEntry(entry: string): boolean {
  return findRunnerForm(entry.split(" "))?.kind === "interpreter";
}
