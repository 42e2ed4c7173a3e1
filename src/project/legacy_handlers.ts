/**
 * Legacy handler modules, the file-based handlers of Flue's earlier TypeScript releases and of PyFlue:
 * `export const triggers = { webhook: true }` and a default async function receiving `{ id, payload, env, log, init,
 * signal }`. Each runs as a workflow run, so its events and result are recorded like any run's. Deprecated: write
 * `createAgent` agents and `run(ctx)` workflows instead.
 *
 * @module
 */

import { type AgentConfig, createAgent, type CreatedAgent, isCreatedAgent } from "../agent/create_agent.ts";
import type { Agent } from "../agent/init.ts";
import type { FlueContext, FlueLogger, WorkflowModule } from "../agent/workflow.ts";

/** What a legacy handler receives. */
export interface LegacyHandlerContext {
  /** The agent id from the URL (`POST /agents/<name>/<id>`). */
  readonly id: string;
  /** The request body's `payload`. */
  readonly payload: unknown;
  /** Values the server made available (`ctx.env` of a workflow). */
  readonly env: Readonly<Record<string, string>>;
  /** Logs into the run's event log. */
  readonly log: FlueLogger;
  /** Aborted when the run is cancelled. */
  readonly signal: AbortSignal;
  /**
   * Initialises an agent inside the run: a `createAgent(...)` declaration, or agent options as earlier releases took.
   *
   * @param agent The declaration or the options.
   * @returns The agent instance.
   */
  init(agent: CreatedAgent | AgentConfig): Promise<Agent>;
}

/** A legacy handler module's exports. */
export interface LegacyHandlerModule {
  /** Which triggers serve the handler; `{ webhook: true }` serves it over HTTP. */
  triggers: Record<string, unknown>;
  /** The handler. */
  default: (context: LegacyHandlerContext) => unknown;
}

/**
 * Whether a module is a legacy handler module: it exports `triggers` (an object) and a default function that is not
 * a `createAgent` declaration.
 *
 * @param module The imported module.
 * @returns Whether it is one.
 */
export function isLegacyHandlerModule(
  module: Record<string, unknown>,
): module is Record<string, unknown> & LegacyHandlerModule {
  return typeof module.triggers === "object" && module.triggers !== null && typeof module.default === "function" &&
    !isCreatedAgent(module.default);
}

/**
 * Whether a legacy handler is served over HTTP: its `triggers.webhook` is `true`.
 *
 * @param module The module.
 * @returns Whether `POST /agents/<name>/<id>` serves it.
 */
export function isWebhookTriggered(module: LegacyHandlerModule): boolean {
  return module.triggers.webhook === true;
}

/**
 * The handler as a workflow module, so a server runs it as a recorded run.
 *
 * @param module The legacy module.
 * @returns A workflow whose `run(ctx)` calls the handler with `{ id, payload, env, log, init, signal }`.
 */
export function legacyWorkflow(module: LegacyHandlerModule): WorkflowModule {
  return {
    run: (context: FlueContext<unknown>) =>
      module.default({
        id: context.id,
        payload: context.payload,
        env: context.env,
        log: context.log,
        signal: context.signal,
        init: (agent) => context.init(isCreatedAgent(agent) ? agent : createAgent(() => agent as AgentConfig)),
      }),
  };
}

/**
 * The one-line deprecation note printed at start-up for a legacy module.
 *
 * @param name The handler's name.
 * @param path Its file.
 * @returns The note.
 */
export function deprecationNote(name: string, path: string): string {
  return `flue: ${path} is a legacy handler (export const triggers + default function), served at ` +
    `POST /agents/${name}/:id; it is deprecated: move it to createAgent() or a workflow's run(ctx) (docs/agents_or_workflows.md)`;
}
