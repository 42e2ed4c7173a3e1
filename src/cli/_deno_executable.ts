/**
 * Which `deno` the CLI starts for subprocesses (`deno fmt`, `deno compile`, a relaunch): the running one, unless this
 * CLI is a `deno compile`d binary, whose executable is the binary itself.
 *
 * @module
 */

/**
 * Whether this process runs in the `deno` executable (not a compiled binary).
 *
 * @returns `true` under `deno run`.
 */
export function isDenoExecutable(): boolean {
  return /^deno(\.exe)?$/i.test(Deno.execPath().split(/[\\/]/).pop() ?? "");
}

/**
 * The `deno` to run: this process's executable under `deno run`, else `deno` from `PATH`.
 *
 * @returns A path or a command name.
 */
export function denoExecutable(): string {
  return isDenoExecutable() ? Deno.execPath() : "deno";
}
