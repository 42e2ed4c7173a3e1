/**
 * Discovery of a project's agent and workflow modules. Agents are searched in `src/agents/`, `agents/`, `.agents/`
 * (its immediate files, beside its `skills/` and `roles/` folders) and `.flue/agents/`, in that order; workflows in
 * `src/workflows/`, `workflows/`, `.agents/workflows/` and `.flue/workflows/`. Immediate files only, `.ts`, `.mts`,
 * `.js` or `.mjs`, skipping names starting with `_` and test files. The file name is the name; the same name in two
 * places is an error.
 *
 * @module
 */

import { basename, extname, join } from "node:path";
import { toFileUrl } from "../_file_url.ts";
import { type CreatedAgent, isCreatedAgent } from "../agent/create_agent.ts";
import type { WorkflowModule } from "../agent/workflow.ts";
import { NotFoundError } from "../errors.ts";
import { isLegacyHandlerModule, type LegacyHandlerModule } from "./legacy_handlers.ts";

/** Where discovery looks for each kind, in order, relative to the project directory. */
export const SOURCE_DIRS: Readonly<Record<"agents" | "workflows", readonly string[]>> = {
  agents: ["src/agents", "agents", ".agents", ".flue/agents"],
  workflows: ["src/workflows", "workflows", ".agents/workflows", ".flue/workflows"],
};

const EXTENSIONS = new Set([".ts", ".mts", ".js", ".mjs"]);
const MODULE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** The modules a project declares, by name, with their absolute paths. */
export interface ProjectModules {
  /** Agent modules (`agents/<name>.ts`). */
  agents: Map<string, string>;
  /** Workflow modules (`workflows/<name>.ts`). */
  workflows: Map<string, string>;
}

/**
 * Finds a project's agents and workflows.
 *
 * @param projectDir The project directory.
 * @returns The modules by name.
 */
export async function discoverProject(projectDir: string): Promise<ProjectModules> {
  return {
    agents: await discoverKind(projectDir, "agents"),
    workflows: await discoverKind(projectDir, "workflows"),
  };
}

async function discoverKind(projectDir: string, kind: "agents" | "workflows"): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const relative of SOURCE_DIRS[kind]) {
    const dir = join(projectDir, relative);
    const entries: Deno.DirEntry[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) entries.push(entry);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) continue;
      throw error;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const extension = extname(entry.name);
      if (!entry.isFile || !EXTENSIONS.has(extension) || entry.name.startsWith("_")) continue;
      const name = basename(entry.name, extension);
      if (name.endsWith("_test") || name.endsWith(".test") || name.endsWith(".d")) continue;
      const path = join(dir, entry.name);
      if (!MODULE_NAME.test(name)) {
        throw new TypeError(
          `Invalid ${kind.slice(0, -1)} name "${name}" (${path}): use a letter, then letters, digits, "_" or "-"`,
        );
      }
      const existing = found.get(name);
      if (existing) {
        throw new TypeError(`The ${kind.slice(0, -1)} "${name}" is defined twice: "${existing}" and "${path}"`);
      }
      found.set(name, path);
    }
  }
  return found;
}

/**
 * Imports an agent module and returns its default export.
 *
 * @param path The module's absolute path.
 * @returns The agent declaration.
 */
export async function loadAgentModule(path: string): Promise<CreatedAgent> {
  const loaded = await loadAgentOrHandler(path);
  if (loaded.kind === "handler") {
    throw new TypeError(
      `Agent module "${path}" is a legacy handler (export const triggers + default function): it is served by ` +
        '"flue serve" at POST /agents/<name>/:id; for prompts, "export default createAgent(...)"',
    );
  }
  return loaded.agent;
}

/** What an agent module holds: a `createAgent` declaration, or a legacy handler. */
export type LoadedAgentModule =
  | {
    /** A `createAgent(...)` default export. */
    kind: "agent";
    /** The declaration. */
    agent: CreatedAgent;
  }
  | {
    /** A legacy handler module (deprecated). */
    kind: "handler";
    /** The module. */
    handler: LegacyHandlerModule;
  };

/**
 * Imports an agent module: a `createAgent` declaration, or a legacy handler module.
 *
 * @param path The module's absolute path.
 * @returns What it holds.
 * @throws {TypeError} When it is neither.
 */
export async function loadAgentOrHandler(path: string): Promise<LoadedAgentModule> {
  const module = await import(toFileUrl(path).href);
  if (isLegacyHandlerModule(module)) return { kind: "handler", handler: module };
  if (!isCreatedAgent(module.default)) {
    throw new TypeError(`Agent module "${path}" must "export default createAgent(...)"`);
  }
  return { kind: "agent", agent: module.default };
}

/**
 * Imports a workflow module.
 *
 * @param path The module's absolute path.
 * @returns The module with its `run` function.
 */
export async function loadWorkflowModule(path: string): Promise<WorkflowModule> {
  const module = await import(toFileUrl(path).href);
  if (typeof module.run !== "function") {
    throw new TypeError(`Workflow module "${path}" must export a function run(ctx)`);
  }
  return module as WorkflowModule;
}

/**
 * Looks a name up in discovered modules.
 *
 * @param modules Agents or workflows by name.
 * @param kind `agent` or `workflow`, for the error.
 * @param name The name asked for.
 * @returns The module path.
 */
export function findModule(modules: Map<string, string>, kind: string, name: string): string {
  const path = modules.get(name);
  if (path) return path;
  const known = [...modules.keys()];
  throw new NotFoundError(
    kind,
    name,
    `No ${kind} named "${name}": ${
      known.length ? `known ${kind}s are ${known.join(", ")}` : `the project has no ${kind}s`
    }`,
  );
}
