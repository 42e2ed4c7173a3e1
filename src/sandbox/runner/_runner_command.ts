/**
 * How the file runner subprocess is started: which deno binary, the exact arguments, with permission flags that name
 * only the directory it serves, and bubblewrap around it where available.
 *
 * @module
 */

import { SandboxUnavailableError } from "../../errors.ts";
import { detectBubblewrap, findExecutable } from "../commands/_bubblewrap_host.ts";
import { type RunnerConfig, runnerProgram } from "./_runner_source.ts";
import { runnerBubblewrapArgs } from "./_runner_bubblewrap.ts";
import { resolveInsideWorkspace, toWorkspaceRelative } from "../workspace_paths.ts";

/** Whether the runner runs under bubblewrap: `auto` where it works, `bubblewrap` always (or fail), `none` never. */
export type RunnerIsolation = "auto" | "bubblewrap" | "none";

/** What {@linkcode buildRunnerArgs} needs besides the served directory. */
export interface RunnerArgsOptions {
  /** Grant `--allow-write` for the served directory. */
  allowWrite: boolean;
  /** Largest file a read returns, in bytes. */
  maxReadBytes: number;
  /** Paths relative to the served directory denied for writing by flag (a runner serving one workspace only). */
  readOnlyPaths?: readonly string[];
  /** Paths relative to the served directory denied for reading and writing by flag. */
  hiddenPaths?: readonly string[];
  /** Tests only: turn off the runner's own path checks. */
  unsafeSkipRunnerPathChecks?: boolean;
}

/** A program and arguments that start a runner. */
export interface RunnerCommand {
  /** The binary: deno, or bwrap. */
  program: string;
  /** Its arguments. */
  args: string[];
  /** Whether the runner runs under bubblewrap. */
  isConfined: boolean;
}

let programUrl: string | undefined;

/**
 * The arguments after the deno binary that start the runner: `run`, the isolation flags, the permission flags naming
 * only the served directory, the program as a `data:` URL (never `deno eval`, which ignores permission flags) and its
 * configuration.
 *
 * @param workspace The real path of the directory served: one workspace, or the parent of many.
 * @param options Write access, protected paths, the read limit and the test switch.
 * @returns The argument list.
 */
export function buildRunnerArgs(workspace: string, options: RunnerArgsOptions): string[] {
  const readOnlyPaths = (options.readOnlyPaths ?? []).map((entry) => relativeEntry(workspace, entry));
  const hiddenPaths = (options.hiddenPaths ?? []).map((entry) => relativeEntry(workspace, entry));
  const absolute = (entry: string) => flagValue(`${workspace}/${entry}`);
  const config: RunnerConfig = {
    servedRoots: [workspace],
    maxReadBytes: options.maxReadBytes,
    checkPaths: options.unsafeSkipRunnerPathChecks !== true,
  };
  const denyWrite = [...readOnlyPaths, ...hiddenPaths];
  // Deno 2.9 still denies when no flag is given, but a planned default-permissions change would grant everything, so
  // an explicit allow flag is always present.
  return [
    "run",
    "--quiet",
    "--no-prompt",
    "--no-config",
    "--no-lock",
    "--no-remote",
    "--no-npm",
    `--allow-read=${flagValue(workspace)}`,
    ...(options.allowWrite ? [`--allow-write=${flagValue(workspace)}`] : []),
    ...(hiddenPaths.length > 0 ? [`--deny-read=${hiddenPaths.map(absolute).join(",")}`] : []),
    ...(options.allowWrite && denyWrite.length > 0 ? [`--deny-write=${denyWrite.map(absolute).join(",")}`] : []),
    runnerProgramUrl(),
    JSON.stringify(config),
  ];
}

function runnerProgramUrl(): string {
  if (programUrl === undefined) {
    const bytes = new TextEncoder().encode(runnerProgram());
    let binary = "";
    for (let index = 0; index < bytes.length; index += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
    }
    programUrl = `data:application/typescript;base64,${btoa(binary)}`;
  }
  return programUrl;
}

// Deno 2.9 splits permission flag values at every comma and has no escape for one (`,,` fails with "Empty path is not
// allowed"), so a path with a comma cannot be granted alone.
function flagValue(path: string): string {
  if (path.includes(",")) {
    throw new TypeError(
      `Path "${path}" contains a comma, which Deno permission flags cannot express: use a directory without commas`,
    );
  }
  return path;
}

function relativeEntry(workspace: string, entry: string): string {
  if (typeof entry !== "string" || entry === "" || entry.includes("\0")) {
    throw new TypeError(`Protected path ${JSON.stringify(entry)} must be a non-empty path inside the workspace`);
  }
  const absolute = resolveInsideWorkspace(workspace, entry);
  if (absolute === workspace) throw new TypeError(`Protected path "${entry}" must not be the workspace itself`);
  return toWorkspaceRelative(workspace, absolute);
}

/**
 * The deno binary that runs the runner: the option, else `FLUE_DENO_PATH`, else the running deno. A compiled binary's
 * `Deno.execPath()` is the binary itself, so then `deno` is looked up on `PATH`.
 *
 * @param option The `denoPath` option, if given.
 * @returns The binary to run.
 */
export function resolveDenoPath(option: string | undefined): string {
  if (option !== undefined) {
    if (typeof option !== "string" || option === "") throw new TypeError(`denoPath "${option}" must be a path`);
    return option;
  }
  const fromEnvironment = readEnvironment("FLUE_DENO_PATH");
  if (fromEnvironment) return fromEnvironment;
  const own = Deno.execPath();
  // A compiled binary's execPath is the binary itself, which would start the application instead of the runner.
  return /(^|[\\/])deno(\.exe)?$/.test(own) ? own : "deno";
}

function readEnvironment(name: string): string | undefined {
  if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") return undefined;
  return Deno.env.get(name);
}

/**
 * The command that starts a runner serving `servedRoot`: deno under bubblewrap where it works (or when required), deno
 * alone otherwise.
 *
 * @param denoPath The deno binary, as {@linkcode resolveDenoPath} chose it.
 * @param servedRoot The real path of the served directory.
 * @param isolation Whether to use bubblewrap.
 * @param options The deno arguments' options.
 * @returns The program and its arguments.
 * @throws {SandboxUnavailableError} When deno is missing, or `isolation` is `bubblewrap` and bubblewrap cannot run.
 */
export async function runnerCommand(
  denoPath: string,
  servedRoot: string,
  isolation: RunnerIsolation,
  options: RunnerArgsOptions,
): Promise<RunnerCommand> {
  const denoArgs = buildRunnerArgs(servedRoot, options);
  if (isolation === "none") return { program: denoPath, args: denoArgs, isConfined: false };
  const status = await detectBubblewrap();
  if (!status.available) {
    if (isolation === "auto") return { program: denoPath, args: denoArgs, isConfined: false };
    throw new SandboxUnavailableError(
      `The sandbox file runner needs bubblewrap, which cannot run here: ${status.reason}`,
      { installCommand: "apt-get install bubblewrap" },
    );
  }
  const realDeno = await realDenoPath(denoPath);
  return {
    program: status.path,
    args: runnerBubblewrapArgs({
      denoPath: realDeno,
      servedRoot,
      allowWrite: options.allowWrite,
      features: status.features,
      denoArgs,
    }),
    isConfined: true,
  };
}

// The binary is mounted at its real path, so a link (such as /usr/local/bin/deno) is resolved first.
async function realDenoPath(denoPath: string): Promise<string> {
  const found = denoPath.includes("/") ? denoPath : findExecutable(denoPath);
  try {
    if (found === undefined) throw new Deno.errors.NotFound(denoPath);
    return await Deno.realPath(found);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new SandboxUnavailableError(
      `The Deno binary "${denoPath}" that runs sandbox file operations was not found: install deno, or set ` +
        `FLUE_DENO_PATH or the denoPath option to its path`,
      { cause: error, installCommand: "curl -fsSL https://deno.land/install.sh | sh" },
    );
  }
}
