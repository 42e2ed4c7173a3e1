/**
 * `flue check`: validates the project without running it (the checks `flue serve`, `flue dev` and `flue run` make
 * before they start) and exits 0 when it is ready, 1 when it is not.
 *
 * @module
 */

import { openProject } from "../project/project.ts";
import { checkProject } from "../server/project_check.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { type CliIo, styles } from "./terminal.ts";
import { UsageError } from "./usage_error.ts";

const FLAGS = ["--model", "--json", "--project", "--help"];

/** The help text of `flue check`. */
export const CHECK_HELP: string = `Usage:
  flue check [--model <model>] [--json] [--project <dir>]

Validates the project without running it: the configuration (unknown keys, with the nearest valid one suggested),
every agent and workflow module loads, model strings parse and name a known provider whose key is set, the sandbox is
known, and skill and role files are valid. "flue serve", "flue dev" and "flue run" make the same checks before they
start. Exits 0 when the project is ready, 1 with one line per problem otherwise.

Options:
  -m, --model <model>       check this model instead of the configured one (as "flue run --model" would use)
      --json                print { ok, problems: [{ where, message }] }
      --project <dir>       project directory (default: current directory)
  -h, --help                show this help
`;

/**
 * Runs `flue check`.
 *
 * @param args The arguments after `check`.
 * @param io Where to write.
 * @returns 0 when the project is ready, 1 when it has problems.
 */
export async function checkCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    model: { type: "string", short: "m" },
    json: { type: "boolean" },
    project: { type: "string" },
    help: { type: "boolean", short: "h" },
  }, FLAGS);
  if (values.help) {
    io.stdout(CHECK_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`flue check takes no arguments, got "${positionals[0]}": use --project <dir>`);
  }
  const project = await openProject(values.project ?? Deno.cwd());
  const problems = await checkProject(project, { model: values.model });
  if (values.json) {
    io.stdout(`${JSON.stringify({ ok: problems.length === 0, problems })}\n`);
    return problems.length ? 1 : 0;
  }
  const style = styles(io.color);
  for (const problem of problems) io.stderr(`${style.red("error:")} ${problem.where}: ${problem.message}\n`);
  if (problems.length) return 1;
  const { agents, workflows } = project.modules;
  io.stdout(
    `ok: ${agents.size} agent${agents.size === 1 ? "" : "s"}, ${workflows.size} workflow` +
      `${workflows.size === 1 ? "" : "s"}, configuration, skills and roles are valid\n`,
  );
  return 0;
}
