/**
 * Where remote sandbox ids are kept between processes, so a session reconnects to its machine after a restart instead
 * of starting an empty one: a JSON file in the state directory on a machine with a disk, Deno KV on Deno Deploy.
 *
 * @module
 */

import { dirname, join } from "node:path";

/** The agent, instance and session a remote machine belongs to, and its provider. */
export interface RemoteSandboxKey {
  /** The provider, such as `e2b`. */
  provider: string;
  /** The agent's name. */
  agent: string;
  /** The agent instance id. */
  instanceId: string;
  /** The session name. */
  session: string;
}

/** Keeps the id of each session's remote machine. */
export interface RemoteSandboxIds {
  /** The stored id, if any. */
  get(key: RemoteSandboxKey): Promise<string | undefined>;
  /** Stores an id, replacing any earlier one. */
  set(key: RemoteSandboxKey, id: string): Promise<void>;
  /** Forgets an id. */
  delete(key: RemoteSandboxKey): Promise<void>;
}

function keyString(key: RemoteSandboxKey): string {
  return JSON.stringify([key.provider, key.agent, key.instanceId, key.session]);
}

/**
 * Ids in `<stateDir>/remote-sandboxes.json`. Writes go to a temporary file renamed over the old one, so a crash never
 * leaves half a file; operations of one process are serialised.
 */
export class FileRemoteSandboxIds implements RemoteSandboxIds {
  readonly #path: string;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * @param stateDir The state directory (absolute), created when missing.
   */
  constructor(stateDir: string) {
    this.#path = join(stateDir, "remote-sandboxes.json");
  }

  get(key: RemoteSandboxKey): Promise<string | undefined> {
    return this.#serial(async () => (await this.#read())[keyString(key)]);
  }

  set(key: RemoteSandboxKey, id: string): Promise<void> {
    return this.#serial(async () => {
      const ids = await this.#read();
      ids[keyString(key)] = id;
      await this.#write(ids);
    });
  }

  delete(key: RemoteSandboxKey): Promise<void> {
    return this.#serial(async () => {
      const ids = await this.#read();
      if (!(keyString(key) in ids)) return;
      delete ids[keyString(key)];
      await this.#write(ids);
    });
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #read(): Promise<Record<string, string>> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return {};
      throw error;
    }
    try {
      const parsed = JSON.parse(text);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
    } catch {
      // Reported below.
    }
    throw new SyntaxError(`Remote sandbox id file "${this.#path}" is not a JSON object: delete it to start afresh`);
  }

  async #write(ids: Record<string, string>): Promise<void> {
    await Deno.mkdir(dirname(this.#path), { recursive: true });
    const temporary = `${this.#path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(temporary, JSON.stringify(ids, null, 2) + "\n");
    await Deno.rename(temporary, this.#path);
  }
}

/** Ids in Deno KV under `["flue", "remote-sandbox", provider, agent, instanceId, session]`, for Deno Deploy. */
export class KvRemoteSandboxIds implements RemoteSandboxIds {
  readonly #kv: Promise<Deno.Kv>;

  /**
   * @param kv An open Deno KV database; the default database when omitted.
   */
  constructor(kv?: Deno.Kv) {
    this.#kv = kv ? Promise.resolve(kv) : Deno.openKv();
  }

  #key(key: RemoteSandboxKey): Deno.KvKey {
    return ["flue", "remote-sandbox", key.provider, key.agent, key.instanceId, key.session];
  }

  async get(key: RemoteSandboxKey): Promise<string | undefined> {
    const entry = await (await this.#kv).get<string>(this.#key(key));
    return entry.value ?? undefined;
  }

  async set(key: RemoteSandboxKey, id: string): Promise<void> {
    await (await this.#kv).set(this.#key(key), id);
  }

  async delete(key: RemoteSandboxKey): Promise<void> {
    await (await this.#kv).delete(this.#key(key));
  }
}
