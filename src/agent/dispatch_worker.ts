/**
 * `DispatchWorker`: claims dispatched inputs from the store, runs each as a prompt of its session, and records the
 * outcome: done, a retry after a backoff, or a dead letter.
 *
 * @module
 */

import { newId } from "../_id.ts";
import type { PromptResponse } from "../session/session_types.ts";
import type { ResumablePromptOptions } from "../session/_operation_progress.ts";
import type { CallHandle } from "../session/call_handle.ts";
import type { DispatchError, DispatchRecord } from "../store/dispatch_queue.ts";
import type { Store } from "../store/store.ts";
import type { AgentResolver } from "./agent_resolver.ts";
import { runInDispatch } from "./current_dispatch.ts";
import {
  checkBackoff,
  type CheckedBackoff,
  type DispatchBackoff,
  isPermanentFailure,
  retryDelayMs,
  toDispatchError,
} from "./_dispatch_retry.ts";

export type { DispatchBackoff } from "./_dispatch_retry.ts";

/** How one claimed dispatch ended in this worker. */
export interface DispatchSettlement {
  /** The dispatch. */
  dispatchId: string;
  /** The attempt, from 1. */
  attempt: number;
  /**
   * - `done`: handled and recorded.
   * - `retry`: failed; it runs again after a backoff.
   * - `dead`: failed for good or out of attempts; listed as dead for inspection and replay.
   * - `lost`: another worker took the lease over, so this one stopped and recorded nothing.
   * - `released`: the worker stopped before it finished; it runs again, here or in another process.
   */
  outcome: "done" | "retry" | "dead" | "lost" | "released";
  /** Why it failed, unless `done`. */
  error?: DispatchError;
}

/** Options of {@linkcode DispatchWorker}. */
export interface DispatchWorkerOptions {
  /** Where dispatches are queued. */
  store: Store;
  /** Finds the agent instance of each dispatch. The worker claims only dispatches for the names it knows. */
  agents: AgentResolver;
  /** The worker's id in leases and attempts; unique per process. A new id by default. */
  worker?: string;
  /** How long a claim lasts unless renewed, in milliseconds; renewed every third of it. Defaults to 30000. */
  leaseMs?: number;
  /** How many dispatches run at once (never two of one session). Defaults to 4. */
  concurrency?: number;
  /** How often to look for work when not woken, in milliseconds. Defaults to 1000. */
  pollMs?: number;
  /** Waits between attempts. */
  backoff?: DispatchBackoff;
  /** How long `stop()` lets running dispatches finish before aborting them, in milliseconds. Defaults to 30000. */
  drainMs?: number;
  /** Called when a dispatch ends in this worker. */
  onSettled?: (settlement: DispatchSettlement) => void;
  /** Called with store failures of the worker's own loop (it keeps going); `console.error` by default. */
  onError?: (error: unknown) => void;
}

interface RunningDispatch {
  controller: AbortController;
  done: Promise<void>;
}

// Abort reasons, told apart by identity.
const LEASE_LOST = new Error("Another worker took over the dispatch's lease");
const STOPPING = new Error("The dispatch worker stopped before the dispatch finished");

/**
 * Runs dispatched inputs. Each claimed dispatch becomes `agent.session(name).prompt(input.message)` of the agent
 * instance it names, under a lease the worker renews while it runs. The prompt's operation id is the dispatch id, so a
 * retry after a crash continues what the earlier attempt stored instead of adding the input again.
 *
 * @example Dispatch an input and let a worker handle it
 * ```ts
 * import assert from "node:assert/strict";
 * import { dispatch, DispatchWorker, init, MemoryStore } from "../../mod.ts";
 *
 * const store = new MemoryStore();
 * const agent = await init({ model: "test", store, sandbox: "memory" });
 * const agents = { agentNames: () => ["default"], getAgent: () => Promise.resolve(agent) };
 * const settled = Promise.withResolvers<string>();
 * const worker = new DispatchWorker({ store, agents, onSettled: (end) => settled.resolve(end.outcome) });
 * worker.start();
 * const { dispatchId } = await dispatch(store, { agent: "default", id: "default", message: "Hello" });
 * worker.wake();
 * assert.equal(await settled.promise, "done");
 * await worker.stop();
 * assert.equal((await store.getDispatch(dispatchId))?.status, "done");
 * const history = await (await agent.session()).history();
 * assert.equal(history[0].message.content, "Hello");
 * await agent.close();
 * await store.close();
 * ```
 */
export class DispatchWorker {
  /** The worker's id, as stored in leases and attempts. */
  readonly id: string;
  readonly #store: Store;
  readonly #agents: AgentResolver;
  readonly #leaseMs: number;
  readonly #concurrency: number;
  readonly #pollMs: number;
  readonly #drainMs: number;
  readonly #backoff: CheckedBackoff;
  readonly #onSettled?: (settlement: DispatchSettlement) => void;
  readonly #onError: (error: unknown) => void;
  readonly #running = new Set<RunningDispatch>();
  #state: "new" | "running" | "stopping" | "stopped" = "new";
  #loop?: Promise<void>;
  #stopped?: Promise<void>;
  #wakeUp?: () => void;
  #woken = false;

  /**
   * Creates a worker; `start()` starts it.
   *
   * @param options The store, the agents, and the lease, concurrency, polling, backoff and drain settings.
   */
  constructor(options: DispatchWorkerOptions) {
    if (typeof options?.store?.claimDispatch !== "function") {
      throw new TypeError("The dispatch worker needs a store with a dispatch queue, such as a SqliteStore");
    }
    if (typeof options.agents?.getAgent !== "function" || typeof options.agents.agentNames !== "function") {
      throw new TypeError("The dispatch worker needs an agent resolver: { agentNames(), getAgent(name, id) }");
    }
    this.#store = options.store;
    this.#agents = options.agents;
    this.id = options.worker ?? newId(`worker-${Deno.pid}`);
    if (typeof this.id !== "string" || this.id === "") {
      throw new TypeError(`The worker id must be a non-empty string, got ${JSON.stringify(options.worker)}`);
    }
    this.#leaseMs = checkPositive(options.leaseMs ?? 30_000, "leaseMs", 30);
    this.#concurrency = checkPositive(options.concurrency ?? 4, "concurrency", 1);
    this.#pollMs = checkPositive(options.pollMs ?? 1000, "pollMs", 1);
    this.#drainMs = checkPositive(options.drainMs ?? 30_000, "drainMs", 0);
    this.#backoff = checkBackoff(options.backoff);
    this.#onSettled = options.onSettled;
    this.#onError = options.onError ?? ((error) => console.error("Dispatch worker:", error));
  }

  /** Starts claiming work. Starting a running worker does nothing; a stopped one cannot start again. */
  start(): void {
    if (this.#state === "running") return;
    if (this.#state !== "new") throw new Error(`Dispatch worker "${this.id}" was stopped: create a new worker`);
    this.#state = "running";
    this.#loop = this.#claimLoop();
  }

  /** Looks for work now rather than at the next poll; call it after `dispatch()` in the same process. */
  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  /**
   * Drains: stops claiming, lets running dispatches finish for up to `drainMs`, then aborts the rest. An aborted one
   * is recorded as a failed attempt available at once, so another worker (or this process restarted) takes it up.
   *
   * @param options `drainMs`: this stop's deadline instead of the worker's (a server passes its grace period).
   * @returns A promise that resolves once nothing runs; calling it again returns the same promise.
   */
  stop(options: { drainMs?: number } = {}): Promise<void> {
    this.#stopped ??= this.#drain(options.drainMs ?? this.#drainMs);
    return this.#stopped;
  }

  async #drain(drainMs: number): Promise<void> {
    this.#state = "stopping";
    this.wake();
    await this.#loop;
    const finished = Promise.all([...this.#running].map((running) => running.done));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"deadline">((
      resolve,
    ) => (timer = setTimeout(() => resolve("deadline"), drainMs)));
    const first = await Promise.race([finished, deadline]);
    clearTimeout(timer);
    if (first === "deadline") {
      for (const running of this.#running) running.controller.abort(STOPPING);
      await finished;
    }
    this.#state = "stopped";
  }

  async #claimLoop(): Promise<void> {
    while (this.#state === "running") {
      this.#woken = false;
      while (this.#state === "running" && this.#running.size < this.#concurrency) {
        let record: DispatchRecord | undefined;
        try {
          record = await this.#store.claimDispatch({
            worker: this.id,
            leaseMs: this.#leaseMs,
            agents: this.#agents.agentNames(),
          });
        } catch (error) {
          this.#onError(error);
          break;
        }
        if (record === undefined) break;
        this.#begin(record);
      }
      if (this.#state !== "running" || this.#woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#pollMs);
        this.#wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wakeUp = undefined;
    }
  }

  #begin(record: DispatchRecord): void {
    const controller = new AbortController();
    const running: RunningDispatch = { controller, done: Promise.resolve() };
    running.done = this.#handle(record, controller)
      .then((settlement) => this.#onSettled?.(settlement))
      .catch((error) => this.#onError(error))
      .finally(() => {
        this.#running.delete(running);
        // A freed slot, or the next input of the same session, may be claimable now.
        this.wake();
      });
    this.#running.add(running);
  }

  async #handle(record: DispatchRecord, controller: AbortController): Promise<DispatchSettlement> {
    const { dispatchId } = record;
    const attempt = record.attempts.length;
    const stopRenewing = this.#renewWhileRunning(dispatchId, controller);
    try {
      // Tools the prompt calls can ask which dispatch they serve (a webhook's reply tool reads its reply target).
      const response = await runInDispatch(record, () => this.#prompt(record, controller.signal));
      stopRenewing();
      const result = { text: response.text, usage: response.usage, model: response.model };
      const completed = await this.#store.completeDispatch(dispatchId, this.id, result);
      return { dispatchId, attempt, outcome: completed ? "done" : "lost" };
    } catch (thrown) {
      stopRenewing();
      const reason = controller.signal.aborted ? controller.signal.reason : undefined;
      if (reason === LEASE_LOST) return { dispatchId, attempt, outcome: "lost", error: toDispatchError(LEASE_LOST) };
      const isStopping = reason === STOPPING;
      const error = toDispatchError(isStopping ? STOPPING : thrown);
      // A stopping worker hands the dispatch back at once; a permanent failure gets no retry time, so it is dead.
      const retryAt = isStopping
        ? new Date()
        : isPermanentFailure(thrown)
        ? undefined
        : new Date(Date.now() + retryDelayMs(this.#backoff, attempt));
      const held = await this.#store.failDispatch(dispatchId, this.id, error, retryAt);
      if (!held) return { dispatchId, attempt, outcome: "lost", error };
      const isDead = retryAt === undefined || attempt >= record.maxAttempts;
      return { dispatchId, attempt, outcome: isDead ? "dead" : isStopping ? "released" : "retry", error };
    }
  }

  async #prompt(record: DispatchRecord, signal: AbortSignal): Promise<PromptResponse> {
    const message = (record.input as { message?: unknown } | null)?.message;
    if (typeof message !== "string" || message.trim() === "") {
      throw new TypeError(
        `Dispatch "${record.dispatchId}" has no message: its input must be { "message": "..." }, got ${
          JSON.stringify(record.input)
        }`,
      );
    }
    const agent = await this.#agents.getAgent(record.key.agent, record.key.instanceId);
    const session = await agent.session(record.key.session);
    const resumable = session as unknown as {
      resumablePrompt?: (text: string, options: ResumablePromptOptions) => CallHandle<PromptResponse>;
    };
    if (typeof resumable.resumablePrompt !== "function") {
      // A session Flue did not build: no history check, so a retry after a crash may repeat the input.
      return await session.prompt(message, { signal });
    }
    return await resumable.resumablePrompt(message, {
      operationId: record.dispatchId,
      resume: record.attempts.length > 1,
      signal,
    });
  }

  /** Renews the lease every third of its length; aborts the work when another worker took it over. */
  #renewWhileRunning(dispatchId: string, controller: AbortController): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let isStopped = false;
    const renew = async () => {
      try {
        const held = await this.#store.renewDispatchLease(dispatchId, this.id, this.#leaseMs);
        if (!held) controller.abort(LEASE_LOST);
      } catch (error) {
        // The store is unreachable for now: keep trying; if the lease runs out, the next renewal reports it lost.
        this.#onError(error);
      }
      if (!isStopped && !controller.signal.aborted) timer = setTimeout(renew, this.#leaseMs / 3);
    };
    timer = setTimeout(renew, this.#leaseMs / 3);
    return () => {
      isStopped = true;
      clearTimeout(timer);
    };
  }
}

function checkPositive(value: number, name: string, minimum: number): number {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new TypeError(`The dispatch worker's ${name} must be a whole number of at least ${minimum}, got ${value}`);
  }
  return value;
}
