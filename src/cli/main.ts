/**
 * The CLI entry: parses the command, runs it, and maps errors to exit statuses (0 success, 1 failure, 2 usage error,
 * 130 interrupted).
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import { AbortError, PayloadValidationError } from "../errors.ts";
import { type CliIo, processIo, styles } from "./terminal.ts";
import { UsageError } from "./usage_error.ts";
import { formatCliError, isDebugRequested } from "./error_report.ts";

/** The top-level help text. */
export const HELP: string = `flue ${denoJson.version}: agents and workflows for Deno

Usage:
  flue init [dir]                       create a project, or add Flue to an existing Deno project
  flue run --prompt <text> [options]    prompt the project's agent
  flue run <workflow> [--payload JSON]  run a workflow
  flue skill new <name>                 write .agents/skills/<name>/SKILL.md from a template
  flue add <name> | --list              add a connector guide (sandbox, channel, store, deploy...) as a skill
  flue dev [--port 2024]                serve the project, reloading when its files change
  flue serve [--port 2024]              serve the project's agents and workflows over HTTP
  flue routes [--json]                  list the server's routes, agents and workflows
  flue invoke <agent> <id> --message m  prompt an agent instance (in process, or --url a server)
  flue logs <runId> [--follow]          print a workflow run's events (--last: the newest run's)
  flue runs [--workflow w] [--status s] list workflow runs, newest first
  flue mcp [--agent <name>]             serve an agent as an MCP server over stdio
  flue check                            validate the project (configuration, modules, keys, skills) and exit
  flue build --target <target>          write deployment files (binary, docker, deno-deploy, fly, ...)
  flue deploy --target <target>         build, then deploy with the platform's own CLI
  flue help [command]                   show help
  flue --version                        print the version

Run "flue <command> --help" for a command's options; --debug (or FLUE_DEBUG=1) prints full stacks on errors.
Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted.
`;

/** A command: its help text and how it runs. */
interface Command {
  help: string;
  run: (args: string[], io: CliIo) => Promise<number>;
}

/**
 * The commands, each imported only when used, so `flue --help` and `flue --version` load none of them. `project`
 * marks commands that import the project's modules, which need the project's import map (see `_project_relaunch.ts`).
 */
const COMMANDS: Record<string, { load: () => Promise<Command>; project?: true }> = {
  init: { load: () => import("./init_command.ts").then((m) => ({ help: m.INIT_HELP, run: m.initCommand })) },
  run: { load: () => import("./run_command.ts").then((m) => ({ help: m.RUN_HELP, run: m.runCommand })), project: true },
  skill: { load: () => import("./skill_command.ts").then((m) => ({ help: m.SKILL_HELP, run: m.skillCommand })) },
  dev: { load: () => import("./dev_command.ts").then((m) => ({ help: m.DEV_HELP, run: m.devCommand })) },
  serve: {
    load: () => import("./serve_command.ts").then((m) => ({ help: m.SERVE_HELP, run: m.serveCommand })),
    project: true,
  },
  routes: {
    load: () => import("./routes_command.ts").then((m) => ({ help: m.ROUTES_HELP, run: m.routesCommand })),
    project: true,
  },
  invoke: {
    load: () => import("./invoke_command.ts").then((m) => ({ help: m.INVOKE_HELP, run: m.invokeCommand })),
    project: true,
  },
  logs: { load: () => import("./logs_command.ts").then((m) => ({ help: m.LOGS_HELP, run: m.logsCommand })) },
  build: { load: () => import("./build_command.ts").then((m) => ({ help: m.BUILD_HELP, run: m.buildCommand })) },
  deploy: { load: () => import("./deploy_command.ts").then((m) => ({ help: m.DEPLOY_HELP, run: m.deployCommand })) },
  runs: { load: () => import("./runs_command.ts").then((m) => ({ help: m.RUNS_HELP, run: m.runsCommand })) },
  check: {
    load: () => import("./check_command.ts").then((m) => ({ help: m.CHECK_HELP, run: m.checkCommand })),
    project: true,
  },
  add: { load: () => import("./add_command.ts").then((m) => ({ help: m.ADD_HELP, run: m.addCommand })) },
  mcp: { load: () => import("./mcp_command.ts").then((m) => ({ help: m.MCP_HELP, run: m.mcpCommand })), project: true },
};

/**
 * Runs the CLI as the process's entry point: when the command loads a project whose own configuration is not the one
 * this process started with (`--project` elsewhere, or a `flue` installed with `deno install`), it starts again under
 * that configuration, so the project's `import ... from "flue"` resolves; otherwise it runs {@linkcode main}.
 *
 * @param args The command-line arguments, such as `Deno.args`.
 * @returns The exit status.
 */
export async function runMain(args: string[]): Promise<number> {
  if (COMMANDS[args[0]]?.project) {
    const { relaunchUnderProjectConfig } = await import("./_project_relaunch.ts");
    const status = await relaunchUnderProjectConfig(args);
    if (status !== undefined) return status;
  }
  return await main(args);
}

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
export async function main(givenArgs: string[], io: CliIo = processIo()): Promise<number> {
  const style = styles(io.color);
  const debug = isDebugRequested(givenArgs);
  const args = givenArgs.filter((arg) => arg !== "--debug");
  const [command, ...rest] = args;
  try {
    if (command === undefined || command === "help" || command === "--help" || command === "-h") {
      const topic = command === "help" && rest[0] !== "--help" && rest[0] !== "-h" ? rest[0] : undefined;
      if (topic !== undefined && !COMMANDS[topic]) throw unknownCommand(topic);
      io.stdout(topic ? (await COMMANDS[topic].load()).help : HELP);
      return 0;
    }
    if (command === "--version" || command === "-V") {
      io.stdout(`flue ${denoJson.version}\n`);
      return 0;
    }
    const entry = COMMANDS[command];
    if (!entry) throw unknownCommand(command);
    return await (await entry.load()).run(rest, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof PayloadValidationError) {
      io.stderr(`${style.red("error:")} ${error.message}\n`);
      return 2;
    }
    io.stderr(formatCliError(error, { style, debug, cwd: Deno.cwd() }));
    return error instanceof AbortError ? 130 : 1;
  }
}

function unknownCommand(command: string): UsageError {
  return new UsageError(
    `Unknown command "${command}": commands are ${Object.keys(COMMANDS).join(", ")}, help and --version`,
  );
}
