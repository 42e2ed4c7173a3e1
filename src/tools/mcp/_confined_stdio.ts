/**
 * How a stdio MCP server starts: its command planned under the agent's policy (the allowlist), then confined by the
 * same bubblewrap command line as a shell command (`bubblewrapArgs`), with the project directory as its workspace.
 *
 * @module
 */

import { relative } from "node:path";
import { SandboxUnavailableError } from "../../errors.ts";
import type { SandboxPolicy } from "../../sandbox/sandbox.ts";
import { planCommand } from "../../sandbox/shell/shell_policy.ts";
import { bubblewrapArgs } from "../../sandbox/commands/bubblewrap.ts";
import { BUBBLEWRAP_INSTALL_COMMAND } from "../../sandbox/commands/run_command.ts";
import { CommandCgroup } from "../../sandbox/commands/_command_cgroup.ts";
import { commandEnvironment, DEFAULT_COMMAND_LIMITS, planArgv } from "../../sandbox/commands/_command_environment.ts";
import { detectBubblewrap, findExecutable, sandboxIdentityFiles } from "../../sandbox/commands/_bubblewrap_host.ts";
import { resolveProtectedMounts } from "../../sandbox/commands/_protected_mounts.ts";
import { isInsideOrEqual } from "../../sandbox/workspace_paths.ts";

/** What starts one stdio server. */
export interface ServerProcess {
  /** The program: `bwrap`, or the server itself when unconfined. */
  command: string;
  /** Its arguments. */
  args: string[];
  /** The environment the program starts with. */
  env: Record<string, string>;
  /** Its working directory on the host. */
  cwd: string;
  /** Kills what is left of the server and removes its control group; call it after the server was closed. */
  release(): Promise<void>;
}

/** Where and under which policy a stdio server runs. */
export interface ServerPlacement {
  /** The project directory, the server's workspace. */
  projectDir: string;
  /** The state directory, hidden from the server when inside the project. */
  stateDir: string;
  /** The agent's policy. */
  policy: Readonly<SandboxPolicy>;
  /** Granted values added to the cleared environment. */
  env: Record<string, string>;
  /** Run without bubblewrap when it is missing (the agent's `unconfinedShell`). */
  unconfinedShell?: boolean;
}

/**
 * Plans the process of a stdio server.
 *
 * @param command The server's command line.
 * @param placement Workspace, policy and granted values.
 * @returns The program, arguments and environment to spawn.
 * @throws {PolicyDeniedError} When `allowedCommands` does not allow the command.
 * @throws {SandboxUnavailableError} When bubblewrap is missing and `unconfinedShell` is not set.
 */
export async function confinedServerProcess(command: string, placement: ServerPlacement): Promise<ServerProcess> {
  // The developer chose this command, not the model, so it needs neither `allowShell` nor `allowInterpreters` (most
  // servers are node, python or deno programs); the allowlist still applies to its program.
  const policy = { ...placement.policy, allowShell: true, allowInterpreters: true };
  const plan = planCommand(command, policy);
  const workspace = await Deno.realPath(placement.projectDir);
  const status = await detectBubblewrap();
  if (!status.available) {
    if (!placement.unconfinedShell) {
      throw new SandboxUnavailableError(
        `MCP servers started as commands run under bubblewrap, and it is not available: ${status.reason}. Install ` +
          `it with "${BUBBLEWRAP_INSTALL_COMMAND}", or set "unconfinedShell" to run them without OS isolation`,
        { installCommand: BUBBLEWRAP_INSTALL_COMMAND },
      );
    }
    const [program, ...args] = planArgv(plan, workspace, policy.allowNet);
    return {
      command: program,
      args,
      env: commandEnvironment(workspace, policy.allowNet, placement.env),
      cwd: workspace,
      release: () => Promise.resolve(),
    };
  }
  const hidden = [".flue"];
  const stateDir = await Deno.realPath(placement.stateDir).catch(() => placement.stateDir);
  if (stateDir !== workspace && isInsideOrEqual(workspace, stateDir)) hidden.push(relative(workspace, stateDir));
  const mounts = await resolveProtectedMounts(workspace, { readOnly: [".git"], hidden }, policy.allowWrite);
  // The server's whole process tree is bounded like a command's (pids, memory, CPU) where the host has control groups.
  const cgroup = CommandCgroup.create(DEFAULT_COMMAND_LIMITS);
  const args = bubblewrapArgs({
    plan,
    workspace,
    policy,
    env: placement.env,
    readOnlyPaths: mounts.readOnlyPaths,
    hiddenPaths: mounts.hiddenPaths,
    prlimitPath: findExecutable("prlimit"),
    identityFiles: await sandboxIdentityFiles(),
    disableNestedUserNamespaces: status.features.supportsDisableUserns,
    sizeTmp: status.features.supportsTmpfsSize,
    inheritsLimits: cgroup !== undefined,
  });
  const [program, ...wrapped] = cgroup?.wrap([status.path, ...args], DEFAULT_COMMAND_LIMITS) ?? [status.path, ...args];
  return {
    command: program,
    args: wrapped,
    env: {},
    cwd: workspace,
    release: () => cgroup?.remove() ?? Promise.resolve(),
  };
}
