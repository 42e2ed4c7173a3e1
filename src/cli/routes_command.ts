/**
 * `flue routes`: prints the routes of the project's server app, and its agents and workflows, without starting a
 * server. The list is the app's own manifest (`GET /agents`), so it is exactly what `flue serve` would answer.
 *
 * @module
 */

import { relative } from "node:path";
import type { FlueApp } from "../server/app.ts";
import { createProjectApp, envToken } from "../server/project_app.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { openProject } from "../project/project.ts";
import { type CliIo, type Styles, styles } from "./terminal.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { UsageError } from "./usage_error.ts";

const FLAGS = ["--json", "--project", "--help"];

/** The help text of `flue routes`. */
export const ROUTES_HELP: string = `Usage:
  flue routes [--json] [--project <dir>]

Prints what "flue serve" would serve: every route (method, path, summary), then the project's agents and workflows
with the file each comes from. Loads the project's modules (so a broken one is reported) but starts no server and
opens no store.

Options:
      --json                print the manifest of GET /agents as JSON, each agent and workflow with its "file"
      --project <dir>       project directory (default: current directory)
  -h, --help                show this help
`;

/** One route in the manifest. */
export interface ManifestRoute {
  /** `GET` or `POST`. */
  method: string;
  /** The path, such as `/agents/:name/:id`. */
  path: string;
  /** What it does. */
  summary: string;
  /** Whether it upgrades to a WebSocket. */
  websocket?: boolean;
  /** Whether it answers with server-sent events. */
  sse?: string;
}

/** The server's manifest (`GET /agents`), with the file of each module when known. */
export interface Manifest {
  /** The agents with their paths. */
  agents: { name: string; prompt: string; dispatch: string; file?: string }[];
  /** The workflows with their paths. */
  workflows: { name: string; run: string; file?: string }[];
  /** Every route. */
  routes: ManifestRoute[];
}

/**
 * Runs `flue routes`.
 *
 * @param args The arguments after `routes`.
 * @param io Where to write.
 * @returns The exit status.
 */
export async function routesCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {
    json: { type: "boolean" },
    project: { type: "string" },
    help: { type: "boolean", short: "h" },
  }, FLAGS);
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(ROUTES_HELP);
    return 0;
  }
  if (positionals.length) {
    throw new UsageError(`flue routes takes no arguments, got "${positionals[0]}": use --project <dir> for a project`);
  }
  const dir = values.project ?? Deno.cwd();
  const project = await openProject(dir);
  // A memory store: listing routes must not create or lock the project's database.
  const store = new MemoryStore();
  const token = envToken();
  const app = await createProjectApp(dir, { store, token });
  let manifest: Manifest;
  try {
    manifest = await readManifest(app, token);
  } finally {
    await app.close();
    await store.close();
  }
  const fileOf = (path: string | undefined) => path === undefined ? undefined : relative(project.dir, path);
  for (const agent of manifest.agents) agent.file = fileOf(project.modules.agents.get(agent.name));
  for (const workflow of manifest.workflows) workflow.file = fileOf(project.modules.workflows.get(workflow.name));
  io.stdout(values.json ? `${JSON.stringify(manifest, null, 2)}\n` : formatManifest(manifest, styles(io.color)));
  return 0;
}

/**
 * Asks an app for its manifest in process, as `GET /agents` would answer it.
 *
 * @param app The app.
 * @param token The app's token, when it has one.
 * @returns The manifest.
 */
export async function readManifest(app: FlueApp, token: string | undefined): Promise<Manifest> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response = await app.request("/agents", { headers });
  if (!response.ok) throw new Error(`The app answered GET /agents with ${response.status}: ${await response.text()}`);
  return await response.json() as Manifest;
}

/**
 * Renders a manifest as aligned text: routes, then agents, then workflows.
 *
 * @param manifest The manifest.
 * @param style Styles to use.
 * @returns The text, ending in a newline.
 */
export function formatManifest(manifest: Manifest, style: Styles): string {
  const lines: string[] = [style.bold("Routes")];
  const pathWidth = Math.max(...manifest.routes.map((route) => route.path.length));
  for (const route of manifest.routes) {
    const kind = route.websocket ? "WS" : route.method;
    lines.push(`  ${kind.padEnd(5)}${route.path.padEnd(pathWidth + 2)}${style.dim(route.summary)}`);
  }
  lines.push("", style.bold(`Agents (${manifest.agents.length})`));
  if (manifest.agents.length === 0) lines.push(style.dim("  none: add src/agents/<name>.ts"));
  const nameWidth = Math.max(0, ...[...manifest.agents, ...manifest.workflows].map((item) => item.name.length));
  for (const agent of manifest.agents) {
    lines.push(`  ${agent.name.padEnd(nameWidth + 2)}POST ${agent.prompt}${fileNote(agent.file, style)}`);
  }
  lines.push("", style.bold(`Workflows (${manifest.workflows.length})`));
  if (manifest.workflows.length === 0) lines.push(style.dim("  none: add src/workflows/<name>.ts"));
  for (const workflow of manifest.workflows) {
    lines.push(`  ${workflow.name.padEnd(nameWidth + 2)}POST ${workflow.run}${fileNote(workflow.file, style)}`);
  }
  return `${lines.join("\n")}\n`;
}

function fileNote(file: string | undefined, style: Styles): string {
  return file === undefined ? "" : `  ${style.dim(file)}`;
}
