/**
 * `flue invoke <agent> <id>`: prompts one agent instance, in this process (as `flue run --prompt` does, sharing the
 * project's store) or through a running server with `--url`; `--dispatch` queues the message durably instead.
 *
 * @module
 */

import { dispatch } from "../agent/dispatch.ts";
import type { FlueEvent } from "../events/event_types.ts";
import { findModule } from "../project/discover.ts";
import { openProject } from "../project/project.ts";
import { createStore } from "../store/create_store.ts";
import { runCommand } from "./run_command.ts";
import { clientForUrl, explainClientError } from "./_server_client.ts";
import { type CliIo, describeActivity, styles } from "./terminal.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { UsageError } from "./usage_error.ts";

const FLAGS = [
  "--message",
  "--session",
  "--url",
  "--stream",
  "--json",
  "--dispatch",
  "--idempotency-key",
  "--project",
  "--help",
];

/** The help text of `flue invoke`. */
export const INVOKE_HELP: string = `Usage:
  flue invoke <agent> <id> --message <text> [--session <name>] [--stream | --json] [--project <dir>]
  flue invoke <agent> <id> --message <text> --url <server> [--session <name>] [--stream | --json]
  flue invoke <agent> <id> --message <text> --dispatch [--idempotency-key <key>] [--url <server>]

Prompts the instance <id> of the agent <agent> and prints the answer. Without --url the agent runs in this process
with the project's configuration and store, so the session's history is the one a server of this project uses.
With --url it asks a running server (token: FLUE_API_TOKEN).

Options:
      --message <text>      the message ("-" reads it from standard input)
  -s, --session <name>      session to continue (default "default")
      --url <server>        a running server, such as http://127.0.0.1:2024
      --stream              print text as it arrives and tool activity on stderr
      --json                print one JSON result on stdout
      --dispatch            queue the message durably and print the receipt; a server's dispatch worker runs it
                            (without --url it is stored in the project's store, where "flue serve" picks it up)
      --idempotency-key <k> with --dispatch: a repeat with the same key returns the first receipt
      --project <dir>       project directory (default: current directory)
  -h, --help                show this help
`;

/**
 * Runs `flue invoke`.
 *
 * @param args The arguments after `invoke`.
 * @param io Where to write.
 * @returns The exit status.
 */
export async function invokeCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {
    message: { type: "string" },
    session: { type: "string", short: "s" },
    url: { type: "string" },
    stream: { type: "boolean" },
    json: { type: "boolean" },
    dispatch: { type: "boolean" },
    "idempotency-key": { type: "string" },
    project: { type: "string" },
    help: { type: "boolean", short: "h" },
  }, FLAGS);
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(INVOKE_HELP);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      `flue invoke needs an agent name and an instance id, such as "flue invoke assistant user-1 --message Hello"; ` +
        `got ${positionals.length} argument${positionals.length === 1 ? "" : "s"}`,
    );
  }
  const [agent, id] = positionals;
  if (values.message === undefined) {
    throw new UsageError(`flue invoke needs --message <text> (or --message - to read it from standard input)`);
  }
  if (values.stream && values.json) throw new UsageError(`--stream and --json do not combine: choose one`);
  if (values.dispatch && values.stream) throw new UsageError(`--dispatch queues the message: it has nothing to stream`);
  if (values["idempotency-key"] !== undefined && !values.dispatch) {
    throw new UsageError(`--idempotency-key applies to --dispatch only`);
  }
  if (values.url !== undefined && values.project !== undefined) {
    throw new UsageError("--url and --project do not combine: invoke through a server or in a project");
  }

  if (values.url === undefined && !values.dispatch) {
    // In process, this is exactly `flue run --prompt` addressed to one agent instance.
    const runArgs = ["--prompt", values.message, "--agent", agent, "--id", id];
    if (values.session !== undefined) runArgs.push("--session", values.session);
    if (values.stream) runArgs.push("--stream");
    if (values.json) runArgs.push("--json");
    if (values.project !== undefined) runArgs.push("--project", values.project);
    return await runCommand(runArgs, io);
  }

  // `echo hi | flue invoke ... --message -` sends "hi": the newline that ends the piped line is not part of it.
  const message = values.message === "-"
    ? (await new Response(Deno.stdin.readable).text()).replace(/\r?\n$/, "")
    : values.message;
  if (message.trim() === "") {
    throw new UsageError(`--message is empty: pass the message, or "-" to read it from standard input`);
  }
  const target = { agent, id, session: values.session, message, idempotencyKey: values["idempotency-key"] };
  if (values.url === undefined) return await dispatchToStore(target, values.project ?? Deno.cwd(), io, values.json);
  try {
    return await invokeServer(values.url, target, io, {
      stream: values.stream,
      json: values.json,
      dispatch: values.dispatch,
    });
  } catch (error) {
    throw explainClientError(error, values.url);
  }
}

interface Target {
  agent: string;
  id: string;
  session?: string;
  message: string;
  idempotencyKey?: string;
}

async function dispatchToStore(target: Target, dir: string, io: CliIo, json?: boolean): Promise<number> {
  const project = await openProject(dir);
  // The worker claims only the agents it serves; an unknown name would wait in the queue forever.
  findModule(project.modules.agents, "agent", target.agent);
  const store = createStore(project.defaults.store ?? "sqlite", {
    projectDir: project.dir,
    stateDir: project.defaults.stateDir,
  });
  try {
    const receipt = await dispatch(store, target);
    printReceipt(receipt, io, json);
    return 0;
  } finally {
    await store.close();
  }
}

async function invokeServer(
  url: string,
  target: Target,
  io: CliIo,
  mode: { stream?: boolean; json?: boolean; dispatch?: boolean },
): Promise<number> {
  const client = clientForUrl(url);
  const { agent, id, message } = target;
  const session = target.session ?? "default";
  if (mode.dispatch) {
    printReceipt(
      await client.dispatch(agent, id, message, { session, idempotencyKey: target.idempotencyKey }),
      io,
      mode.json,
    );
    return 0;
  }
  const controller = new AbortController();
  const onInterrupt = () => {
    controller.abort(new Error("interrupted"));
    // Leaving the request only stops waiting: ask the server to stop the work too.
    client.abort(agent, id, { session }).catch(() => {});
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    if (mode.stream) {
      const style = styles(io.color);
      const stream = client.stream(agent, id, message, { session, signal: controller.signal });
      for await (const event of stream) printStreamEvent(event, io, style);
      const response = await stream.result;
      if (!response.text.endsWith("\n")) io.stdout("\n");
      return 0;
    }
    const response = await client.prompt(agent, id, message, { session, signal: controller.signal });
    if (mode.json) {
      const { text, usage, model, operationId } = response;
      io.stdout(`${JSON.stringify({ text, usage, model, agent, session, operationId })}\n`);
    } else {
      io.stdout(response.text.endsWith("\n") ? response.text : `${response.text}\n`);
    }
    return 0;
  } catch (error) {
    if (controller.signal.aborted) return 130;
    throw error;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

function printReceipt(
  receipt: { dispatchId: string; acceptedAt: string; created: boolean; status: string },
  io: CliIo,
  json?: boolean,
): void {
  if (json) {
    io.stdout(`${JSON.stringify(receipt)}\n`);
    return;
  }
  io.stdout(`${receipt.dispatchId}\n`);
  io.stderr(
    receipt.created
      ? `Queued at ${receipt.acceptedAt}; GET /dispatches/${receipt.dispatchId} shows its state\n`
      : `Already queued with this idempotency key (status: ${receipt.status})\n`,
  );
}

function printStreamEvent(event: FlueEvent, io: CliIo, style: ReturnType<typeof styles>): void {
  if (event.type === "text_delta") {
    io.stdout(event.text);
    return;
  }
  const line = describeActivity(event, style);
  if (line) io.stderr(`${line}\n`);
}
