/** Helpers for tests that copy the checkout beside a generated project, as a user commits and clones them. */

import { join } from "node:path";
import { ROOT } from "./_cli_helpers.ts";

/** What a command printed and returned. */
export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command and collects its output.
 *
 * @param command The program.
 * @param args Its arguments.
 * @param options The working directory and extra environment.
 * @returns Exit code and output.
 */
export async function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CommandRun> {
  const output = await new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/**
 * Copies the checkout's tracked sources (no `.git`, no state) to `<dir>/flue`.
 *
 * @param dir The directory to copy into.
 * @returns The copy's path.
 */
export async function copyCheckout(dir: string): Promise<string> {
  const target = join(dir, "flue");
  const copy = await runCommand("cp", ["-r", ROOT, target], { cwd: dir });
  if (copy.code !== 0) throw new Error(`cp failed: ${copy.stderr}`);
  for (const leftover of [".git", ".flue", "node_modules", "coverage"]) {
    await Deno.remove(join(target, leftover), { recursive: true }).catch(() => {});
  }
  return target;
}

/**
 * Runs `flue` from a checkout copy the way a user of that checkout does: `deno run -A cli.ts` from its directory.
 *
 * @param checkout The checkout.
 * @param args The CLI's arguments.
 * @param cwd The working directory (default: the checkout).
 * @returns Exit code and output.
 */
export function runCheckoutCli(checkout: string, args: string[], cwd = checkout): Promise<CommandRun> {
  return runCommand(Deno.execPath(), [
    "run",
    "-A",
    "--quiet",
    "--config",
    join(checkout, "deno.json"),
    join(checkout, "cli.ts"),
    ...args,
  ], { cwd });
}
