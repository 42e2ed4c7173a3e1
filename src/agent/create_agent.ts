/**
 * `createAgent(fn)`: declares an agent whose options are computed per instance, for agent modules
 * (`src/agents/<name>.ts`) and workflows.
 *
 * @module
 */

import type { AgentOptions } from "./agent_options.ts";

/** What an agent's initialiser receives. */
export interface AgentCreateContext {
  /** The instance id. */
  id: string;
  /** Values the caller made available (for a workflow, its `env`). Pass chosen ones on as the agent's `env`. */
  env: Readonly<Record<string, string>>;
  /** The payload of the run or request that created the instance, if any. */
  payload: unknown;
}

/** The options an agent declares: everything `init()` takes except where its state lives and who listens. */
export type AgentConfig = Omit<AgentOptions, "id" | "projectDir" | "stateDir" | "store" | "onEvent">;

/** An agent declared by `createAgent`; `ctx.init(agent)` or the server turns it into instances. */
export interface CreatedAgent {
  /** Marks the object as an agent declaration. */
  readonly kind: "flue.agent";
  /**
   * Computes the options of one instance.
   *
   * @param context The instance id, env and payload.
   * @returns The options.
   */
  initialize(context: AgentCreateContext): Promise<AgentConfig>;
}

/**
 * Declares an agent. The function runs once per instance and returns its options.
 *
 * @example Usage
 * ```ts
 * import { createAgent } from "./create_agent.ts";
 *
 * const reviewer = createAgent((ctx) => ({ model: "test", instructions: `You review code for ${ctx.id}.` }));
 * const options = await reviewer.initialize({ id: "repo-1", env: {}, payload: undefined });
 * if (options.model !== "test") throw new Error("unexpected");
 * ```
 *
 * @param initialize Returns the agent's options, sync or async.
 * @returns The agent declaration.
 */
export function createAgent(
  initialize: (context: AgentCreateContext) => AgentConfig | Promise<AgentConfig>,
): CreatedAgent {
  if (typeof initialize !== "function") {
    throw new TypeError("createAgent() takes a function that returns the agent's options");
  }
  return Object.freeze({
    kind: "flue.agent" as const,
    async initialize(context: AgentCreateContext): Promise<AgentConfig> {
      const config = await initialize(context);
      if (config === null || typeof config !== "object") {
        throw new TypeError('The createAgent() function must return an options object, such as { model: "test" }');
      }
      return config;
    },
  });
}

/**
 * Whether a value is an agent declared by `createAgent`.
 *
 * @param value Anything, such as a module's default export.
 * @returns Whether it is one.
 */
export function isCreatedAgent(value: unknown): value is CreatedAgent {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "flue.agent" &&
    typeof (value as { initialize?: unknown }).initialize === "function";
}
