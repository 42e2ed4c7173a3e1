/**
 * What the route modules share: the store, the agent pool, running workflows, limits and the shutdown signal.
 *
 * @module
 */

import type { AgentPool } from "../agent/agent_pool.ts";
import type { Store } from "../store/store.ts";
import type { Redactor } from "../telemetry/redactor.ts";
import type { RunHub } from "./run_hub.ts";
import type { SessionLocks } from "./session_locks.ts";
import type { WorkflowRunner } from "./workflow_runs.ts";

/** The state shared by one app's routes. */
export interface ServerContext {
  /** Sessions, runs and the dispatch queue. */
  store: Store;
  /** Agent instances. */
  agents: AgentPool;
  /** Workflow runs of this process. */
  workflows: WorkflowRunner;
  /** Live events of this process's runs. */
  hub: RunHub;
  /** One prompt at a time per session. */
  locks: SessionLocks;
  /** Removes secret values from log lines. */
  redactor: Redactor;
  /** The most bytes a body or WebSocket message may have. */
  bodyLimit: number;
  /** Milliseconds between SSE heartbeats. */
  heartbeatMs: number;
  /** Milliseconds between store polls when following a run of another process. */
  pollMs: number;
  /** Aborted when the app closes: live streams and sockets end. */
  shutdown: AbortSignal;
  /** Tells the dispatch worker that work arrived. */
  onDispatch(): void;
}
