/**
 * The `local` sandbox: the project directory itself, under the same policy and the same file runner as `virtual`.
 *
 * @module
 */

import { PROJECT_FILES, type SandboxContext } from "./sandbox.ts";
import { isInsideOrEqual, normalizePath, toWorkspaceRelative } from "./workspace_paths.ts";
import { openWorkspaceSandbox, validateSandboxContext, type WorkspaceSandbox } from "./workspace_sandbox.ts";

/**
 * Creates a `local` sandbox over `context.projectDir`. Because the project holds more than the agent's work, the file
 * API refuses writes into `.git/` (whose config and hooks can make git run commands, the user's own git included) and
 * hides `.flue/` and the state directory (other sessions' history and workspaces) from reads and writes alike.
 * Commands get the same protections from bubblewrap: `.git` is mounted read-only, so git commands that write it
 * (`add`, `commit`, `init`) fail while `status`, `log` and `diff` work, and with `allowWrite` a missing `.git` is
 * created empty first so that no command can plant one; `.flue/` and the state directory appear empty and read-only.
 * Unless `context.allowProjectWrites`, the project's instructions, configuration and source folders
 * ({@linkcode PROJECT_FILES}) are read-only too: the file API refuses writes to them whether they exist or not, and
 * commands see the existing ones through read-only mounts (a missing one is not created for a mount, so a command with
 * `allowWrite` can create it; the file API cannot). File operations run in a Deno subprocess limited to the project
 * directory.
 *
 * Needs `--allow-read` (and `--allow-write` with `allowWrite`) for the project directory and `--allow-run` for deno.
 *
 * @example Reading the project's instructions
 * ```ts ignore
 * import { createLocalSandbox } from "./local_sandbox.ts";
 * import { DENY_ALL_POLICY } from "./sandbox.ts";
 *
 * const sandbox = await createLocalSandbox({
 *   projectDir: "/srv/app",
 *   stateDir: "/srv/app/.flue",
 *   agent: "triage",
 *   instanceId: "1",
 *   session: "main",
 *   policy: DENY_ALL_POLICY,
 * });
 * try {
 *   console.log(await sandbox.readFile("AGENTS.md"));
 * } finally {
 *   await sandbox.close();
 * }
 * ```
 *
 * @param context The project directory, state directory and policy.
 * @returns The sandbox.
 * @throws {TypeError} When the context is malformed or the project directory is not a directory.
 */
export async function createLocalSandbox(context: SandboxContext): Promise<WorkspaceSandbox> {
  validateSandboxContext(context);
  const root = await Deno.realPath(context.projectDir);
  const hiddenPaths = new Set([".flue"]);
  const stateDir = await realPathOrSelf(context.stateDir);
  if (stateDir !== root && isInsideOrEqual(root, stateDir)) hiddenPaths.add(toWorkspaceRelative(root, stateDir));
  const readOnlyPaths = [".git"];
  const fileReadOnlyPaths: string[] = [];
  if (context.policy.allowWrite && context.allowProjectWrites !== true) {
    for (const path of PROJECT_FILES) {
      if (await exists(`${root}/${path}`)) readOnlyPaths.push(path);
      else fileReadOnlyPaths.push(path);
    }
  }
  return await openWorkspaceSandbox("local", root, context, {
    readOnlyPaths,
    hiddenPaths: [...hiddenPaths],
    fileReadOnlyPaths,
  });
}

async function realPathOrSelf(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    return normalizePath(path);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
