/**
 * `flue run`: prompts the project's agent (`--prompt`) or runs a workflow (`flue run <workflow>`).
 *
 * @module
 */

import { resolve } from "node:path";
import type { AgentOptions } from "../agent/agent_options.ts";
import { runWorkflow } from "../agent/workflow.ts";
import type { FlueEvent } from "../events/event_types.ts";
import { defaultAgentName, initProjectAgent, openProject } from "../project/project.ts";
import { findModule, loadWorkflowModule } from "../project/discover.ts";
import { createStore } from "../store/create_store.ts";
import { assertProjectReady } from "../server/project_check.ts";
import { type CliIo, describeActivity, styles } from "./terminal.ts";
import { workflowEnvironment } from "./_workflow_env.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { UsageError } from "./usage_error.ts";

const FLAGS = [
  "--prompt",
  "--payload",
  "--session",
  "--model",
  "--agent",
  "--id",
  "--stream",
  "--json",
  "--allow-write",
  "--allow-shell",
  "--allow-command",
  "--project",
  "--help",
];

/** The help text of `flue run`. */
export const RUN_HELP: string = `Usage:
  flue run --prompt <text> [--agent <name>] [--session <name>] [options]
  flue run <workflow> [--payload '<json>' | --payload @file.json] [options]

Options:
  -p, --prompt <text>       message for the project's agent ("-" reads it from standard input)
      --payload <json|@file> workflow input (JSON text, or @path to a JSON file)
  -s, --session <name>      session to continue (default "default")
  -m, --model <model>       model string, such as openai:gpt-5.5, or "test" (key-less)
      --agent <name>        agent module to prompt (default: the only one, or "default")
      --id <id>             agent instance id (default "default")
      --stream              print text as it arrives and tool activity on stderr
      --json                print one JSON result on stdout
      --allow-write         let the agent write files in its sandbox
      --allow-shell         let the agent run commands in its sandbox
      --allow-command <p>   allow a program (repeatable), such as git or "git status"
      --project <dir>       project directory (default: current directory)
  -h, --help                show this help
`;

/**
 * Runs `flue run`.
 *
 * @param args The arguments after `run`.
 * @param io Where to write.
 * @returns The exit status.
 */
export async function runCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {
    prompt: { type: "string", short: "p" },
    payload: { type: "string" },
    session: { type: "string", short: "s" },
    model: { type: "string", short: "m" },
    agent: { type: "string" },
    id: { type: "string" },
    stream: { type: "boolean" },
    json: { type: "boolean" },
    "allow-write": { type: "boolean" },
    "allow-shell": { type: "boolean" },
    "allow-command": { type: "string", multiple: true },
    project: { type: "string" },
    help: { type: "boolean", short: "h" },
  }, FLAGS);
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(RUN_HELP);
    return 0;
  }
  if (positionals.length > 1) {
    throw new UsageError(`flue run takes at most one workflow name, got ${positionals.map((p) => `"${p}"`).join(" ")}`);
  }
  const workflow = positionals[0];
  if (!workflow && values.prompt === undefined) {
    throw new UsageError(`flue run needs --prompt <text> or a workflow name; see "flue run --help"`);
  }
  if (workflow && values.prompt !== undefined) {
    throw new UsageError(`Give either --prompt or a workflow name, not both`);
  }
  if (!workflow && values.payload !== undefined) {
    throw new UsageError(`--payload is for workflows: flue run <workflow> --payload ...`);
  }
  if (values.stream && values.json) throw new UsageError(`--stream and --json do not combine: choose one`);

  const prompt = values.prompt === "-" ? await readStdin() : values.prompt;
  if (prompt !== undefined && prompt.trim() === "") {
    throw new UsageError(`--prompt is empty: pass the message, or "-" to read it from standard input`);
  }
  const project = await openProject(values.project ?? Deno.cwd());
  await assertProjectReady(project, { model: values.model });
  const overrides: Partial<AgentOptions> = {};
  if (values.model !== undefined) overrides.model = values.model;
  if (values["allow-write"]) overrides.allowWrite = true;
  if (values["allow-shell"]) overrides.allowShell = true;
  if (values["allow-command"]) {
    overrides.allowedCommands = [...(project.defaults.allowedCommands ?? []), ...values["allow-command"]];
  }
  const style = styles(io.color);
  const controller = new AbortController();
  const onInterrupt = () => controller.abort("interrupted (SIGINT)");
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    if (workflow) {
      const payload = await parsePayload(values.payload, project.dir);
      return await runWorkflowCommand(workflow, payload, values, overrides, project, io, controller.signal);
    }
    const agent = await initProjectAgent(project, {
      agent: defaultAgentName(project, values.agent),
      id: values.id,
      overrides,
    });
    // Without --stream, a person at a terminal still sees tool activity on stderr while the call runs.
    const unsubscribe = io.progress && !values.json && !values.stream
      ? agent.subscribe((event) => printActivity(event, io, style))
      : undefined;
    try {
      const session = await agent.session(values.session ?? "default");
      if (values.stream) {
        const stream = session.stream(prompt!, { signal: controller.signal });
        for await (const event of stream) printStreamEvent(event, io, style);
        const response = await stream.result;
        if (!response.text.endsWith("\n")) io.stdout("\n");
        return 0;
      }
      const response = await session.prompt(prompt!, { signal: controller.signal });
      if (values.json) {
        io.stdout(
          `${
            JSON.stringify({
              text: response.text,
              usage: response.usage,
              model: response.model,
              agent: agent.name,
              session: session.name,
              operationId: response.operationId,
            })
          }\n`,
        );
      } else {
        io.stdout(response.text.endsWith("\n") ? response.text : `${response.text}\n`);
      }
      return 0;
    } finally {
      unsubscribe?.();
      await agent.close();
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

async function runWorkflowCommand(
  name: string,
  payload: unknown,
  values: { id?: string; stream?: boolean; json?: boolean },
  overrides: Partial<AgentOptions>,
  project: Awaited<ReturnType<typeof openProject>>,
  io: CliIo,
  signal: AbortSignal,
): Promise<number> {
  const module = await loadWorkflowModule(findModule(project.modules.workflows, "workflow", name));
  const store = createStore(project.defaults.store ?? "sqlite", {
    projectDir: project.dir,
    stateDir: project.defaults.stateDir,
  });
  const style = styles(io.color);
  // Streamed text goes to stderr; a line it leaves open is closed before anything else is printed.
  let openLine = false;
  const writeStreamed = (text: string) => {
    if (text === "") return;
    io.stderr(text);
    openLine = !text.endsWith("\n");
  };
  const closeLine = () => {
    if (openLine) io.stderr("\n");
    openLine = false;
  };
  const showEvent = values.stream
    ? (event: FlueEvent) => {
      if (event.type !== "text_delta") closeLine();
      printStreamEvent(event, io, style, writeStreamed);
    }
    : io.progress && !values.json
    ? (event: FlueEvent) => printActivity(event, io, style)
    : undefined;
  try {
    const { runId, result } = await runWorkflow(module, {
      name,
      payload,
      id: values.id,
      env: workflowEnvironment(Deno.env.toObject()),
      store,
      defaults: project.defaults,
      overrides,
      telemetry: project.defaults.telemetry,
      signal,
      // A workflow's stdout is its JSON result alone; its agents' streamed text goes to stderr with the activity, and
      // the run id goes there first in every mode, so "flue logs <runId>" can be run while it works.
      onEvent: (event) => {
        if (event.type === "run_start") {
          io.stderr(`${style.dim(`run ${event.runId} started (flue logs ${event.runId})`)}\n`);
          return;
        }
        showEvent?.(event);
      },
    });
    closeLine();
    if (values.json) io.stdout(`${JSON.stringify({ runId, result })}\n`);
    else io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } finally {
    closeLine();
    await store.close();
  }
}

function printActivity(event: FlueEvent, io: CliIo, style: ReturnType<typeof styles>): void {
  const line = describeActivity(event, style);
  if (line) io.stderr(`${line}\n`);
}

function printStreamEvent(
  event: FlueEvent,
  io: CliIo,
  style: ReturnType<typeof styles>,
  writeText: (text: string) => void = io.stdout,
): void {
  if (event.type === "text_delta") {
    writeText(event.text);
    return;
  }
  printActivity(event, io, style);
}

/**
 * Reads `--payload`: JSON text, or `@path` to a JSON file relative to the project.
 *
 * @param raw The flag's value.
 * @param projectDir Where `@path` is resolved.
 * @returns The parsed payload (`undefined` when the flag is absent).
 */
export async function parsePayload(raw: string | undefined, projectDir: string): Promise<unknown> {
  if (raw === undefined) return undefined;
  let text = raw;
  let source = "--payload";
  if (raw.startsWith("@")) {
    const path = resolve(projectDir, raw.slice(1));
    source = `--payload file "${path}"`;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      throw new UsageError(`Could not read ${source}: ${(error as Error).message}`, { cause: error });
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${source} is not valid JSON (${(error as Error).message}): pass JSON such as '{"text":"hello"}' or @file.json`,
      { cause: error },
    );
  }
}

// The newline that ends a piped line is not part of the message.
async function readStdin(): Promise<string> {
  return (await new Response(Deno.stdin.readable).text()).replace(/\r?\n$/, "");
}
