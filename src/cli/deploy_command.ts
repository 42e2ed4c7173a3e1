/**
 * `flue deploy --target <target>`: builds, then runs the platform's own CLI (`deployctl`, `flyctl`, `railway`,
 * `docker`) from the project directory.
 *
 * @module
 */

import { BUILD_TARGETS } from "../deploy/build_targets.ts";
import { findOnPath, runBuild } from "./build_command.ts";
import { parseCommandArgs } from "./_command_args.ts";
import type { CliIo } from "./terminal.ts";
import { UsageError } from "./usage_error.ts";

const DEPLOYABLE = Object.entries(BUILD_TARGETS).filter(([, target]) => target.cli).map(([name, target]) =>
  `  ${name.padEnd(14)}${target.cli!.executables[0]} ${target.cli!.args({ name: "<name>" } as never).join(" ")}`
).join("\n");

/** The help text of `flue deploy`. */
export const DEPLOY_HELP: string = `Usage:
  flue deploy --target <target> [--project <dir>] [--dry-run]

Runs "flue build --target <target>", then the platform's CLI from the project directory:
${DEPLOYABLE}

When the CLI is not on PATH, exits 2 with the command that installs it. Other targets (binary, render,
github-actions, systemd) deploy by a manual step, which flue deploy names (exit status 2).

Options:
  -t, --target <name>     the target
      --project <dir>     project directory (default: current directory)
      --dry-run           build, then print the platform command instead of running it
`;

const OPTIONS = {
  target: { type: "string", short: "t", multiple: true },
  project: { type: "string" },
  "dry-run": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Runs `flue deploy`.
 *
 * @param args The arguments after `deploy`.
 * @param io Where to write.
 * @returns The exit status: the platform CLI's, or 2 when it is missing.
 */
export async function deployCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, ["--target", "--project", "--dry-run", "--help"]);
  if (values.help) {
    io.stdout(DEPLOY_HELP);
    return 0;
  }
  if (positionals.length) throw new UsageError(`flue deploy takes no positional arguments, got "${positionals[0]}"`);
  const name = values.target?.[0];
  const chosen = name === undefined ? undefined : BUILD_TARGETS[name];
  if (chosen && !chosen.cli) {
    throw new UsageError(
      `flue deploy has no platform CLI for "${name}": run flue build --target ${name}, then ${chosen.manual}`,
    );
  }
  const cli = chosen?.cli;
  const executable = cli ? await findOnPath(cli.executables) : undefined;
  if (cli && !executable && !values["dry-run"]) {
    throw new UsageError(
      `${
        cli.executables.join(" or ")
      } is not on PATH, which flue deploy --target ${name} runs: install it with ${cli.install}`,
    );
  }
  const { context } = await runBuild({ target: values.target, project: values.project });
  io.stdout(`Built ${name}: ${context.written.join(", ")}\n`);
  for (const note of context.notes) io.stdout(`note: ${note}\n`);
  const command = [executable ?? cli!.executables[0], ...cli!.args(context)];
  if (values["dry-run"]) {
    io.stdout(`Would run in ${context.projectDir}: ${command.join(" ")}\n`);
    return 0;
  }
  io.stdout(`Running ${command.join(" ")}\n`);
  const status = await new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: context.projectDir,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return status.code;
}
