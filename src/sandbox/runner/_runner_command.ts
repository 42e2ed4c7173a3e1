/**
 * How the file runner subprocess is started: which deno binary, and the exact arguments, with permission flags that name
 * only the workspace.
 *
 * @module
 */

import type { DenoRunnerOptions } from "./deno_runner.ts";
import { type RunnerConfig, runnerProgram } from "./_runner_source.ts";
import { resolveInsideWorkspace, toWorkspaceRelative } from "../workspace_paths.ts";

let programUrl: string | undefined;

/**
 * The arguments after the deno binary that start the runner: `run`, the isolation flags, the permission flags naming
 * only the workspace, the program as a `data:` URL (never `deno eval`, which ignores permission flags) and its
 * configuration.
 *
 * @param workspace The workspace's real path.
 * @param options Write access, protected paths, the read limit and the test switch.
 * @returns The argument list.
 */
export function buildRunnerArgs(
  workspace: string,
  options: Omit<DenoRunnerOptions, "workspace"> & { maxReadBytes: number },
): string[] {
  const readOnlyPaths = (options.readOnlyPaths ?? []).map((entry) => relativeEntry(workspace, entry));
  const hiddenPaths = (options.hiddenPaths ?? []).map((entry) => relativeEntry(workspace, entry));
  const absolute = (entry: string) => flagValue(`${workspace}/${entry}`);
  const config: RunnerConfig = {
    root: workspace,
    readOnlyPaths,
    hiddenPaths,
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
