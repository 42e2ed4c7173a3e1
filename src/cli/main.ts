/**
 * The CLI entry: parses the command, runs it, and maps errors to exit statuses (0 success, 1 failure, 2 usage error,
 * 130 interrupted).
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import { AbortError, PayloadValidationError } from "../errors.ts";
import { DEV_HELP, devCommand } from "./dev_command.ts";
import { INIT_HELP, initCommand } from "./init_command.ts";
import { INVOKE_HELP, invokeCommand } from "./invoke_command.ts";
import { LOGS_HELP, logsCommand } from "./logs_command.ts";
import { MCP_HELP, mcpCommand } from "./mcp_command.ts";
import { ROUTES_HELP, routesCommand } from "./routes_command.ts";
import { RUN_HELP, runCommand } from "./run_command.ts";
import { SERVE_HELP, serveCommand } from "./serve_command.ts";
import { SKILL_HELP, skillCommand } from "./skill_command.ts";
import { type CliIo, processIo, styles } from "./terminal.ts";
import { UsageError } from "./usage_error.ts";

/** The top-level help text. */
export const HELP: string = `flue ${denoJson.version}: agents and workflows for Deno

Usage:
  flue init [dir]                       create a project (runs key-less with the test model)
  flue run --prompt <text> [options]    prompt the project's agent
  flue run <workflow> [--payload JSON]  run a workflow
  flue skill new <name>                 write .agents/skills/<name>/SKILL.md from a template
  flue dev [--port 2024]                serve the project, reloading when its files change
  flue serve [--port 2024]              serve the project's agents and workflows over HTTP
  flue routes [--json]                  list the server's routes, agents and workflows
  flue invoke <agent> <id> --message m  prompt an agent instance (in process, or --url a server)
  flue logs <runId> [--follow]          print a workflow run's events
  flue mcp [--agent <name>]             serve an agent as an MCP server over stdio
  flue help [command]                   show help
  flue --version                        print the version

Run "flue <command> --help" for a command's options.
Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted.
`;

const COMMANDS: Record<string, { help: string; run: (args: string[], io: CliIo) => Promise<number> }> = {
  init: { help: INIT_HELP, run: initCommand },
  run: { help: RUN_HELP, run: runCommand },
  skill: { help: SKILL_HELP, run: skillCommand },
  dev: { help: DEV_HELP, run: devCommand },
  serve: { help: SERVE_HELP, run: serveCommand },
  routes: { help: ROUTES_HELP, run: routesCommand },
  invoke: { help: INVOKE_HELP, run: invokeCommand },
  logs: { help: LOGS_HELP, run: logsCommand },
  mcp: { help: MCP_HELP, run: mcpCommand },
};

/**
 * Runs the CLI.
 *
 * @example Usage
 * ```ts
 * import { main } from "./main.ts";
 *
 * const status = await main(["--version"]);
 * if (status !== 0) throw new Error("unexpected");
 * ```
 *
 * @param args The command-line arguments, such as `Deno.args`.
 * @param io Where to write; the process's streams by default.
 * @returns The exit status.
 */
export async function main(args: string[], io: CliIo = processIo()): Promise<number> {
  const style = styles(io.color);
  const [command, ...rest] = args;
  try {
    if (command === undefined || command === "help" || command === "--help" || command === "-h") {
      const topic = command === "help" ? rest[0] : undefined;
      if (topic !== undefined && !COMMANDS[topic]) throw unknownCommand(topic);
      io.stdout(topic ? COMMANDS[topic].help : HELP);
      return 0;
    }
    if (command === "--version" || command === "-V") {
      io.stdout(`flue ${denoJson.version}\n`);
      return 0;
    }
    const handler = COMMANDS[command];
    if (!handler) throw unknownCommand(command);
    return await handler.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof PayloadValidationError) {
      io.stderr(`${style.red("error:")} ${error.message}\n`);
      return 2;
    }
    if (error instanceof AbortError) {
      io.stderr(`${style.red("aborted:")} ${error.message}\n`);
      return 130;
    }
    const name = error instanceof Error ? error.name : "Error";
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`${style.red(`${name}:`)} ${message}\n`);
    return 1;
  }
}

function unknownCommand(command: string): UsageError {
  return new UsageError(
    `Unknown command "${command}": commands are ${Object.keys(COMMANDS).join(", ")}, help and --version`,
  );
}
