/**
 * Runs one command string under a policy, confined by bubblewrap: planned by `planCommand()`, spawned with a cleared
 * environment, its output captured up to a cap, and its whole process tree killed on timeout or abort.
 *
 * @module
 */

import { abortErrorFrom, PolicyDeniedError, SandboxUnavailableError } from "../../errors.ts";
import type { SandboxPolicy, ShellResult } from "../sandbox.ts";
import { planCommand } from "../shell/shell_policy.ts";
import { bubblewrapArgs } from "./bubblewrap.ts";
import { commandEnvironment, type CommandLimits, planArgv, resolveLimits, withLimits } from "./_command_environment.ts";
import { detectBubblewrap, findExecutable, sandboxIdentityFiles } from "./_bubblewrap_host.ts";
import { CappedOutput, drainInto } from "./_output_capture.ts";
import { sandboxInitPid, watchProcessCount } from "./_command_process_limit.ts";
import { CommandCgroup } from "./_command_cgroup.ts";
import { isInsideOrEqual, resolveInsideWorkspace, toWorkspaceRelative } from "../workspace_paths.ts";
import { type ProtectedPaths, resolveProtectedMounts } from "./_protected_mounts.ts";

export type { ProtectedPaths } from "./_protected_mounts.ts";

/** Options of {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** The workspace's absolute host path. */
  workspace: string;
  /** The policy in force. */
  policy: Readonly<SandboxPolicy>;
  /** Working directory: relative to the workspace, absolute inside it, or under `/workspace`. Default: the root. */
  cwd?: string;
  /** Granted values added to the cleared environment. */
  env?: Record<string, string>;
  /** Kill the whole process tree after this many milliseconds (exit code 124). Default 120000. */
  timeoutMs?: number;
  /** Kill the whole process tree when aborted (exit code 130). */
  signal?: AbortSignal;
  /** Bytes kept of stdout and of stderr each; the rest is counted in a note. Default 1 MiB. */
  maxOutputBytes?: number;
  /**
   * `bubblewrap` (default) confines the command; `unconfined` runs the same plan directly on the host, with the same
   * policy checks, cleared environment, caps and kill behaviour but no OS isolation. Only ever chosen on purpose.
   */
  isolation?: "bubblewrap" | "unconfined";
  /** Resource limits; see `DEFAULT_COMMAND_LIMITS`. */
  limits?: Partial<CommandLimits>;
  /**
   * Workspace paths commands may read but not change (`readOnly`, such as `.git`) or not see at all (`hidden`, such as
   * the state directory). Enforced by bubblewrap mounts; the unconfined mode cannot enforce them.
   */
  protectedPaths?: ProtectedPaths;
  /** Path of `bwrap`, for tests; found on PATH when omitted. */
  bubblewrapPath?: string;
}

/** The command that installs bubblewrap on Debian and Ubuntu. */
export const BUBBLEWRAP_INSTALL_COMMAND: string = "sudo apt-get install -y bubblewrap";

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
/** How long output may keep flowing after the process is gone, from descendants that escaped the kill. */
const DRAIN_GRACE_MS = 500;

/**
 * Reports whether bubblewrap is installed and can create sandboxes here. The answer is cached per path.
 *
 * @param bubblewrapPath Path of `bwrap`; found on PATH when omitted.
 * @returns Whether commands can run confined.
 */
export async function isBubblewrapAvailable(bubblewrapPath?: string): Promise<boolean> {
  return (await detectBubblewrap(bubblewrapPath)).available;
}

/**
 * Runs a command string in the workspace under the policy.
 *
 * The command is planned by `planCommand()` (so policy denials throw before anything runs), then started under
 * bubblewrap (see `bubblewrapArgs()`) with `stdin` closed and `protectedPaths` mounted read-only or hidden. stdout and
 * stderr are read as they come and kept up to `maxOutputBytes` each, with `[output truncated: N more bytes]` appended.
 * On timeout or abort the sandbox and every process in it are killed at once, and the output so far is returned.
 *
 * Needs `--allow-run` (unscoped for the unconfined mode, which kills a process group), read access to the workspace,
 * `/proc` and the system directories, and write access to the temporary directory (for the sandbox's `/etc/passwd`).
 *
 * @example Running a command
 * ```ts ignore
 * import { runCommand } from "./run_command.ts";
 * import assert from "node:assert/strict";
 *
 * const result = await runCommand("git status --short", {
 *   workspace: "/srv/project",
 *   policy: { allowWrite: false, allowShell: true, allowedCommands: ["git status"], allowCompoundCommands: false, allowNet: false },
 *   timeoutMs: 10_000,
 * });
 * assert.equal(result.exitCode, 0);
 * ```
 *
 * @param command The command string.
 * @param options Workspace, policy and limits.
 * @returns What the command did.
 * @throws {PolicyDeniedError} When the policy refuses the command, `cwd` leaves the workspace or lies in a hidden path,
 *   or a read-only protected path is a symbolic link (which a command could replace).
 * @throws {SandboxUnavailableError} When bubblewrap or prlimit is missing, unless `isolation` is `unconfined`.
 * @throws {AbortError} When `signal` is already aborted.
 */
export async function runCommand(command: string, options: RunCommandOptions): Promise<ShellResult> {
  if (typeof command !== "string") throw new TypeError(`Command must be a string, got ${typeof command}`);
  const isolation = options.isolation ?? "bubblewrap";
  if (isolation !== "bubblewrap" && isolation !== "unconfined") {
    throw new TypeError(`Isolation "${isolation}" is unknown: use "bubblewrap" or "unconfined"`);
  }
  const timeoutMs = positiveInteger(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, "timeoutMs", 2 ** 31 - 1);
  const maxOutputBytes = positiveInteger(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES, "maxOutputBytes", 2 ** 30);
  const limits = resolveLimits(options.limits);
  const plan = planCommand(command, options.policy);
  if (options.signal?.aborted) throw abortErrorFrom(options.signal);
  const { workspace, cwd } = await resolveDirectories(options.workspace, options.cwd);
  const prlimit = findExecutable("prlimit");
  if (prlimit === undefined) {
    throw new SandboxUnavailableError(
      "prlimit (util-linux) was not found: it bounds a command's processes, memory and file size",
      { installCommand: "sudo apt-get install -y util-linux" },
    );
  }
  const { allowNet, allowWrite } = options.policy;
  // Refused variables are the caller's mistake wherever the command would run: say so before anything about the host.
  commandEnvironment(workspace, allowNet, options.env);
  if (isolation === "unconfined") {
    const cgroup = createCgroup(limits);
    const planned = planArgv(plan, workspace, allowNet);
    const argv = cgroup === undefined ? withLimits(prlimit, limits, planned, false) : planned;
    const child = spawnIn(cgroup, limits, argv, {
      cwd,
      clearEnv: true,
      env: commandEnvironment(workspace, allowNet, options.env),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    });
    return await supervise(child, {
      timeoutMs,
      maxOutputBytes,
      signal: options.signal,
      isProcessGroup: true,
      cgroup,
      maxProcesses: cgroup === undefined ? undefined : limits.maxProcesses,
      maxTreeMemoryBytes: limits.maxTreeMemoryBytes,
    });
  }
  const status = await detectBubblewrap(options.bubblewrapPath);
  if (!status.available) {
    throw new SandboxUnavailableError(
      `Commands run under bubblewrap for OS isolation, and it is not available: ${status.reason}. Install it with ` +
        `"${BUBBLEWRAP_INSTALL_COMMAND}", or set "unconfinedShell" to run commands without OS isolation`,
      { installCommand: BUBBLEWRAP_INSTALL_COMMAND },
    );
  }
  const mounts = await resolveProtectedMounts(workspace, options.protectedPaths ?? {}, allowWrite);
  const hiddenCwd = mounts.hiddenPaths.find((hidden) => isInsideOrEqual(hidden, cwd));
  if (hiddenCwd !== undefined) {
    const shown = toWorkspaceRelative(workspace, hiddenCwd);
    throw new PolicyDeniedError(
      `working directory "${options.cwd}"`,
      "none",
      `Working directory "${options.cwd}" is inside "${shown}/", which holds sandbox state and is hidden from commands`,
    );
  }
  const cgroup = createCgroup(limits);
  const args = bubblewrapArgs({
    plan,
    workspace,
    policy: { allowWrite, allowNet },
    cwd,
    env: options.env,
    readOnlyPaths: mounts.readOnlyPaths,
    hiddenPaths: mounts.hiddenPaths,
    limits,
    prlimitPath: prlimit,
    identityFiles: await sandboxIdentityFiles(),
    disableNestedUserNamespaces: status.features.supportsDisableUserns,
    sizeTmp: status.features.supportsTmpfsSize,
    inheritsLimits: cgroup !== undefined,
  });
  const child = spawnIn(cgroup, limits, [status.path, ...args], {
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  // A control group bounds the tree for every uid; without one, RLIMIT_NPROC binds every uid but 0, and as root the
  // sandbox's processes are counted instead.
  const isCounted = cgroup !== undefined || Deno.uid() === 0;
  return await supervise(child, {
    timeoutMs,
    maxOutputBytes,
    signal: options.signal,
    isProcessGroup: false,
    cgroup,
    maxProcesses: isCounted ? limits.maxProcesses : undefined,
    maxTreeMemoryBytes: limits.maxTreeMemoryBytes,
  });
}

let hasWarnedWithoutCgroup = false;

/** The command's control group, or undefined (with a one-time warning as root) where the host offers none. */
function createCgroup(limits: CommandLimits): CommandCgroup | undefined {
  let cgroup: CommandCgroup | undefined;
  let reason = "no writable pids controller (cgroup v2 delegation or the v1 pids hierarchy)";
  try {
    cgroup = CommandCgroup.create(limits);
  } catch (error) {
    reason = error instanceof Error ? `${error.message}: ${error.cause ?? ""}` : String(error);
  }
  if (cgroup === undefined && Deno.uid() === 0 && !hasWarnedWithoutCgroup) {
    hasWarnedWithoutCgroup = true;
    console.warn(
      `flue: commands run as root without a control group (${reason}); the process limit is a watchdog that counts ` +
        `processes, and memory is bounded per process only. See docs/security.md, "Resource limits"`,
    );
  }
  return cgroup;
}

/**
 * Spawns argv, first joining the control group (and setting the per-process limits) when there is one, so nothing of
 * the command runs outside it.
 */
function spawnIn(
  cgroup: CommandCgroup | undefined,
  limits: CommandLimits,
  argv: string[],
  options: Deno.CommandOptions,
): Deno.ChildProcess {
  const [program, ...args] = cgroup === undefined ? argv : cgroup.wrap(argv, limits);
  return new Deno.Command(program, { ...options, args }).spawn();
}

interface Supervision {
  timeoutMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal;
  /** Whether the child leads its own process group, killed as a whole (unconfined mode). */
  isProcessGroup: boolean;
  /** The process limit, reported when the command is killed for it. */
  maxProcesses?: number;
  /** The tree's memory limit, reported when the kernel killed a process for it. */
  maxTreeMemoryBytes?: number;
  /** The command's control group: it reports a refused fork, and what is left in it is killed. */
  cgroup?: CommandCgroup;
}

async function supervise(child: Deno.ChildProcess, supervision: Supervision): Promise<ShellResult> {
  const stdout = new CappedOutput(supervision.maxOutputBytes);
  const stderr = new CappedOutput(supervision.maxOutputBytes);
  const readers: Array<{ reader?: ReadableStreamDefaultReader<Uint8Array> }> = [{}, {}];
  const drained = Promise.all([
    drainInto(child.stdout, stdout, readers[0]),
    drainInto(child.stderr, stderr, readers[1]),
  ]);
  let stopReason: "timeout" | "abort" | undefined;
  let hasPassedProcessLimit = false;
  const killTree = (): void => {
    if (supervision.isProcessGroup) {
      ignoreGone(() => Deno.kill(-child.pid, "SIGKILL"));
      return;
    }
    // The sandbox's init would die with bwrap (--die-with-parent), but killing it first ends its pid namespace, and
    // everything in it, without waiting on that.
    const initPid = sandboxInitPid(child.pid);
    if (initPid !== undefined) ignoreGone(() => Deno.kill(initPid, "SIGKILL"));
    ignoreGone(() => child.kill("SIGKILL"));
  };
  const stop = (reason: "timeout" | "abort"): void => {
    stopReason ??= reason;
    killTree();
  };
  const timer = setTimeout(() => stop("timeout"), supervision.timeoutMs);
  const onAbort = (): void => stop("abort");
  supervision.signal?.addEventListener("abort", onAbort, { once: true });
  if (supervision.signal?.aborted) onAbort();
  const onProcessLimit = (): void => {
    hasPassedProcessLimit = true;
    killTree();
    supervision.cgroup?.killAll();
  };
  const { cgroup, maxProcesses } = supervision;
  const watch = cgroup !== undefined
    ? cgroup.watchRefusedForks(onProcessLimit)
    : maxProcesses === undefined
    ? undefined
    : watchProcessCount(child.pid, maxProcesses, onProcessLimit);
  let status: Deno.CommandStatus;
  try {
    status = await child.status;
  } finally {
    clearTimeout(timer);
    supervision.signal?.removeEventListener("abort", onAbort);
    watch?.stop();
  }
  // Background processes left in the group would hold the pipes open; the sandbox takes its own down with it.
  if (supervision.isProcessGroup) killTree();
  cgroup?.killAll();
  await drainWithin(drained, readers, DRAIN_GRACE_MS);
  const hasOutOfMemoryKill = await cgroup?.hasOutOfMemoryKill() ?? false;
  await cgroup?.remove();

  const notes: string[] = [];
  if (hasPassedProcessLimit) notes.push(`[killed: the command tried to run more than ${maxProcesses} processes]`);
  if (hasOutOfMemoryKill) {
    notes.push(`[killed: the command used more than ${supervision.maxTreeMemoryBytes} bytes of memory]`);
  }
  let stderrText = stderr.text();
  for (const note of notes) stderrText += `${stderrText === "" || stderrText.endsWith("\n") ? "" : "\n"}${note}`;
  const stdoutText = stdout.text();
  return {
    stdout: stdoutText,
    stderr: stderrText,
    exitCode: stopReason === "timeout" ? 124 : stopReason === "abort" ? 130 : status.code,
    truncated: stdout.isTruncated || stderr.isTruncated,
    timedOut: stopReason === "timeout",
    aborted: stopReason === "abort",
  };
}

async function drainWithin(
  drained: Promise<unknown>,
  readers: Array<{ reader?: ReadableStreamDefaultReader<Uint8Array> }>,
  graceMs: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), graceMs));
  const outcome = await Promise.race([drained, late]);
  clearTimeout(timer);
  if (outcome === "late") {
    await Promise.all(readers.map((reading) => reading.reader?.cancel().catch(() => {})));
    await drained;
  }
}

async function resolveDirectories(
  workspace: string,
  cwd: string | undefined,
): Promise<{ workspace: string; cwd: string }> {
  if (typeof workspace !== "string" || !workspace.startsWith("/")) {
    throw new TypeError(`Workspace "${workspace}" is not an absolute path: pass the workspace's host path`);
  }
  let realWorkspace: string;
  try {
    realWorkspace = await Deno.realPath(workspace);
    if (!(await Deno.stat(realWorkspace)).isDirectory) throw new Deno.errors.NotADirectory(workspace);
  } catch (error) {
    throw new TypeError(`Workspace "${workspace}" is not an existing directory`, { cause: error });
  }
  const lexical = resolveInsideWorkspace(realWorkspace, cwd ?? ".");
  let realCwd: string;
  try {
    realCwd = await Deno.realPath(lexical);
    if (!(await Deno.stat(realCwd)).isDirectory) throw new Deno.errors.NotADirectory(lexical);
  } catch (error) {
    throw new TypeError(`Working directory "${cwd}" is not an existing directory in the workspace`, { cause: error });
  }
  if (!isInsideOrEqual(realWorkspace, realCwd)) {
    throw new PolicyDeniedError(
      `working directory "${cwd}"`,
      "none",
      `Working directory "${cwd}" leaves the workspace through a symlink: paths must stay inside the workspace`,
    );
  }
  return { workspace: realWorkspace, cwd: realCwd };
}

function ignoreGone(kill: () => void): void {
  try {
    kill();
  } catch {
    // The process is already gone.
  }
}

function positiveInteger(value: number, name: string, max: number): number {
  if (!Number.isSafeInteger(value) || value <= 0 || value > max) {
    throw new RangeError(`Option "${name}" must be a positive integer up to ${max}, got ${value}`);
  }
  return value;
}
