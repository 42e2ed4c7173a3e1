/**
 * `session.shell(command)`: one command in the session's sandbox under the policy, bracketed by `command_start` and
 * `command_end` events, with cancellation that keeps the output so far.
 *
 * @module
 */

import { AbortError, abortErrorFrom } from "../errors.ts";
import type { Sandbox, ShellResult } from "../sandbox/sandbox.ts";
import type { OperationScope } from "./operation_queue.ts";
import type { ShellOptions } from "./session_types.ts";

/**
 * Runs a command as a session operation.
 *
 * @param scope The operation: its events and its signal.
 * @param sandbox The session's sandbox.
 * @param command The command line.
 * @param options Working directory and timeout.
 * @param env The environment: the caller's values and the granted secrets.
 * @returns The command's result, and the operation's result for its terminal event.
 * @throws {AbortError} When the command was cancelled; `partial` holds its output so far.
 */
export async function runShellCall(
  scope: OperationScope,
  sandbox: Pick<Sandbox, "exec">,
  command: string,
  options: ShellOptions,
  env: Record<string, string>,
): Promise<{ value: ShellResult; result: { exitCode: number } }> {
  if (typeof command !== "string" || command.trim() === "") {
    throw new TypeError("The command is empty: pass the command line to run");
  }
  const started = performance.now();
  scope.emit({ type: "command_start", command });
  let result: ShellResult;
  try {
    result = await sandbox.exec(command, { cwd: options.cwd, env, timeoutMs: options.timeoutMs, signal: scope.signal });
  } catch (error) {
    // A refused or failed command still closes its command_start, as the bash tool does.
    scope.emit({ type: "command_end", command, exitCode: -1, durationMs: performance.now() - started });
    throw error;
  }
  scope.emit({ type: "command_end", command, exitCode: result.exitCode, durationMs: performance.now() - started });
  if (result.aborted) {
    const cancelled = abortErrorFrom(scope.signal);
    throw new AbortError(cancelled.message, { reason: cancelled.reason, cause: cancelled.cause, partial: result });
  }
  return { value: result, result: { exitCode: result.exitCode } };
}
