/**
 * Discovery of a project's agent and workflow modules. Searched in order: `src/agents/`, `agents/`, `.flue/agents/`
 * (and the same for `workflows/`); immediate files only, `.ts`, `.mts`, `.js` or `.mjs`, skipping names starting with
 * `_` and test files. The file name is the name; the same name in two places is an error.
 *
 * @module
 */

import { basename, extname, join } from "node:path";
import { toFileUrl } from "../_file_url.ts";
import { type CreatedAgent, isCreatedAgent } from "../agent/create_agent.ts";
import type { WorkflowModule } from "../agent/workflow.ts";
import { NotFoundError } from "../errors.ts";

/** Where discovery looks, in order, relative to the project directory. */
export const SOURCE_ROOTS: readonly string[] = ["src", ".", ".flue"];

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
  for (const root of SOURCE_ROOTS) {
    const dir = join(projectDir, root, kind);
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
  const module = await import(toFileUrl(path).href);
  if (!isCreatedAgent(module.default)) {
    throw new TypeError(`Agent module "${path}" must "export default createAgent(...)"`);
  }
  return module.default;
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
