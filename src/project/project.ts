/**
 * A loaded project: its configuration, its discovered modules, and the agent options the configuration implies.
 *
 * @module
 */

import { resolve } from "node:path";
import type { AgentOptions } from "../agent/agent_options.ts";
import type { Agent } from "../agent/init.ts";
import { init } from "../agent/init.ts";
import { type FlueConfig, loadConfig } from "./config.ts";
import { discoverProject, findModule, loadAgentModule, type ProjectModules } from "./discover.ts";

/** A project ready to run. */
export interface Project {
  /** The absolute project directory. */
  dir: string;
  /** The `"flue"` configuration. */
  config: FlueConfig;
  /** The discovered agents and workflows. */
  modules: ProjectModules;
  /** Agent options from configuration, applied under each agent's own. */
  defaults: Partial<AgentOptions>;
}

/**
 * Loads a project's configuration and discovers its modules.
 *
 * @param dir The project directory.
 * @returns The project.
 */
export async function openProject(dir: string): Promise<Project> {
  const projectDir = resolve(dir);
  const config = await loadConfig(projectDir);
  const modules = await discoverProject(projectDir);
  const { agent: _agent, store, stateDir, server: _server, ...options } = config;
  const defaults: Partial<AgentOptions> = {
    ...options,
    store,
    projectDir,
    stateDir: stateDir ? resolve(projectDir, stateDir) : undefined,
  };
  for (const key of Object.keys(defaults) as (keyof AgentOptions)[]) {
    if (defaults[key] === undefined) delete defaults[key];
  }
  return { dir: projectDir, config, modules, defaults };
}

/**
 * Which agent `flue run --prompt` talks to: the one named, else the configured `agent`, else the only one, else the
 * one named `default`. `undefined` when the project has no agent modules (the configuration alone then defines it).
 *
 * @param project The project.
 * @param requested The name from `--agent`, if given.
 * @returns The agent's name, or `undefined`.
 */
export function defaultAgentName(project: Project, requested?: string): string | undefined {
  const names = [...project.modules.agents.keys()];
  const wanted = requested ?? project.config.agent;
  if (wanted) {
    findModule(project.modules.agents, "agent", wanted);
    return wanted;
  }
  if (names.length === 0) return undefined;
  if (names.length === 1) return names[0];
  if (names.includes("default")) return "default";
  throw new TypeError(
    `The project has several agents (${names.join(", ")}): choose one with --agent or the "agent" configuration key`,
  );
}

/**
 * Initialises a project agent: its module's options over the configuration, with overrides on top.
 *
 * @param project The project.
 * @param options The agent name (or `undefined` for a configuration-only agent), instance id, env and overrides.
 * @returns The agent instance.
 */
export async function initProjectAgent(
  project: Project,
  options: { agent?: string; id?: string; env?: Record<string, string>; overrides?: Partial<AgentOptions> },
): Promise<Agent> {
  const id = options.id ?? "default";
  let declared: Partial<AgentOptions> = {};
  if (options.agent) {
    const created = await loadAgentModule(findModule(project.modules.agents, "agent", options.agent));
    declared = await created.initialize({ id, env: options.env ?? {}, payload: undefined });
  }
  return await init({
    ...project.defaults,
    ...declared,
    ...options.overrides,
    name: declared.name ?? options.agent ?? "default",
    id,
  });
}
