/**
 * `createProjectApp(dir)`: the server app of a project directory: its agents, workflows, configuration and store.
 *
 * @module
 */

import type { CreatedAgent } from "../agent/create_agent.ts";
import type { WorkflowModule } from "../agent/workflow.ts";
import { loadAgentOrHandler, loadWorkflowModule } from "../project/discover.ts";
import { deprecationNote, isWebhookTriggered, legacyWorkflow } from "../project/legacy_handlers.ts";
import type { FlueServerConfig } from "../project/config.ts";
import { openProject } from "../project/project.ts";
import { assertProjectReady } from "./project_check.ts";
import { createStore } from "../store/create_store.ts";
import type { Store } from "../store/store.ts";
import { createApp, type CreateAppOptions, type FlueApp } from "./app.ts";
import { type Platform, platformChoices } from "./platform.ts";

/** Options of {@linkcode createProjectApp}: those of `createApp` except what the project supplies. */
export interface ProjectAppOptions extends Omit<CreateAppOptions, "agents" | "workflows" | "store" | "defaults"> {
  /** A store to use instead of the configured one (the app then leaves it open). */
  store?: Store;
  /**
   * Where the app runs: on `deno-deploy` (or `auto` with `DENO_DEPLOYMENT_ID` set) the `sqlite` store becomes `kv` and
   * the `virtual` or `local` sandbox becomes `memory`, as Deno Deploy has no writable disk and no subprocesses.
   * Default `local`: the configuration as it is. See `docs/deploy.md`.
   */
  platform?: Platform;
  /**
   * Check the project before serving it (modules load, model strings, provider keys, sandbox, skills and roles; see
   * `flue check`), so a problem stops the start rather than the first request. `true` by default.
   */
  check?: boolean;
}

/**
 * Loads a project (configuration, `agents/`, `workflows/`) and builds its app. The token defaults to
 * `FLUE_API_TOKEN`; the store is the configured one (`.flue/flue.db` by default) and is closed by `close()`.
 *
 * @example A module for `deno serve` (what `flue init` generates as `server.ts`)
 * ```ts ignore
 * import { createProjectApp } from "flue";
 *
 * const app = await createProjectApp(import.meta.dirname!, { worker: true });
 * export default { fetch: app.fetch } satisfies Deno.ServeDefaultExport;
 * ```
 *
 * @param dir The project directory.
 * @param options Token, limits, worker and other app options.
 * @returns The app.
 */
export async function createProjectApp(dir: string, options: ProjectAppOptions = {}): Promise<FlueApp> {
  const project = await openProject(dir);
  if (options.check !== false) await assertProjectReady(project, { agentEnv: options.env });
  const agents: Record<string, CreatedAgent> = {};
  const workflows: Record<string, WorkflowModule> = {};
  for (const [name, path] of project.modules.workflows) workflows[name] = await loadWorkflowModule(path);
  const legacyHandlers: string[] = [];
  for (const [name, path] of project.modules.agents) {
    const loaded = await loadAgentOrHandler(path);
    if (loaded.kind === "agent") {
      agents[name] = loaded.agent;
    } else if (isWebhookTriggered(loaded.handler)) {
      if (Object.hasOwn(workflows, name)) {
        throw new TypeError(`The legacy handler "${name}" (${path}) has the name of a workflow: rename one of them`);
      }
      workflows[name] = legacyWorkflow(loaded.handler);
      legacyHandlers.push(name);
      console.warn(deprecationNote(name, path));
    } else {
      console.warn(`flue: ${path} is a legacy handler without triggers.webhook = true, so it is not served`);
    }
  }
  const { store: configuredStore, ...defaults } = project.defaults;
  const { platform, check: _check, ...appOptions } = options;
  const { store: storeSpec, sandbox } = platformChoices(platform, configuredStore, defaults.sandbox);
  if (sandbox !== undefined) defaults.sandbox = sandbox;
  const ownsStore = options.store === undefined;
  const store = options.store ??
    createStore(storeSpec, { projectDir: project.dir, stateDir: project.defaults.stateDir });
  const server = project.config.server ?? {};
  const app = createApp({
    bodyLimit: server.bodyLimit,
    heartbeatMs: server.heartbeatMs,
    maxInstances: server.maxInstances,
    idleMs: server.idleMs,
    cors: server.cors,
    ui: server.ui,
    ...withoutUndefined(appOptions),
    worker: workerOption(options.worker, server.worker),
    token: options.token ?? envToken(),
    agents,
    workflows,
    legacyHandlers,
    store,
    defaults,
  });
  const closeApp = app.close;
  let closing: Promise<void> | undefined;
  return Object.assign(app, {
    close(closeOptions?: { graceMs?: number }): Promise<void> {
      closing ??= closeApp(closeOptions).finally(() => ownsStore ? store.close() : undefined);
      return closing;
    },
  });
}

// Worker settings given in code win; `true` (what `serve()` passes) takes the configuration's settings, and the
// configuration's `false` keeps a server that only answers requests (another process handles the dispatches).
function workerOption(
  given: ProjectAppOptions["worker"],
  configured: FlueServerConfig["worker"],
): ProjectAppOptions["worker"] {
  if (given === undefined || given === false || typeof given === "object") return given;
  return configured ?? true;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/**
 * The token from `FLUE_API_TOKEN`, if set and readable.
 *
 * @returns The token, or `undefined`.
 */
export function envToken(): string | undefined {
  try {
    const token = Deno.env.get("FLUE_API_TOKEN");
    return token === "" ? undefined : token;
  } catch {
    return undefined; // no --allow-env: as if unset, which keeps the server loopback-only
  }
}
