/**
 * A bounded pool of file runner processes. Sandboxes whose workspaces lie below the same served directory, under the
 * same write access and limits, share one runner process; the pool never has more than `maxRunners` processes alive,
 * and stops the least recently used one to make room for another.
 *
 * @module
 */

import { type RunnerOutcome, RunnerProcess } from "./_runner_process.ts";
import { type RunnerArgsOptions, type RunnerCommand, runnerCommand, type RunnerIsolation } from "./_runner_command.ts";

/** Options of {@linkcode RunnerPool}. */
export interface RunnerPoolOptions {
  /** Most runner processes alive at once. Default `FLUE_MAX_RUNNERS`, else twice the cores. */
  maxRunners?: number;
}

/** What makes one runner process: processes are shared only between sandboxes whose spec is equal. */
export interface RunnerSpec extends RunnerArgsOptions {
  /** The real path of the directory served. */
  servedRoot: string;
  /** The deno binary. */
  denoPath: string;
  /** Whether to run the runner under bubblewrap. */
  isolation: RunnerIsolation;
  /** How long one request may take before the process is stopped. */
  requestTimeoutMs: number;
  /** How long the process may sit idle before it is stopped. */
  idleMs: number;
}

/** The protected paths of one workspace, relative to its root. */
export interface WorkspaceEntry {
  /** Readable, never writable. */
  readOnlyPaths: readonly string[];
  /** Neither readable nor writable. */
  hiddenPaths: readonly string[];
}

const CLOSE_GRACE_MS = 2_000;
const MAX_RUNNERS_LIMIT = 1024;
const RESCAN_MS = 20;
const STARTUP_TIMEOUT_MS = 30_000;
const MAX_SEND_TURNS = 8;

/**
 * A bounded pool of runner processes, keyed by {@linkcode RunnerSpec}. Most code uses the process-wide
 * {@linkcode defaultRunnerPool}; a `DenoRunner` started on its own gets a private pool of one.
 *
 * Needs `--allow-run` for deno (and bwrap).
 *
 * @example A pool of two
 * ```ts ignore
 * import { RunnerPool } from "./runner_pool.ts";
 * import { DenoRunner } from "./deno_runner.ts";
 *
 * const pool = new RunnerPool({ maxRunners: 2 });
 * const runner = await DenoRunner.start({ workspace: "/srv/ws/a", servedRoot: "/srv/ws", allowWrite: true, pool });
 * await runner.close();
 * await pool.close();
 * ```
 */
export class RunnerPool {
  /** Most runner processes alive at once. */
  readonly maxRunners: number;
  readonly #groups = new Map<string, RunnerGroup>();
  // Groups with a process, least recently used first (a Map keeps insertion order; a use moves a group to the end).
  readonly #recent = new Map<RunnerGroup, true>();
  #alive = 0;
  #exited = Promise.withResolvers<void>();

  /**
   * @param options The cap.
   * @throws {RangeError} When `maxRunners` is not a whole number from 1 to 1024.
   */
  constructor(options: RunnerPoolOptions = {}) {
    const max = options.maxRunners ?? defaultMaxRunners();
    if (!Number.isInteger(max) || max < 1 || max > MAX_RUNNERS_LIMIT) {
      throw new RangeError(`maxRunners must be a whole number from 1 to ${MAX_RUNNERS_LIMIT}, got ${max}`);
    }
    this.maxRunners = max;
  }

  /** Runner processes alive now (started and not yet exited). */
  get size(): number {
    return this.#alive;
  }

  /**
   * Takes a lease on a workspace served by the process for `spec`; the process starts on the first request.
   *
   * @param spec What the process must be.
   * @param root The workspace's real path, below `spec.servedRoot`.
   * @param entry The workspace's protected paths.
   * @returns The lease, which sends requests and is released once.
   */
  lease(spec: RunnerSpec, root: string, entry: WorkspaceEntry): RunnerLease {
    const key = JSON.stringify(spec);
    let group = this.#groups.get(key);
    if (group === undefined) {
      group = new RunnerGroup(this, spec, () => this.#groups.delete(key));
      this.#groups.set(key, group);
    }
    return group.lease(root, entry);
  }

  /**
   * Stops every process. A lease still held starts a new one on its next request.
   *
   * @returns A promise that settles when every process has exited.
   */
  async close(): Promise<void> {
    await Promise.all([...this.#groups.values()].map((group) => group.stop()));
  }

  /** @internal Marks a group as just used. */
  touch(group: RunnerGroup): void {
    this.#recent.delete(group);
    this.#recent.set(group, true);
  }

  /** @internal Waits for room for one more process and reserves it; the caller gives it back with `released`. */
  async reserve(group: RunnerGroup): Promise<void> {
    // Each turn either reserves, or stops one process (whose exit ends the wait), or waits for one already stopping.
    for (;;) {
      if (this.#alive < this.maxRunners) {
        this.#alive++;
        return;
      }
      const exited = this.#exited.promise;
      let isStopping = false;
      for (const candidate of this.#recent.keys()) {
        if (candidate !== group && candidate.hasProcess) {
          candidate.stopProcess();
          isStopping = true;
          break;
        }
      }
      if (isStopping) {
        await exited;
        continue;
      }
      // Every slot belongs to a process still starting: look again soon, or at the next exit.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([exited, new Promise((resolve) => timer = setTimeout(resolve, RESCAN_MS))]);
      clearTimeout(timer);
    }
  }

  /** @internal A reserved process has exited or failed to start. */
  released(group: RunnerGroup): void {
    this.#alive--;
    if (!group.hasProcess) this.#recent.delete(group);
    this.#exited.resolve();
    this.#exited = Promise.withResolvers<void>();
  }
}

/** A workspace's use of a pooled runner process. */
export interface RunnerLease {
  /** The pid of the process (bwrap's when confined), or `undefined` while none runs. */
  readonly pid: number | undefined;
  /**
   * Sends one request for this workspace.
   *
   * @param op The operation.
   * @param params Its parameters; `root` is added.
   * @returns The runner's outcome.
   */
  send(op: string, params: Record<string, unknown>): Promise<RunnerOutcome>;
  /**
   * Gives the lease back; the last lease of a process stops it.
   *
   * @returns A promise that settles when a process this stopped has exited.
   */
  release(): Promise<void>;
}

/** The process of one spec and the workspaces it serves. */
class RunnerGroup {
  readonly #pool: RunnerPool;
  readonly #spec: RunnerSpec;
  readonly #onEmpty: () => void;
  readonly #workspaces = new Map<string, { entry: WorkspaceEntry; leases: number }>();
  readonly #stopping = new Set<Promise<void>>();
  #command: Promise<RunnerCommand> | undefined;
  #process: RunnerProcess | undefined;
  #starting: Promise<RunnerProcess> | undefined;
  // The workspaces the current process has been told about.
  #registered = new Set<string>();
  #inFlight = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(pool: RunnerPool, spec: RunnerSpec, onEmpty: () => void) {
    this.#pool = pool;
    this.#spec = spec;
    this.#onEmpty = onEmpty;
  }

  get hasProcess(): boolean {
    return this.#process !== undefined;
  }

  lease(root: string, entry: WorkspaceEntry): RunnerLease {
    const workspace = this.#workspaces.get(root);
    if (workspace === undefined) this.#workspaces.set(root, { entry, leases: 1 });
    else workspace.leases++;
    let isReleased = false;
    const pid = () => this.#process?.alive ? this.#process.pid : undefined;
    return {
      get pid() {
        return pid();
      },
      send: (op, params) => {
        if (isReleased) {
          return Promise.reject(
            new Error("The sandbox file runner was closed: create a new sandbox to use the workspace"),
          );
        }
        return this.#send(root, op, params);
      },
      release: () => {
        if (isReleased) return Promise.resolve();
        isReleased = true;
        return this.#release(root);
      },
    };
  }

  async #send(root: string, op: string, params: Record<string, unknown>): Promise<RunnerOutcome> {
    clearTimeout(this.#idleTimer);
    this.#inFlight++;
    try {
      // A process stopped to make room (or for idleness) between two steps below was never sent the request, so it
      // goes to the next process; the turns are bounded in case processes keep being taken away.
      for (let turn = 0;; turn++) {
        const process = this.#process?.alive ? this.#process : await this.#start();
        this.#pool.touch(this);
        if (!process.alive && turn < MAX_SEND_TURNS) continue;
        let registered: Promise<RunnerOutcome> | undefined;
        if (!this.#registered.has(root)) {
          const workspace = this.#workspaces.get(root);
          if (workspace === undefined) throw new Error(`Workspace "${root}" has no lease`);
          this.#registered.add(root);
          // Sent ahead of the request in the same write: the runner handles lines in order, so a new workspace costs
          // no extra round trip.
          registered = process.send("serve", { root, ...workspace.entry }, this.#spec.requestTimeoutMs);
        }
        const outcome = process.send(op, { ...params, root }, this.#spec.requestTimeoutMs);
        if (registered !== undefined) {
          const [first] = await Promise.all([registered, outcome.catch(() => undefined)]);
          if (!first.ok) {
            this.#registered.delete(root);
            return first;
          }
        }
        return await outcome;
      }
    } finally {
      if (--this.#inFlight === 0) this.#armIdleTimer();
    }
  }

  #start(): Promise<RunnerProcess> {
    this.#starting ??= this.#spawn().finally(() => this.#starting = undefined);
    return this.#starting;
  }

  async #spawn(): Promise<RunnerProcess> {
    if (this.#process !== undefined) this.stopProcess();
    this.#command ??= runnerCommand(this.#spec.denoPath, this.#spec.servedRoot, this.#spec.isolation, this.#spec);
    let command: RunnerCommand;
    try {
      command = await this.#command;
    } catch (error) {
      this.#command = undefined;
      throw error;
    }
    await this.#pool.reserve(this);
    let process: RunnerProcess;
    try {
      process = new RunnerProcess(command.program, command.args, this.#spec.servedRoot);
    } catch (error) {
      this.#pool.released(this);
      throw error;
    }
    process.finished.then(() => {
      if (this.#process === process) this.#process = undefined;
      this.#pool.released(this);
    });
    this.#process = process;
    this.#registered = new Set();
    // Starting deno can take longer than a request may, on a loaded machine; requests wait until it answers.
    const started = await process.send("ping", {}, Math.max(this.#spec.requestTimeoutMs, STARTUP_TIMEOUT_MS));
    if (!started.ok) throw new Error(`The sandbox file runner failed to start: ${started.error.message}`);
    return process;
  }

  #armIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#inFlight === 0) this.stopProcess();
    }, this.#spec.idleMs);
    // An idle runner never keeps the program alive.
    Deno.unrefTimer(this.#idleTimer);
  }

  /** Closes the current process, letting what it holds finish; the next request starts another. */
  stopProcess(): void {
    const process = this.#process;
    if (process === undefined) return;
    this.#process = undefined;
    this.#registered = new Set();
    const done = process.close(CLOSE_GRACE_MS);
    this.#stopping.add(done);
    done.finally(() => this.#stopping.delete(done));
  }

  async #release(root: string): Promise<void> {
    const workspace = this.#workspaces.get(root);
    if (workspace !== undefined && --workspace.leases === 0) {
      this.#workspaces.delete(root);
      const process = this.#process;
      if (process?.alive && this.#registered.delete(root)) {
        // The runner forgets the workspace; nothing waits for its answer.
        process.send("release", { root }, this.#spec.requestTimeoutMs).catch(() => {});
      }
    }
    if (this.#workspaces.size === 0) await this.stop();
  }

  /** Stops the process for good and leaves the pool. */
  async stop(): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.#onEmpty();
    this.stopProcess();
    await Promise.all(this.#stopping);
  }
}

let defaultPool: RunnerPool | undefined;

/**
 * The process-wide pool that the `virtual` and `local` sandboxes use.
 *
 * @returns The pool, created on first use with `FLUE_MAX_RUNNERS` (when set and readable) or twice the cores.
 */
export function defaultRunnerPool(): RunnerPool {
  defaultPool ??= new RunnerPool();
  return defaultPool;
}

/**
 * The default cap: `FLUE_MAX_RUNNERS` when set, else twice the cores (at least 2).
 *
 * @returns The cap.
 * @throws {RangeError} When `FLUE_MAX_RUNNERS` is not a whole number from 1 to 1024.
 */
export function defaultMaxRunners(): number {
  let raw: string | undefined;
  if (Deno.permissions.querySync({ name: "env", variable: "FLUE_MAX_RUNNERS" }).state === "granted") {
    raw = Deno.env.get("FLUE_MAX_RUNNERS");
  }
  if (raw === undefined || raw === "") return Math.max(2, 2 * (navigator.hardwareConcurrency ?? 1));
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_RUNNERS_LIMIT) {
    throw new RangeError(`FLUE_MAX_RUNNERS must be a whole number from 1 to ${MAX_RUNNERS_LIMIT}, got "${raw}"`);
  }
  return value;
}
