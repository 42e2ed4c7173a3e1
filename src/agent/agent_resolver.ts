/**
 * `AgentResolver`: how the server and the dispatch worker find the agent instance an input is addressed to.
 *
 * @module
 */

import type { Agent } from "./init.ts";

/** Finds, and initialises on first use, the agent instance for a name and id. */
export interface AgentResolver {
  /**
   * The names of the agents it knows.
   *
   * @returns The names, sorted.
   */
  agentNames(): string[];
  /**
   * The instance of an agent, initialised on first use and reused afterwards.
   *
   * @param name The agent's name.
   * @param id The instance id.
   * @returns The instance; rejects with `NotFoundError` for an unknown name.
   */
  getAgent(name: string, id: string): Promise<Agent>;
}
