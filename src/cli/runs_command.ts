/**
 * `flue runs`: lists workflow runs, newest first, from the project's store (runs of `flue run` and of servers sharing
 * that store) or from a server with `--url`.
 *
 * @module
 */

import { openProject } from "../project/project.ts";
import { createStore } from "../store/create_store.ts";
import type { RunRecord, RunStatus } from "../store/store.ts";
import { clientForUrl, explainClientError } from "./_server_client.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { type CliIo, styles } from "./terminal.ts";
import { UsageError } from "./usage_error.ts";

const FLAGS = ["--workflow", "--status", "--limit", "--json", "--url", "--project", "--help"];
const STATUSES: readonly RunStatus[] = ["running", "done", "failed", "aborted"];

/** The help text of `flue runs`. */
export const RUNS_HELP: string = `Usage:
  flue runs [--workflow <name>] [--status failed,running] [--limit 20] [--json] [--url <server> | --project <dir>]

Lists workflow runs, newest first: id, status, workflow, start time and duration. Without --url it reads the project's
store, which holds the runs of "flue run <workflow>" and of every server using that store. "flue logs <runId>" prints
one run's events; "flue logs --last" the newest run's.

Options:
      --workflow <name>     only runs of this workflow
      --status <a,b>        only runs in these states: ${STATUSES.join(", ")}
      --limit <n>           at most this many runs, 1 to 1000 (default 20)
      --json                print each run as one JSON object per line
      --url <server>        list a running server's runs instead (token: FLUE_API_TOKEN)
      --project <dir>       project directory (default: current directory)
  -h, --help                show this help
`;

/** What `flue runs` and `flue logs --last` filter by. */
export interface RunListQuery {
  /** Only runs of this workflow. */
  workflow?: string;
  /** Only runs in these states. */
  status?: RunStatus[];
  /** At most this many. */
  limit: number;
}

/**
 * Runs `flue runs`.
 *
 * @param args The arguments after `runs`.
 * @param io Where to write.
 * @returns The exit status.
 */
export async function runsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    workflow: { type: "string" },
    status: { type: "string" },
    limit: { type: "string" },
    json: { type: "boolean" },
    url: { type: "string" },
    project: { type: "string" },
    help: { type: "boolean", short: "h" },
  }, FLAGS);
  if (values.help) {
    io.stdout(RUNS_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`flue runs takes no arguments, got "${positionals[0]}": filter with --workflow or --status`);
  }
  if (values.url !== undefined && values.project !== undefined) {
    throw new UsageError("--url and --project do not combine: list a server's runs or a project's");
  }
  const query: RunListQuery = {
    workflow: values.workflow,
    status: parseStatuses(values.status),
    limit: parseLimit(values.limit),
  };
  const runs = await listRuns(query, values);
  if (values.json) {
    for (const run of runs) io.stdout(`${JSON.stringify(run)}\n`);
    return 0;
  }
  const style = styles(io.color);
  if (runs.length === 0) {
    io.stderr(`${style.dim('No runs yet: start one with "flue run <workflow>"')}\n`);
    return 0;
  }
  for (const run of runs) io.stdout(`${formatRun(run, style)}\n`);
  return 0;
}

/**
 * Lists runs from a server (`url`) or from a project's store.
 *
 * @param query Filters and the count.
 * @param source `url`, or `project` (the current directory by default).
 * @returns The runs, newest first.
 */
export async function listRuns(query: RunListQuery, source: { url?: string; project?: string }): Promise<RunRecord[]> {
  if (source.url !== undefined) {
    try {
      return (await clientForUrl(source.url).listRuns(query)).runs;
    } catch (error) {
      throw explainClientError(error, source.url);
    }
  }
  const project = await openProject(source.project ?? Deno.cwd());
  const store = createStore(project.defaults.store ?? "sqlite", {
    projectDir: project.dir,
    stateDir: project.defaults.stateDir,
  });
  try {
    return await store.listRuns(query);
  } finally {
    await store.close();
  }
}

function formatRun(run: RunRecord, style: ReturnType<typeof styles>): string {
  const status = run.status === "failed"
    ? style.red(run.status.padEnd(8))
    : run.status === "done"
    ? style.green(run.status.padEnd(8))
    : run.status.padEnd(8);
  const duration = run.endedAt ? `${Date.parse(run.endedAt) - Date.parse(run.startedAt)} ms` : "…";
  const error = run.error ? style.red(` ${run.error.message}`) : "";
  return `${run.runId}  ${status} ${run.workflow}  ${style.dim(`${run.startedAt}  ${duration}`)}${error}`;
}

function parseStatuses(raw: string | undefined): RunStatus[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
  const unknown = list.find((entry) => !STATUSES.includes(entry as RunStatus));
  if (list.length === 0 || unknown !== undefined) {
    throw new UsageError(`--status ${JSON.stringify(raw)} is not a list of states: use ${STATUSES.join(", ")}`);
  }
  return list as RunStatus[];
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 20;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isSafeInteger(value) || value < 1 || value > 1000) {
    throw new UsageError(`--limit must be a whole number from 1 to 1000, got "${raw}"`);
  }
  return value;
}
