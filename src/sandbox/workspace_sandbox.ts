/**
 * What the `virtual` and `local` sandboxes share: a workspace directory on the host whose file operations go through a
 * {@linkcode DenoRunner} and whose commands go through `runCommand`, both under the same policy.
 *
 * @module
 */

import { PolicyDeniedError } from "../errors.ts";
import {
  DenoRunner,
  type GlobOptions,
  type GlobResult,
  type GrepOptions,
  type GrepResult,
} from "./runner/deno_runner.ts";
import { defaultRunnerPool } from "./runner/runner_pool.ts";
import { runCommand } from "./commands/run_command.ts";
import type {
  DirEntry,
  ExecOptions,
  FileStat,
  Sandbox,
  SandboxContext,
  SandboxPolicy,
  ShellResult,
} from "./sandbox.ts";
import { isInsideOrEqual, resolveInsideWorkspace, toWorkspaceRelative } from "./workspace_paths.ts";

/** A sandbox over a host directory, which can also search its files in one step. */
export interface WorkspaceSandbox extends Sandbox {
  /**
   * Finds files whose path matches a glob.
   *
   * @param pattern The glob (`*`, `?`, `**`, `[abc]`, `{a,b}`), relative to `options.path`.
   * @param options Where to search and how many to return.
   * @returns The matching paths, relative to the workspace.
   */
  glob(pattern: string, options?: GlobOptions): Promise<GlobResult>;
  /**
   * Searches text files for lines matching a regular expression.
   *
   * @param pattern A JavaScript regular expression.
   * @param options Where to search, a file filter, case and a cap.
   * @returns The matching lines as path, line number and text.
   */
  grep(pattern: string, options?: GrepOptions): Promise<GrepResult>;
}

/** Paths the file API and commands treat specially, relative to the workspace. */
export interface WorkspaceProtections {
  /**
   * Readable, never writable (`.git`: its config and hooks can make git run commands). Commands see them through a
   * read-only mount; one that is missing is created empty first when commands may write, so they cannot create it.
   */
  readOnlyPaths: readonly string[];
  /** Neither readable nor writable (the state directory, holding other sessions' data); commands see an empty one. */
  hiddenPaths: readonly string[];
  /**
   * Refused for writing through the file API only, existing or not (project files missing from a `local` project,
   * which a read-only mount could not cover without creating them).
   */
  fileReadOnlyPaths?: readonly string[];
  /**
   * The directory whose runner process serves this workspace, shared with every other workspace below it under the
   * same write access (see `docs/security.md`). Default the workspace itself.
   */
  servedRoot?: string;
}

/**
 * Checks the parts of a sandbox context every sandbox needs and returns a frozen copy of its policy.
 *
 * @param context The context a factory was given.
 * @returns The policy, frozen.
 * @throws {TypeError} When a field is missing or malformed.
 */
export function validateSandboxContext(context: SandboxContext): Readonly<SandboxPolicy> {
  if (typeof context !== "object" || context === null) throw new TypeError("Sandbox context must be an object");
  for (const field of ["projectDir", "stateDir"] as const) {
    const value = context[field];
    if (typeof value !== "string" || !value.startsWith("/") || value.includes("\0")) {
      throw new TypeError(`Sandbox context "${field}" must be an absolute path, got ${JSON.stringify(value)}`);
    }
  }
  for (const field of ["agent", "instanceId", "session"] as const) {
    const value = context[field];
    if (typeof value !== "string" || value === "") {
      throw new TypeError(`Sandbox context "${field}" must be a non-empty string, got ${JSON.stringify(value)}`);
    }
  }
  const policy = context.policy;
  if (typeof policy !== "object" || policy === null) throw new TypeError("Sandbox context needs a policy object");
  for (const option of ["allowWrite", "allowShell", "allowCompoundCommands", "allowNet"] as const) {
    if (typeof policy[option] !== "boolean") {
      throw new TypeError(`Policy option "${option}" must be true or false, got ${JSON.stringify(policy[option])}`);
    }
  }
  if (policy.allowInterpreters !== undefined && typeof policy.allowInterpreters !== "boolean") {
    throw new TypeError(
      `Policy option "allowInterpreters" must be true or false, got ${JSON.stringify(policy.allowInterpreters)}`,
    );
  }
  if (!Array.isArray(policy.allowedCommands) || policy.allowedCommands.some((entry) => typeof entry !== "string")) {
    throw new TypeError(`Policy option "allowedCommands" must be a list of strings`);
  }
  return Object.freeze({ ...policy, allowedCommands: Object.freeze([...policy.allowedCommands]) });
}

/**
 * Opens a sandbox over an existing host directory: joins (or starts) the pooled file runner serving its served
 * directory, with write access only under `allowWrite`, and builds the `Sandbox` methods. Writes without `allowWrite` are refused here, before the runner, whose permission
 * flags refuse them again. A protected path that is a link to elsewhere in the workspace protects its target too.
 *
 * @param kind The sandbox's name, such as `virtual`.
 * @param workspace The directory's absolute path.
 * @param context The factory's context.
 * @param protections Read-only and hidden paths.
 * @returns The sandbox; `close()` gives up its share of the runner.
 */
export async function openWorkspaceSandbox(
  kind: string,
  workspace: string,
  context: SandboxContext,
  protections: WorkspaceProtections,
): Promise<WorkspaceSandbox> {
  const policy = validateSandboxContext(context);
  const runner = await DenoRunner.start({
    workspace,
    allowWrite: policy.allowWrite,
    readOnlyPaths: withLinkTargets(workspace, [
      ...protections.readOnlyPaths,
      ...(protections.fileReadOnlyPaths ?? []),
    ]),
    hiddenPaths: withLinkTargets(workspace, protections.hiddenPaths),
    servedRoot: protections.servedRoot,
    pool: defaultRunnerPool(),
  });
  const root = runner.workspace;
  const requireWrite = (path: string): void => {
    const absolute = resolveInsideWorkspace(root, path);
    if (policy.allowWrite) return;
    const shown = toWorkspaceRelative(root, absolute);
    throw new PolicyDeniedError(
      `write to "${shown}"`,
      "allowWrite",
      `Writing "${shown}" needs write access: set "allowWrite" in the sandbox policy to allow it`,
    );
  };
  const sandbox: WorkspaceSandbox = {
    kind,
    root,
    policy,
    readFile: (path: string): Promise<string> => runner.readFile(path),
    writeFile: async (path: string, content: string): Promise<void> => {
      requireWrite(path);
      await runner.writeFile(path, content);
    },
    stat: (path: string): Promise<FileStat> => runner.stat(path),
    readdir: (path: string): Promise<DirEntry[]> => runner.readdir(path),
    exists: (path: string): Promise<boolean> => runner.exists(path),
    mkdir: async (path: string): Promise<void> => {
      requireWrite(path);
      await runner.mkdir(path);
    },
    remove: async (path: string, options?: { recursive?: boolean }): Promise<void> => {
      requireWrite(path);
      await runner.remove(path, options);
    },
    glob: (pattern: string, options?: GlobOptions): Promise<GlobResult> => runner.glob(pattern, options),
    grep: (pattern: string, options?: GrepOptions): Promise<GrepResult> => runner.grep(pattern, options),
    exec: async (command: string, options: ExecOptions = {}): Promise<ShellResult> => {
      const cwd = options.cwd === undefined ? root : resolveInsideWorkspace(root, options.cwd);
      return await runCommand(command, {
        workspace: root,
        policy,
        cwd,
        env: options.env,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        maxOutputBytes: options.maxOutputBytes,
        isolation: context.unconfinedShell === true ? "unconfined" : "bubblewrap",
        protectedPaths: { readOnly: protections.readOnlyPaths, hidden: protections.hiddenPaths },
      });
    },
    close: (): Promise<void> => runner.close(),
  };
  return Object.freeze(sandbox);
}

/**
 * The paths plus, for each that is a link to elsewhere in the workspace, where it leads. Synchronous: a few quick
 * system calls, cheaper than trips through the thread pool on a loaded machine.
 */
function withLinkTargets(workspace: string, paths: readonly string[]): string[] {
  const root = Deno.realPathSync(workspace);
  const result = [...paths];
  for (const path of paths) {
    let real: string;
    try {
      real = Deno.realPathSync(resolveInsideWorkspace(root, path));
    } catch {
      continue;
    }
    if (real === root || !isInsideOrEqual(root, real)) continue;
    const relative = toWorkspaceRelative(root, real);
    if (!result.includes(relative)) result.push(relative);
  }
  return result;
}
