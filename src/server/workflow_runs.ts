/**
 * Starts workflow runs for the server: each run is recorded in the store by `runWorkflow`, published live to the
 * {@linkcode RunHub}, and tracked so it can be cancelled and so shutdown can wait for it.
 *
 * @module
 */

import type { AgentOptions } from "../agent/agent_options.ts";
import { runWorkflow, type WorkflowModule, type WorkflowRunResult } from "../agent/workflow.ts";
import { AbortError, NotFoundError } from "../errors.ts";
import { HttpError, toHttpError } from "./errors.ts";
import type { EventCallback } from "../events/event_types.ts";
import type { Store } from "../store/store.ts";
import type { RunHub } from "./run_hub.ts";

/** A run that has been recorded and is executing. */
export interface StartedRun {
  /** The run id. */
  runId: string;
  /** Settles when the run ends, as `runWorkflow` does. */
  done: Promise<WorkflowRunResult>;
  /** Cancels the run. */
  abort(reason?: unknown): void;
}

/** Options of {@linkcode WorkflowRunner}. */
export interface WorkflowRunnerOptions {
  /** The workflows by name. */
  workflows: ReadonlyMap<string, WorkflowModule>;
  /** Where runs are recorded. */
  store: Store;
  /** Live publication of events. */
  hub: RunHub;
  /** Agent options applied under each agent's own. */
  defaults?: Partial<AgentOptions>;
  /** Values available to workflows as `ctx.env`. */
  env?: Readonly<Record<string, string>>;
}

/** Starts and tracks the workflow runs of one server. */
export class WorkflowRunner {
  readonly #options: WorkflowRunnerOptions;
  readonly #active = new Map<string, StartedRun>();

  /**
   * @param options The workflows, store, hub and defaults.
   */
  constructor(options: WorkflowRunnerOptions) {
    this.#options = options;
  }

  /**
   * A workflow's module.
   *
   * @param name The workflow's name.
   * @returns The module, or `undefined` for an unknown name.
   */
  module(name: string): WorkflowModule | undefined {
    return this.#options.workflows.get(name);
  }

  /**
   * The workflow names.
   *
   * @returns The names, sorted.
   */
  names(): string[] {
    return [...this.#options.workflows.keys()].sort();
  }

  /**
   * Starts a run and resolves once it is recorded, so its id can be returned before it ends.
   *
   * @param name The workflow's name.
   * @param payload The input.
   * @param id The instance id.
   * @param options `onEvent` receives the run's events as they happen; `signal` cancels the run.
   * @returns The started run. Rejects with `NotFoundError` for an unknown workflow.
   */
  start(
    name: string,
    payload: unknown,
    id: string,
    options: { onEvent?: EventCallback; signal?: AbortSignal } = {},
  ): Promise<StartedRun> {
    const module = this.#options.workflows.get(name);
    if (!module) {
      const known = this.names();
      return Promise.reject(
        new NotFoundError(
          "workflow",
          name,
          `No workflow named "${name}": ${
            known.length ? `known workflows are ${known.join(", ")}` : "none are declared"
          }`,
        ),
      );
    }
    const hub = this.#options.hub;
    const controller = new AbortController();
    const { onEvent, signal } = options;
    if (signal?.aborted) controller.abort(asAbortError(signal.reason));
    signal?.addEventListener("abort", () => controller.abort(asAbortError(signal.reason)), { once: true });
    return new Promise<StartedRun>((resolve, reject) => {
      let started: StartedRun | undefined;
      const done = runWorkflow(module, {
        name,
        payload,
        id,
        env: { ...this.#options.env },
        store: this.#options.store,
        defaults: this.#options.defaults,
        telemetry: this.#options.defaults?.telemetry,
        signal: controller.signal,
        onEvent: (event) => {
          hub.publish(event);
          onEvent?.(event);
          if (!started && event.runId) {
            started = { runId: event.runId, done, abort: (reason) => controller.abort(asAbortError(reason)) };
            this.#active.set(event.runId, started);
            resolve(started);
          }
        },
      });
      done.catch(() => {}).finally(() => {
        if (!started) return;
        this.#active.delete(started.runId);
        hub.finish(started.runId);
      });
      // A run that fails before it is recorded (such as a store failure) rejects the start itself.
      done.catch((error) => {
        if (!started) reject(error);
      });
    });
  }

  /**
   * Cancels a run of this process.
   *
   * @param runId The run.
   * @param reason Why.
   * @returns Whether the run was active here.
   */
  abort(runId: string, reason?: unknown): boolean {
    const run = this.#active.get(runId);
    run?.abort(reason);
    return run !== undefined;
  }

  /**
   * Waits for active runs to end, cancelling those still running after `graceMs`.
   *
   * @param graceMs How long to let them finish.
   */
  async drain(graceMs: number): Promise<void> {
    const runs = [...this.#active.values()];
    if (runs.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settled = Promise.allSettled(runs.map((run) => run.done));
    await Promise.race([settled, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const run of runs) run.abort("the server is shutting down");
    await settled;
  }
}

// The run is recorded as "aborted" (not "failed") when the workflow rejects with an AbortError.
function asAbortError(reason: unknown): AbortError {
  if (reason instanceof AbortError) return reason;
  const text = reason instanceof Error ? reason.message : reason === undefined ? undefined : String(reason);
  return new AbortError(text ? `The run was aborted: ${text}` : "The run was aborted", { reason });
}

/**
 * The error a client sees for a failed run. A workflow's own failure is part of its run record (`GET /runs/:id` shows
 * the same name and message), so it is reported as `workflow_failed` with the run id rather than a bare 500.
 *
 * @param store Where the run is recorded.
 * @param runId The run.
 * @param error What the run rejected with.
 * @param headers Response headers to keep, such as `X-Flue-Run-Id`.
 * @returns The HTTP error.
 */
export async function workflowFailure(
  store: Store,
  runId: string,
  error: unknown,
  headers?: Record<string, string>,
): Promise<HttpError> {
  const mapped = toHttpError(error);
  if (mapped.type !== "internal_error") {
    const details = typeof mapped.details === "object" && mapped.details !== null ? mapped.details : {};
    return new HttpError(mapped.status, mapped.type, mapped.message, {
      details: { runId, ...details },
      headers,
      cause: error,
    });
  }
  const run = await store.getRun(runId);
  return new HttpError(500, "workflow_failed", `The workflow failed: GET /runs/${runId} has its events`, {
    details: { runId, error: run?.error },
    headers,
    cause: error,
  });
}
