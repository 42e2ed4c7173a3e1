/**
 * What every sandboxed command gets regardless of isolation: a cleared environment with fixed values, programs run
 * with their program-running features off (git's config-defined programs, `sed --sandbox`, `tar --force-local`,
 * `LESSSECURE`), and resource limits.
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
    // A submodule's own config is not the one the driver scan below reads, so git must not run in submodules.
    ["diff.ignoreSubmodules", "all"],
    ["status.submoduleSummary", "false"],
    ["submodule.recurse", "false"],
    ["fetch.recurseSubmodules", "false"],
    ["push.recurseSubmodules", "no"],
    ["diff.external", ""],
    ["interactive.diffFilter", ""],
  ];
  return config;
}

/**
 * Config keys that name a program for git to run, under any name the repository chose: filter, diff and merge
 * drivers, trailer commands, submodule update commands, remote helpers and programs, URL-specific credential helpers.
 * git matches this against keys with lower-case section and variable names.
 */
export const GIT_DRIVER_KEYS: string = "^(filter\\..*\\.(clean|smudge|process)|diff\\..*\\.(command|textconv)|" +
  "merge\\..*\\.driver|trailer\\..*\\.(command|cmd)|submodule\\..*\\.update|remote\\..*\\.(vcs|uploadpack|receivepack)|" +
  "credential\\..*\\.helper|core\\.(alternaterefscommand|gitproxy))$";

/**
 * Words that a config file defining a driver key, or including another file, must hold (git reads key names without
 * regard to case and writes them on one line, so a file without any of them defines none).
 */
const DRIVER_WORDS = (
  "clean smudge process command textconv driver cmd update vcs uploadpack receivepack helper alternaterefscommand " +
  "gitproxy include"
).split(" ");

/**
 * A shell function that answers, without starting a process, whether the driver scan is needed: false only for a
 * command without global options of its own, in a work tree whose `.git` directory holds a `config` (and no
 * `config.worktree`) without any of {@linkcode DRIVER_WORDS}, or outside any repository. Anything else (a `.git`
 * file, a bare repository, `-C`) gets the scan. This keeps the common case at the cost of bubblewrap alone.
 */
function quickCheckFunction(): string {
  const anyCase = (word: string) => [...word].map((letter) => `[${letter}${letter.toUpperCase()}]`).join("");
  // A section header line may carry a key after it, so it is searched whole; other lines start with their key.
  const headerPatterns = DRIVER_WORDS.map((word) => `\\[*${anyCase(word)}*`).join("|");
  const keyPatterns = DRIVER_WORDS.flatMap((word) => [anyCase(word), `${anyCase(word)}[[:space:]=]*`]).join("|");
  return "__flue_may_define() { shift; " +
    // The -c options are the sandbox's own: the policy refuses the model's.
    "while [ $# -gt 0 ]; do case $1 in -c) shift 2;; -*) return 0;; *) break;; esac; done; " +
    'dir=$PWD; while :; do if [ -e "$dir/.git" ] || [ -e "$dir/HEAD" ]; then ' +
    '{ [ -d "$dir/.git" ] && [ ! -e "$dir/HEAD" ] && [ ! -e "$dir/.git/config.worktree" ]; } || return 0; ' +
    '[ -e "$dir/.git/config" ] || return 1; ' +
    'while IFS= read -r line || [ -n "$line" ]; do line=${line#"${line%%[![:space:]]*}"}; case $line in ' +
    `${headerPatterns}) return 0;; ${keyPatterns}) return 0;; esac; done < "$dir/.git/config"; return 1; fi; ` +
    '[ -z "$dir" ] && return 1; dir=${dir%/*}; done; }';
}

/**
 * A POSIX shell script that runs git (`"$@"`, program first) with every driver key its repository config defines set
 * to the empty value, which git reads as "no program". Command-line config beats every config file, so what the model
 * wrote into `.git/config` (or an included file) cannot run. The scan uses the command's own global options (`-C`,
 * `--git-dir` ...) so it reads the same repository.
 */
export const GIT_DRIVER_SCRIPT: string = [
  "set -f",
  quickCheckFunction(),
  "__flue_scan() { found=0 skip=0 first=1; for a do " +
  'if [ $first = 1 ]; then set -- "$a"; first=0; continue; fi; ' +
  'if [ $skip = 1 ]; then set -- "$@" "$a"; skip=0; continue; fi; ' +
  'case $a in -C|-c|--git-dir|--work-tree|--namespace|--super-prefix|--config-env) set -- "$@" "$a"; skip=1;; ' +
  '-*) set -- "$@" "$a";; *) found=1; break;; esac; done; ' +
  `[ $found = 1 ] && command "$@" config --name-only --get-regexp '${GIT_DRIVER_KEYS}' 2>/dev/null; }`,
  'keys=; __flue_may_define "$@" && keys=$(__flue_scan "$@")',
  "nl=$(printf '\\nx')",
  "nl=${nl%x}",
  "count=${GIT_CONFIG_COUNT:-0}",
  'while [ -n "$keys" ]; do key=${keys%%"$nl"*}; keys=${keys#"$key"}; keys=${keys#"$nl"}; ' +
  'export "GIT_CONFIG_KEY_$count=$key" "GIT_CONFIG_VALUE_$count="; count=$((count + 1)); done',
  "export GIT_CONFIG_COUNT=$count",
  'exec "$@"',
].join("; ");

/** git subcommands that never read the work tree or run drivers, so they skip the driver scan (and its cost). */
const GIT_DRIVERLESS_COMMANDS: ReadonlySet<string> = new Set(
  (
    "version rev-parse log shortlog show whatchanged rev-list for-each-ref show-ref ls-tree branch tag reflog " +
    "remote config count-objects name-rev merge-base symbolic-ref var"
  ).split(" "),
);

/**
 * Bash functions exported to scripts (`BASH_FUNC_<name>%%`), so the programs a script runs by name get the same
 * features switched off as a single command does.
 */
function scriptFunctions(): Record<string, string> {
  const forceLocal = `local a=() x seen=; for x; do if [ -z "$seen" ] && [ "$x" = -- ]; then a+=(--force-local); ` +
    `seen=1; fi; a+=("$x"); done; [ -z "$seen" ] && a+=(--force-local); command tar "\${a[@]}";`;
  return {
    "BASH_FUNC_sed%%": `() { command sed --sandbox "$@"; }`,
    "BASH_FUNC_tar%%": `() { ${forceLocal} }`,
    "BASH_FUNC_git%%": `() { ( set -- git "$@"; ${GIT_DRIVER_SCRIPT} ); }`,
  };
}

/** Names a caller may not set: they would change how programs are found, loaded or configured. */
const RESERVED_NAMES =
  /^(PATH|HOME|LD_.*|BASH_ENV|ENV|BASH_FUNC_.*|SHELLOPTS|BASHOPTS|GIT_(?!AUTHOR_|COMMITTER_).*|LESSSECURE|LESSOPEN|LESSCLOSE)$/;

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
    // less then refuses shell escapes, LESSOPEN preprocessors, lesskey files and editing.
    LESSSECURE: "1",
    ...scriptFunctions(),
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
 * git started by scripts and by other programs), diff commands get `--no-ext-diff --no-textconv`, and commands that
 * can run drivers go through {@linkcode GIT_DRIVER_SCRIPT}. sed gets `--sandbox` (no `e`, `r` or `w` commands) and
 * tar `--force-local` (an archive name with a colon is a file, not a host reached through a remote shell).
 *
 * @param plan The plan.
 * @param workspace The workspace path as the command sees it.
 * @param allowNet Whether https transports are allowed for git.
 * @returns The program and its arguments.
 */
export function planArgv(plan: CommandPlan, workspace: string, allowNet: boolean): string[] {
  if (plan.kind === "script") return ["bash", "-c", plan.script];
  const argv = [...plan.argv];
  const name = programName(argv[0]);
  if (name === "sed") return [argv[0], "--sandbox", ...argv.slice(1)];
  if (name === "tar") {
    const end = argv.indexOf("--");
    return end === -1 ? [...argv, "--force-local"] : [...argv.slice(0, end), "--force-local", ...argv.slice(end)];
  }
  if (name !== "git") return argv;
  const subcommandIndex = gitSubcommandIndex(argv);
  const subcommand = subcommandIndex === undefined ? undefined : argv[subcommandIndex];
  if (subcommandIndex !== undefined && GIT_DIFF_COMMANDS.has(argv[subcommandIndex])) {
    argv.splice(subcommandIndex + 1, 0, "--no-ext-diff", "--no-textconv");
  }
  const options = gitHardeningConfig(workspace, allowNet).flatMap(([key, value]) => ["-c", `${key}=${value}`]);
  const hardened = [argv[0], ...options, ...argv.slice(1)];
  if (subcommand === undefined || GIT_DRIVERLESS_COMMANDS.has(subcommand)) return hardened;
  return ["sh", "-c", GIT_DRIVER_SCRIPT, "sh", ...hardened];
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
