/**
 * `flue logs <runId>`: prints a workflow run's events, from the project's store by default (runs of `flue run` and of
 * servers sharing that store) or from a server with `--url`; `--follow` keeps printing until the run ends.
 *
 * @module
 */

import { NotFoundError } from "../errors.ts";
import type { FlueEvent } from "../events/event_types.ts";
import { openProject } from "../project/project.ts";
import { RunHub } from "../server/run_hub.ts";
import { followRun } from "../server/run_follower.ts";
import { createStore } from "../store/create_store.ts";
import type { Store } from "../store/store.ts";
import { EventLineWriter } from "./_event_lines.ts";
import { clientForUrl, explainClientError } from "./_server_client.ts";
import { type CliIo, styles } from "./terminal.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { UsageError } from "./usage_error.ts";
import { listRuns } from "./runs_command.ts";

const FLAGS = ["--follow", "--last", "--workflow", "--json", "--types", "--url", "--project", "--poll-ms", "--help"];
const PAGE = 500;
const EVENT_TYPE = /^[a-z][a-z_]{0,63}$/;

/** The help text of `flue logs`. */
export const LOGS_HELP: string = `Usage:
  flue logs <runId> [--follow] [--json] [--types a,b] [--url <server>] [--project <dir>]
  flue logs --last [--workflow <name>] [--follow] [...]

Prints a workflow run's events, one line each: index, time, type, agent and what happened (consecutive text deltas
of a turn joined into one line). Without --url it reads the project's store (.flue/flue.db by default), which holds the
runs of "flue run <workflow>" and of every server using that store, also while they run in another process.

Options:
  -f, --follow              keep printing new events until the run ends (run_end)
      --last                the newest run instead of a run id ("flue runs" lists them)
      --workflow <name>     with --last: the newest run of this workflow
      --json                print each event as one JSON object per line, unjoined
      --types <a,b>         only events of these types, such as log,tool_start,run_end
      --url <server>        read from a running server instead, such as http://127.0.0.1:2024 (token: FLUE_API_TOKEN)
      --project <dir>       project directory (default: current directory)
      --poll-ms <ms>        how often --follow reads the store (default 250)
  -h, --help                show this help
`;

/**
 * Runs `flue logs`.
 *
 * @param args The arguments after `logs`.
 * @param io Where to write.
 * @returns The exit status: 0, or 130 when `--follow` was interrupted.
 */
export async function logsCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {
    follow: { type: "boolean", short: "f" },
    last: { type: "boolean" },
    workflow: { type: "string" },
    json: { type: "boolean" },
    types: { type: "string" },
    url: { type: "string" },
    project: { type: "string" },
    "poll-ms": { type: "string" },
    help: { type: "boolean", short: "h" },
  }, FLAGS);
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(LOGS_HELP);
    return 0;
  }
  if (values.workflow !== undefined && !values.last) {
    throw new UsageError("--workflow goes with --last: flue logs --last --workflow <name>");
  }
  if (values.last && positionals.length > 0) {
    throw new UsageError(`Give either a run id or --last, not both (got "${positionals[0]}")`);
  }
  if (!values.last && positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? `flue logs needs a run id or --last: "flue runs" lists runs, and "flue run <workflow>" prints its id`
        : `flue logs takes one run id, got ${positionals.map((p) => `"${p}"`).join(" ")}`,
    );
  }
  const types = parseTypes(values.types);
  const pollMs = parsePollMs(values["poll-ms"]);
  if (values.url !== undefined && values.project !== undefined) {
    throw new UsageError("--url and --project do not combine: read from a server or from a project's store");
  }
  const style = styles(io.color);
  const lines = new EventLineWriter(io.stdout, style);
  const print = values.json ? (event: FlueEvent) => io.stdout(`${JSON.stringify(event)}\n`) : (event: FlueEvent) => {
    lines.push(event);
  };
  const runId = values.last ? await newestRunId(values) : positionals[0];
  const source = values.url === undefined ? await storeSource(values.project ?? Deno.cwd()) : clientSource(values.url);

  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new Error("interrupted"));
  if (values.follow) Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    await source.check(runId);
    const wanted = types === undefined ? undefined : new Set(types);
    const events = values.follow ? source.follow(runId, pollMs, controller.signal) : source.list(runId, types);
    for await (const event of events) {
      if (wanted === undefined || wanted.has(event.type)) print(event);
    }
    lines.flush();
    return controller.signal.aborted ? 130 : 0;
  } catch (error) {
    // Piped into a reader that stopped early, such as `head`: nothing is wrong.
    if (error instanceof Deno.errors.BrokenPipe) return 0;
    if (controller.signal.aborted) {
      lines.flush();
      return 130;
    }
    throw values.url === undefined ? error : explainClientError(error, values.url);
  } finally {
    if (values.follow) Deno.removeSignalListener("SIGINT", onInterrupt);
    await source.close();
  }
}

async function newestRunId(values: { workflow?: string; url?: string; project?: string }): Promise<string> {
  const [newest] = await listRuns({ workflow: values.workflow, limit: 1 }, values);
  if (!newest) {
    throw new NotFoundError(
      "run",
      values.workflow ?? "",
      values.workflow === undefined
        ? `No runs yet: start one with "flue run <workflow>"`
        : `No runs of workflow "${values.workflow}" yet`,
    );
  }
  return newest.runId;
}

/** Where a run's events come from. */
interface EventSource {
  check(runId: string): Promise<void>;
  list(runId: string, types: string[] | undefined): AsyncIterable<FlueEvent>;
  follow(runId: string, pollMs: number, signal: AbortSignal): AsyncIterable<FlueEvent>;
  close(): Promise<void>;
}

async function storeSource(dir: string): Promise<EventSource> {
  const project = await openProject(dir);
  const store: Store = createStore(project.defaults.store ?? "sqlite", {
    projectDir: project.dir,
    stateDir: project.defaults.stateDir,
  });
  return {
    async check(runId) {
      if (await store.getRun(runId)) return;
      throw new NotFoundError(
        "run",
        runId,
        `No run with id "${runId}" in the store of "${project.dir}": runs of "flue run <workflow>" and of servers ` +
          `using this store are kept there; for another server, pass --url`,
      );
    },
    async *list(runId, types) {
      let after = -1;
      while (true) {
        const page = await store.listRunEvents(runId, { after, limit: PAGE, types });
        yield* page;
        if (page.length < PAGE) return;
        after = page.at(-1)!.eventIndex;
      }
    },
    // A private hub never has live events: the follower reads the store every pollMs, which sees what another
    // process appends (the sqlite store is shared between processes).
    follow: (runId, pollMs, signal) => followRun(store, new RunHub(), runId, { after: -1, pollMs, signal }),
    close: () => store.close(),
  };
}

function clientSource(url: string): EventSource {
  const client = clientForUrl(url);
  return {
    async check(runId) {
      await client.getRun(runId);
    },
    async *list(runId, types) {
      let after = -1;
      while (true) {
        const page = await client.runEvents(runId, { after, limit: PAGE, types });
        yield* page.events;
        if (!page.hasMore) return;
        after = page.nextAfter;
      }
    },
    follow: (runId, _pollMs, signal) => client.followRun(runId, { signal }),
    close: () => Promise.resolve(),
  };
}

function parseTypes(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const types = raw.split(",").map((type) => type.trim()).filter((type) => type !== "");
  const invalid = types.find((type) => !EVENT_TYPE.test(type));
  if (types.length === 0 || invalid !== undefined) {
    throw new UsageError(
      `--types ${JSON.stringify(raw)} is not a list of event types: separate them with commas, such as ` +
        `--types log,tool_start,run_end (docs/events.md lists them)`,
    );
  }
  return types;
}

function parsePollMs(raw: string | undefined): number {
  if (raw === undefined) return 250;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 10 || value > 60_000) {
    throw new UsageError(`--poll-ms must be a whole number from 10 to 60000, got "${raw}"`);
  }
  return value;
}
