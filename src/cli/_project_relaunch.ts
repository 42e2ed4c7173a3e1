/**
 * Runs a project command under the project's own Deno configuration. A project's modules `import ... from "flue"`,
 * and Deno resolves that bare name through the import map of the configuration the process started with: the one
 * found from the working directory, or the one `deno install` fixed in a `flue` shim. When that is not the project's,
 * the CLI starts once more with `--config <project>/deno.json` and the project's own Flue CLI.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findDenoConfig, readDenoConfig } from "../project/deno_config.ts";
import { isDenoExecutable } from "./_deno_executable.ts";
import { UsageError } from "./usage_error.ts";

/** Set in the relaunched process to the configuration it runs under, so it never relaunches again. */
const RELAUNCHED_UNDER = "FLUE_CLI_CONFIG";

/**
 * Relaunches the CLI under the project's configuration when the process runs under another one.
 *
 * @param args The command-line arguments (the command first).
 * @returns The relaunched process's exit status, or `undefined` when this process may run the command itself.
 * @throws {UsageError} When a relaunch is needed but this process lacks the permissions to start one.
 */
export async function relaunchUnderProjectConfig(args: string[]): Promise<number | undefined> {
  const projectDir = resolve(projectFlag(args) ?? Deno.cwd());
  const found = await readDenoConfig(projectDir).catch(() => undefined);
  const flue = (found?.config.imports as Record<string, unknown> | undefined)?.flue;
  // Only a project that maps "flue" needs its own import map; a compiled binary carries its modules with it.
  if (!found || typeof flue !== "string" || !isDenoExecutable()) return undefined;
  if (Deno.env.get(RELAUNCHED_UNDER) === found.path) return undefined;
  if (await activeConfig() === found.path) return undefined;
  if (!hasAllPermissions()) {
    throw new UsageError(
      `The project "${projectDir}" needs its own configuration: run deno run -A --config ${found.path} ` +
        `jsr:@flue/cli/cli ${args.join(" ")}`,
    );
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", "--config", found.path, cliSpecifier(flue), ...args],
    env: { [RELAUNCHED_UNDER]: found.path },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  // The child gets Ctrl-C from the terminal itself; a SIGTERM sent to this process alone is passed on.
  const forward = () => child.kill("SIGTERM");
  Deno.addSignalListener("SIGTERM", forward);
  const ignoreInterrupt = () => {};
  Deno.addSignalListener("SIGINT", ignoreInterrupt);
  try {
    const status = await child.status;
    return status.signal ? 128 + signalNumber(status.signal) : status.code;
  } finally {
    Deno.removeSignalListener("SIGTERM", forward);
    Deno.removeSignalListener("SIGINT", ignoreInterrupt);
  }
}

/** The project's own CLI: the `/cli` export of its `flue` package, or this CLI when it maps `flue` to a file. */
function cliSpecifier(flue: string): string {
  if (/^jsr:@flue\/cli(@[^/]*)?$/.test(flue)) return `${flue}/cli`;
  return Deno.mainModule;
}

function projectFlag(args: string[]): string | undefined {
  for (let index = 1; index < args.length; index++) {
    if (args[index] === "--") return undefined;
    if (args[index] === "--project") return args[index + 1];
    if (args[index].startsWith("--project=")) return args[index].slice("--project=".length);
  }
  return undefined;
}

function hasAllPermissions(): boolean {
  const names = ["read", "write", "net", "env", "run", "sys", "ffi"] as const;
  return names.every((name) => Deno.permissions.querySync({ name }).state === "granted");
}

/**
 * The configuration file this process started with: the `--config` (or `--no-config`) of its command line where the
 * system shows it (`/proc/self/cmdline` on Linux), else the one Deno finds upwards from the script's directory (a local
 * script) or from the working directory (a remote one, such as `jsr:@flue/cli/cli`, even when `links` resolves it to a
 * local checkout).
 */
async function activeConfig(): Promise<string | undefined> {
  let script: string | undefined = Deno.mainModule;
  try {
    const argv = (await Deno.readTextFile("/proc/self/cmdline")).split("\0").slice(0, -1);
    // The script's own arguments come last, the script before them, Deno's flags before that.
    const scriptIndex = argv.length - Deno.args.length - 1;
    script = argv[scriptIndex];
    const flags = argv.slice(0, scriptIndex);
    if (flags.includes("--no-config")) return undefined;
    for (let index = 0; index < flags.length; index++) {
      if (flags[index] === "--config" || flags[index] === "-c") return resolve(flags[index + 1]);
      if (flags[index].startsWith("--config=")) return resolve(flags[index].slice("--config=".length));
    }
  } catch {
    // not Linux, or no permission to read it: judge by the main module
  }
  const remote = /^[a-z][a-z0-9+.-]+:/i.test(script) && !script.startsWith("file:");
  const local = script.startsWith("file:") ? fileURLToPath(script) : resolve(script);
  for (let dir = remote ? Deno.cwd() : dirname(local);; dir = dirname(dir)) {
    const found = await findDenoConfig(dir);
    if (found) return found;
    if (dirname(dir) === dir) return undefined;
  }
}

function signalNumber(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 1;
}
