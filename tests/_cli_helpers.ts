/** Helpers for end-to-end tests that run the CLI as a real subprocess. */

import { fileURLToPath } from "node:url";

/** The checkout's root directory. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));
/** The CLI entry. */
export const CLI: string = `${ROOT}cli.ts`;

/** What a CLI run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `flue <args>` in a subprocess, the way a user does.
 *
 * @param args The CLI arguments.
 * @param options The working directory, an optional project config, and extra environment.
 * @returns Exit code and output.
 */
export async function runCli(
  args: string[],
  options: { cwd: string; config?: string; env?: Record<string, string> },
): Promise<CliRun> {
  const denoArgs = ["run", "-A", "--quiet"];
  if (options.config) denoArgs.push("--config", options.config);
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...denoArgs, CLI, ...args],
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}
