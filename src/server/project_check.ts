/**
 * The checks `flue check` runs, and `flue serve`, `flue dev`, `flue run` and `createProjectApp` run before they start:
 * every module loads, the configured model strings parse and name a known provider whose key is set, the sandbox is
 * known, and skill and role files are valid. A problem stops the start with one line naming the file and key, instead
 * of failing at the first prompt.
 *
 * @module
 */

import { join, relative } from "node:path";
import type { AgentConfig } from "../agent/create_agent.ts";
import { parseModelString } from "../model/model_string.ts";
import { getProvider, listProviders } from "../model/providers.ts";
import { loadAgentOrHandler, loadWorkflowModule } from "../project/discover.ts";
import { didYouMean } from "../project/nearest_name.ts";
import type { Project } from "../project/project.ts";
import { loadRoles } from "../project/roles.ts";
import { loadSkills } from "../project/skills.ts";
import { listSandboxes } from "../sandbox/registry.ts";
import { BUILTIN_TOOL_NAMES } from "../tools/sandbox_tools.ts";

/** One problem found by {@linkcode checkProject}. */
export interface ProjectProblem {
  /** Where: a file, or a file and key, such as `deno.json "flue.model"`. */
  where: string;
  /** What is wrong and how to fix it. */
  message: string;
}

/** Options of {@linkcode checkProject}. */
export interface CheckProjectOptions {
  /** The environment provider keys are read from; the process's by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A model that replaces the configured one (`flue run --model`), checked instead of it. */
  model?: string;
  /** The `ctx.env` agent initialisers get, as the server would give it; the environment by default. */
  agentEnv?: Readonly<Record<string, string>>;
}

/** The project failed its checks: {@linkcode ProjectCheckError.problems} lists each problem. */
export class ProjectCheckError extends Error {
  /** Every problem found. */
  readonly problems: readonly ProjectProblem[];

  /**
   * @param problems The problems, at least one.
   */
  constructor(problems: readonly ProjectProblem[]) {
    const [first] = problems;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more: run "flue check")` : "";
    super(`${first.where}: ${first.message}${more}`);
    this.name = "ProjectCheckError";
    this.problems = problems;
  }
}

/**
 * Checks a project without running it.
 *
 * @param project The opened project (its configuration already parsed).
 * @param options The environment and a model override.
 * @returns The problems; empty when the project is ready.
 */
export async function checkProject(project: Project, options: CheckProjectOptions = {}): Promise<ProjectProblem[]> {
  const env = options.env ?? readEnvironment();
  const problems: ProjectProblem[] = [];
  const configFile = relative(Deno.cwd(), join(project.dir, "deno.json")) || "deno.json";
  const providers = project.config.providers as Record<string, { baseURL?: string; apiKeyEnv?: string }> | undefined;
  const configured = (key: string, variable: string) =>
    env[variable] !== undefined && env[variable] !== ""
      ? `${variable} (over ${configFile} "flue.${key}")`
      : `${configFile} "flue.${key}"`;

  const checkModel = (model: unknown, where: string) => {
    if (typeof model !== "string") return;
    const message = modelProblem(model, env, providers);
    if (message) problems.push({ where, message });
  };
  const checkSandbox = (sandbox: unknown, where: string) => {
    if (typeof sandbox !== "string") return;
    const known = listSandboxes();
    if (!known.includes(sandbox)) {
      problems.push({
        where,
        message: `unknown sandbox "${sandbox}"${didYouMean(sandbox, known)}: use one of ${known.join(", ")}`,
      });
    }
  };

  checkModel(options.model ?? project.config.model, options.model ? "--model" : configured("model", "FLUE_MODEL"));
  checkSandbox(project.config.sandbox, configured("sandbox", "FLUE_SANDBOX"));

  const toolNames = new Set(BUILTIN_TOOL_NAMES);
  for (const [name, path] of project.modules.agents) {
    const where = relative(Deno.cwd(), path) || path;
    let declared: AgentConfig;
    try {
      const loaded = await loadAgentOrHandler(path);
      // A legacy handler declares its agents inside its function, so there is nothing more to check here.
      if (loaded.kind === "handler") continue;
      declared = await loaded.agent.initialize({
        id: "default",
        env: { ...(options.agentEnv ?? definedValues(env)) },
        payload: undefined,
      });
    } catch (error) {
      problems.push({ where, message: `agent "${name}" does not load: ${messageOf(error)}` });
      continue;
    }
    if (!options.model) checkModel(declared.model, `${where} (agent "${name}", model)`);
    checkSandbox(declared.sandbox, `${where} (agent "${name}", sandbox)`);
    for (const tool of declared.tools ?? []) toolNames.add(tool.name);
    for (const command of declared.commands ?? []) toolNames.add(command.name);
  }
  for (const [name, path] of project.modules.workflows) {
    try {
      await loadWorkflowModule(path);
    } catch (error) {
      problems.push({
        where: relative(Deno.cwd(), path) || path,
        message: `workflow "${name}" does not load: ${messageOf(error)}`,
      });
    }
  }
  try {
    await loadSkills(project.dir, { select: project.config.skills, toolNames: [...toolNames] });
  } catch (error) {
    problems.push({ where: "skills", message: messageOf(error) });
  }
  try {
    await loadRoles(project.dir);
  } catch (error) {
    problems.push({ where: "roles", message: messageOf(error) });
  }
  return problems;
}

/**
 * Runs {@linkcode checkProject} and throws when it finds a problem.
 *
 * @param project The opened project.
 * @param options The environment and a model override.
 * @throws {ProjectCheckError} Naming the first problem and how many more there are.
 */
export async function assertProjectReady(project: Project, options: CheckProjectOptions = {}): Promise<void> {
  const problems = await checkProject(project, options);
  if (problems.length) throw new ProjectCheckError(problems);
}

function modelProblem(
  model: string,
  env: Readonly<Record<string, string | undefined>>,
  providers: Record<string, { baseURL?: string; apiKeyEnv?: string; apiKey?: string }> | undefined,
): string | undefined {
  let provider: string;
  try {
    provider = parseModelString(model).provider;
  } catch (error) {
    return messageOf(error);
  }
  if (provider === "test") return undefined;
  let settings: { apiKey?: string; apiKeyEnv?: string };
  try {
    settings = getProvider(provider, providers?.[provider]);
  } catch {
    const known = [...listProviders(), "test", ...Object.keys(providers ?? {})];
    return `unknown provider "${provider}" in model "${model}"${didYouMean(provider, known)}: use one of ${
      known.join(", ")
    }, or add it under "flue.providers"`;
  }
  // A replayed run (FLUE_REPLAY, docs/record_replay.md) answers from its cassette and needs no key.
  const isReplay = (env.FLUE_REPLAY ?? "") !== "";
  if (settings.apiKey === undefined && settings.apiKeyEnv !== undefined && !isReplay) {
    const key = env[settings.apiKeyEnv];
    if (key === undefined || key === "") {
      return `model "${model}" needs ${settings.apiKeyEnv}, which is not set: export it, or run key-less with ` +
        `--model test (or "model": "test")`;
    }
  }
  return undefined;
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith("SyntaxError: ") ? `syntax error: ${message.slice(13)}` : message;
}

function definedValues(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function readEnvironment(): Record<string, string | undefined> {
  try {
    return Deno.env.toObject();
  } catch {
    return {}; // no --allow-env: every key reads as unset
  }
}
