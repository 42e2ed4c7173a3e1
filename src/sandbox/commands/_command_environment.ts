/**
 * What every sandboxed command gets regardless of isolation: a cleared environment with fixed values, git hardened
 * against config-defined programs, and resource limits.
 *
 * @module
 */

import type { CommandPlan } from "../shell/shell_policy.ts";
import { GIT_DIFF_COMMANDS, gitSubcommandIndex } from "../shell/_git_commands.ts";
import { programName } from "./_command_runners.ts";

/** Resource bounds applied to a command and everything it starts. */
export interface CommandLimits {
  /**
   * Processes and threads at once, for the whole command tree: a control group's `pids.max` where the host offers
   * one (a fork past it fails, and the command is then killed), else `RLIMIT_NPROC`. As root without a usable control
   * group, where the kernel never enforces `RLIMIT_NPROC`, the sandbox's processes are counted instead.
   */
  maxProcesses: number;
  /** Writable memory per process (`RLIMIT_DATA`). */
  maxMemoryBytes: number;
  /**
   * Memory of the whole command tree, its `/tmp` included (a control group's memory limit; the kernel kills a process
   * of the tree when it is passed). Not enforced where the host offers no memory controller.
   */
  maxTreeMemoryBytes: number;
  /**
   * CPU time for the whole tree, in cores (a control group's CPU quota; fractions allowed). Default: all cores but one,
   * at least one, so a busy command leaves the host responsive. Not enforced where the host offers no CPU controller.
   */
  maxCpus: number;
  /** Largest file a command may write (`RLIMIT_FSIZE`). */
  maxFileSizeBytes: number;
  /** Size of the private `/tmp` (a tmpfs, so it uses memory). */
  maxTmpBytes: number;
}

/** The limits used when none are given. */
export const DEFAULT_COMMAND_LIMITS: Readonly<CommandLimits> = Object.freeze({
  maxProcesses: 512,
  maxMemoryBytes: 4 * 1024 ** 3,
  maxTreeMemoryBytes: 4 * 1024 ** 3,
  maxCpus: Math.max(1, (globalThis.navigator?.hardwareConcurrency ?? 2) - 1),
  maxFileSizeBytes: 1024 ** 3,
  maxTmpBytes: 512 * 1024 ** 2,
});

/**
 * git config that stops repository config from running programs: hooks, fsmonitor, pagers, editors, ssh, credential
 * helpers, signing programs and every transport but https (and https only with `allowNet`). `diff.external=` is not used: git 2.39 then tries to run an
 * empty command and `git diff` fails; `--no-ext-diff --no-textconv` are added to diff commands instead.
 *
 * @param workspace The workspace path as git sees it, trusted as a safe directory.
 * @param allowNet Whether https fetches and pushes are allowed.
 * @returns Key and value pairs, in order.
 */
export function gitHardeningConfig(workspace: string, allowNet: boolean): Array<[key: string, value: string]> {
  const config: Array<[string, string]> = [
    ["core.hooksPath", "/dev/null"],
    ["core.fsmonitor", "false"],
    ["core.pager", "cat"],
    ["core.sshCommand", "false"],
    ["core.editor", "false"],
    ["sequence.editor", "false"],
    ["core.askPass", ""],
    ["credential.helper", ""],
    ["gpg.program", "false"],
    ["gpg.openpgp.program", "false"],
    ["gpg.ssh.program", "false"],
    ["gpg.x509.program", "false"],
    // A repository's own `protocol.ext.allow=always` beats the general key, so each transport is set explicitly.
    ["protocol.allow", "never"],
    ...["ext", "fd", "file", "git", "ssh", "http"].map((name): [string, string] => [`protocol.${name}.allow`, "never"]),
    ["protocol.https.allow", allowNet ? "always" : "never"],
    ["safe.directory", workspace],
  ];
  return config;
}

/** Names a caller may not set: they would change how programs are found, loaded or configured. */
const RESERVED_NAMES = /^(PATH|HOME|LD_.*|BASH_ENV|ENV|BASH_FUNC_.*|SHELLOPTS|BASHOPTS|GIT_(?!AUTHOR_|COMMITTER_).*)$/;

/**
 * Builds the command's whole environment: fixed values, git hardening and the granted values.
 *
 * @param workspace The workspace path as the command sees it.
 * @param allowNet Whether https transports are allowed for git.
 * @param granted Extra values (granted secrets).
 * @returns The environment.
 * @throws {TypeError} On an invalid name or value, or a name that would override the fixed values.
 */
export function commandEnvironment(
  workspace: string,
  allowNet: boolean,
  granted: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(granted)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TypeError(`Environment variable name "${name}" is invalid: use letters, digits and underscores`);
    }
    if (RESERVED_NAMES.test(name)) {
      throw new TypeError(
        `Environment variable "${name}" cannot be set for a command: it changes how programs are found, loaded or ` +
          `configured, and the sandbox sets it itself`,
      );
    }
    if (typeof value !== "string" || value.includes("\0")) {
      throw new TypeError(`Environment variable "${name}" must be a string without NUL bytes`);
    }
    env[name] = value;
  }
  Object.assign(env, {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: "/tmp",
    LANG: granted.LANG ?? "C.UTF-8",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
  });
  const config = gitHardeningConfig(workspace, allowNet);
  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

/**
 * The argv to execute for a plan. git gets the hardening config as `-c` options too (the environment carries it for
 * git started by scripts and by other programs), and diff commands get `--no-ext-diff --no-textconv`.
 *
 * @param plan The plan.
 * @param workspace The workspace path as the command sees it.
 * @param allowNet Whether https transports are allowed for git.
 * @returns The program and its arguments.
 */
export function planArgv(plan: CommandPlan, workspace: string, allowNet: boolean): string[] {
  if (plan.kind === "script") return ["bash", "-c", plan.script];
  const argv = [...plan.argv];
  if (programName(argv[0]) !== "git") return argv;
  const subcommandIndex = gitSubcommandIndex(argv);
  if (subcommandIndex !== undefined && GIT_DIFF_COMMANDS.has(argv[subcommandIndex])) {
    argv.splice(subcommandIndex + 1, 0, "--no-ext-diff", "--no-textconv");
  }
  const options = gitHardeningConfig(workspace, allowNet).flatMap(([key, value]) => ["-c", `${key}=${value}`]);
  return [argv[0], ...options, ...argv.slice(1)];
}

/**
 * Wraps argv in `prlimit` so the limits apply to the command and everything it starts.
 *
 * @param prlimit Path of `prlimit` (util-linux).
 * @param limits The limits.
 * @param argv The command.
 * @param includeProcesses Whether to set `RLIMIT_NPROC` (only meaningful inside a user namespace).
 * @returns The wrapped argv.
 */
export function withLimits(
  prlimit: string,
  limits: Readonly<CommandLimits>,
  argv: readonly string[],
  includeProcesses: boolean,
): string[] {
  const bounds = [
    ...(includeProcesses ? [`--nproc=${limits.maxProcesses}`] : []),
    `--data=${limits.maxMemoryBytes}`,
    `--fsize=${limits.maxFileSizeBytes}`,
    "--core=0",
  ];
  return [prlimit, ...bounds, "--", ...argv];
}

/**
 * Fills in and checks limits.
 *
 * @param limits Limits given by the caller.
 * @returns Complete limits.
 * @throws {RangeError} When a limit is not a positive integer (`maxCpus`: not a positive number).
 */
export function resolveLimits(limits: Partial<CommandLimits> = {}): CommandLimits {
  const resolved = { ...DEFAULT_COMMAND_LIMITS, ...limits };
  for (const [name, value] of Object.entries(resolved)) {
    if (name === "maxCpus") {
      if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
        throw new RangeError(`Limit "maxCpus" must be a positive number of cores, got ${value}`);
      }
    } else if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`Limit "${name}" must be a positive integer, got ${value}`);
    }
  }
  return resolved;
}
