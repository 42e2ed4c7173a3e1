/**
 * `AgentPool`: the server's and the dispatch worker's cache of agent instances. Each instance is initialised once
 * (concurrent first calls share one initialisation), kept while in use, and closed after it has been idle for a while
 * or when the cache is over its bound.
 *
 * @module
 */

import { NotFoundError } from "../errors.ts";
import { isTerminalEvent } from "../events/event_types.ts";
import type { Store } from "../store/store.ts";
import type { AgentOptions } from "./agent_options.ts";
import type { AgentResolver } from "./agent_resolver.ts";
import { type AgentConfig, type CreatedAgent, isCreatedAgent } from "./create_agent.ts";
import { type Agent, init } from "./init.ts";

/** How an agent is declared to the pool: by `createAgent(...)`, or as a plain options object. */
export type AgentDeclaration = CreatedAgent | AgentConfig;

/** Options of {@linkcode AgentPool}. */
export interface AgentPoolOptions {
  /** The agents by name. Names follow agent naming: a letter, then letters, digits, `_` or `-`. */
  agents: Readonly<Record<string, AgentDeclaration>>;
  /** Where every instance keeps its sessions; shared so that the server, the worker and history reads agree. */
  store: Store;
  /** Options applied under each agent's own, such as the project's configured model. */
  defaults?: Partial<AgentOptions>;
  /** Values handed to `createAgent` initialisers as `ctx.env`. */
  env?: Readonly<Record<string, string>>;
  /** The number of instances kept; idle ones beyond it are closed, least recently used first. 64 by default. */
  maxInstances?: number;
  /** How long an instance with nothing running stays open after its last use. 10 minutes by default. */
  idleMs?: number;
}

interface PoolEntry {
  key: string;
  agent?: Agent;
  ready: Promise<Agent>;
  lastUsed: number;
  /** Operations that started and have not ended, from the agent's own events. */
  running: Set<string>;
  unsubscribe?: () => void;
}

const DEFAULT_MAX_INSTANCES = 64;
const DEFAULT_IDLE_MS = 10 * 60_000;
const MAX_INSTANCE_ID_LENGTH = 256;

/**
 * A bounded cache of agent instances, addressed by agent name and instance id.
 *
 * @example Usage
 * ```ts
 * import { AgentPool } from "./agent_pool.ts";
 * import { createAgent } from "./create_agent.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 *
 * const pool = new AgentPool({
 *   agents: { assistant: createAgent(() => ({ model: "test", sandbox: "memory" })) },
 *   store: new MemoryStore(),
 * });
 * const [first, second] = await Promise.all([pool.getAgent("assistant", "a"), pool.getAgent("assistant", "a")]);
 * if (first !== second) throw new Error("expected one instance");
 * await pool.close();
 * ```
 */
export class AgentPool implements AgentResolver {
  readonly #declarations: ReadonlyMap<string, AgentDeclaration>;
  readonly #options: AgentPoolOptions;
  readonly #maxInstances: number;
  readonly #idleMs: number;
  readonly #entries = new Map<string, PoolEntry>();
  #sweepTimer?: ReturnType<typeof setInterval>;
  #isClosed = false;

  /**
   * Creates the pool. Nothing is initialised until first use.
   *
   * @param options The agents, the shared store, defaults and bounds.
   * @throws {TypeError} When an agent name, declaration or bound is invalid.
   */
  constructor(options: AgentPoolOptions) {
    if (options === null || typeof options !== "object") throw new TypeError("AgentPool needs an options object");
    if (options.store === null || typeof options.store !== "object") {
      throw new TypeError("AgentPool needs a store object: pass the Store the server and worker share");
    }
    const declarations = new Map<string, AgentDeclaration>();
    for (const [name, declaration] of Object.entries(options.agents ?? {})) {
      if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name)) {
        throw new TypeError(`Invalid agent name "${name}": use a letter, then letters, digits, "_" or "-"`);
      }
      if (declaration === null || typeof declaration !== "object") {
        throw new TypeError(`Agent "${name}" must be declared by createAgent(...) or an options object`);
      }
      declarations.set(name, declaration);
    }
    this.#declarations = declarations;
    this.#options = options;
    this.#maxInstances = positiveInteger(options.maxInstances ?? DEFAULT_MAX_INSTANCES, "maxInstances");
    this.#idleMs = positiveInteger(options.idleMs ?? DEFAULT_IDLE_MS, "idleMs");
  }

  /**
   * The names of the agents the pool knows.
   *
   * @returns The names, sorted.
   */
  agentNames(): string[] {
    return [...this.#declarations.keys()].sort();
  }

  /**
   * Whether the pool knows an agent.
   *
   * @param name The agent's name.
   * @returns Whether it is declared.
   */
  has(name: string): boolean {
    return this.#declarations.has(name);
  }

  /**
   * The instance if it is open, without opening it.
   *
   * @param name The agent's name.
   * @param id The instance id.
   * @returns The instance, or `undefined` when none is open.
   */
  peek(name: string, id: string): Agent | undefined {
    return this.#entries.get(JSON.stringify([name, id]))?.agent;
  }

  /** The number of instances open or opening. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The instance of an agent, initialised on first use and reused afterwards.
   *
   * @param name The agent's name.
   * @param id The instance id: 1 to 256 characters.
   * @returns The instance. Rejects with `NotFoundError` for an unknown name, `TypeError` for an invalid id.
   */
  getAgent(name: string, id: string): Promise<Agent> {
    if (this.#isClosed) return Promise.reject(new Error("The agent pool is closed"));
    const declaration = this.#declarations.get(name);
    if (!declaration) {
      const known = this.agentNames();
      return Promise.reject(
        new NotFoundError(
          "agent",
          name,
          `No agent named "${name}": ${
            known.length ? `known agents are ${known.join(", ")}` : "no agents are declared"
          }`,
        ),
      );
    }
    if (typeof id !== "string" || id === "" || id.length > MAX_INSTANCE_ID_LENGTH) {
      return Promise.reject(
        new TypeError(`Invalid instance id "${id}": use 1 to ${MAX_INSTANCE_ID_LENGTH} characters`),
      );
    }
    const key = JSON.stringify([name, id]);
    const existing = this.#entries.get(key);
    if (existing) {
      existing.lastUsed = Date.now();
      return existing.ready;
    }
    const entry: PoolEntry = { key, ready: undefined!, lastUsed: Date.now(), running: new Set() };
    entry.ready = this.#open(entry, name, id, declaration);
    this.#entries.set(key, entry);
    // A failed initialisation is not cached: the next call tries again (the module or configuration may be fixed).
    entry.ready.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    this.#evictOverflow();
    this.#scheduleSweep();
    return entry.ready;
  }

  /** Closes every instance (cancelling what they run) and refuses further use. The store stays open. */
  async close(): Promise<void> {
    this.#isClosed = true;
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled(entries.map((entry) => this.#closeEntry(entry)));
  }

  async #open(entry: PoolEntry, name: string, id: string, declaration: AgentDeclaration): Promise<Agent> {
    const config = isCreatedAgent(declaration)
      ? await declaration.initialize({ id, env: { ...this.#options.env }, payload: undefined })
      : declaration;
    const agent = await init({ ...this.#options.defaults, ...config, store: this.#options.store, name, id });
    entry.unsubscribe = agent.subscribe((event) => {
      entry.lastUsed = Date.now();
      if (!event.operationId) return;
      if (event.type === "operation_start") entry.running.add(event.operationId);
      else if (isTerminalEvent(event)) entry.running.delete(event.operationId);
    });
    entry.agent = agent;
    if (this.#isClosed) {
      await this.#closeEntry(entry);
      throw new Error("The agent pool is closed");
    }
    return agent;
  }

  async #closeEntry(entry: PoolEntry): Promise<void> {
    const agent = entry.agent ?? await entry.ready.catch(() => undefined);
    entry.unsubscribe?.();
    await agent?.close();
  }

  #isIdle(entry: PoolEntry): boolean {
    return entry.agent !== undefined && entry.running.size === 0;
  }

  /** Closes idle instances beyond the bound, least recently used first. Busy ones are kept even over the bound. */
  #evictOverflow(): void {
    let excess = this.#entries.size - this.#maxInstances;
    if (excess <= 0) return;
    const idle = [...this.#entries.values()].filter((entry) => this.#isIdle(entry)).sort((a, b) =>
      a.lastUsed - b.lastUsed
    );
    for (const entry of idle) {
      if (excess-- <= 0) break;
      this.#evict(entry);
    }
  }

  #evict(entry: PoolEntry): void {
    this.#entries.delete(entry.key);
    this.#closeEntry(entry).catch((error) => console.error("Closing an idle agent instance failed:", error));
  }

  #scheduleSweep(): void {
    if (this.#sweepTimer !== undefined) return;
    const interval = Math.min(this.#idleMs, 60_000);
    const timer = setInterval(() => {
      const now = Date.now();
      for (const entry of [...this.#entries.values()]) {
        if (this.#isIdle(entry) && now - entry.lastUsed >= this.#idleMs) this.#evict(entry);
      }
      if (this.#entries.size === 0) {
        clearInterval(timer);
        this.#sweepTimer = undefined;
      }
    }, interval);
    // The sweep must not keep a process alive that has nothing else to do.
    Deno.unrefTimer(timer);
    this.#sweepTimer = timer;
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`AgentPool option "${name}" must be a positive whole number, got ${JSON.stringify(value)}`);
  }
  return value;
}
