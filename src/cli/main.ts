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
  flue dev [--port 2024]                serve the project, reloading when its files change
  flue serve [--port 2024]              serve the project's agents and workflows over HTTP
  flue routes [--json]                  list the server's routes, agents and workflows
  flue invoke <agent> <id> --message m  prompt an agent instance (in process, or --url a server)
  flue logs <runId> [--follow]          print a workflow run's events (--last: the newest run's)
  flue runs [--workflow w] [--status s] list workflow runs, newest first
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
  init: {
    load: async () => {
      const module = await import("./init_command.ts");
      return { help: module.INIT_HELP, run: module.initCommand };
    },
  },
  run: {
    load: async () => {
      const module = await import("./run_command.ts");
      return { help: module.RUN_HELP, run: module.runCommand };
    },
    project: true,
  },
  skill: {
    load: async () => {
      const module = await import("./skill_command.ts");
      return { help: module.SKILL_HELP, run: module.skillCommand };
    },
  },
  dev: {
    load: async () => {
      const module = await import("./dev_command.ts");
      return { help: module.DEV_HELP, run: module.devCommand };
    },
  },
  serve: {
    load: async () => {
      const module = await import("./serve_command.ts");
      return { help: module.SERVE_HELP, run: module.serveCommand };
    },
    project: true,
  },
  routes: {
    load: async () => {
      const module = await import("./routes_command.ts");
      return { help: module.ROUTES_HELP, run: module.routesCommand };
    },
    project: true,
  },
  invoke: {
    load: async () => {
      const module = await import("./invoke_command.ts");
      return { help: module.INVOKE_HELP, run: module.invokeCommand };
    },
    project: true,
  },
  logs: {
    load: async () => {
      const module = await import("./logs_command.ts");
      return { help: module.LOGS_HELP, run: module.logsCommand };
    },
  },
  build: {
    load: async () => {
      const module = await import("./build_command.ts");
      return { help: module.BUILD_HELP, run: module.buildCommand };
    },
  },
  deploy: {
    load: async () => {
      const module = await import("./deploy_command.ts");
      return { help: module.DEPLOY_HELP, run: module.deployCommand };
    },
  },
  runs: {
    load: async () => {
      const module = await import("./runs_command.ts");
      return { help: module.RUNS_HELP, run: module.runsCommand };
    },
  },
  check: {
    load: async () => {
      const module = await import("./check_command.ts");
      return { help: module.CHECK_HELP, run: module.checkCommand };
    },
    project: true,
  },
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
