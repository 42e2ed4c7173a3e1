/**
 * One prompt at a time per agent instance and session, for prompts that arrive over HTTP or WebSocket. A second
 * prompt is refused at once with 409 `session_busy` rather than queued: a client holding an open request has no way
 * to learn its place in a queue, and a bounded wait would only move the failure. Durable work that should wait its
 * turn goes through `/dispatch`, which queues per session.
 *
 * @module
 */

import { HttpError } from "./errors.ts";

/** Tracks which sessions have a prompt running in this server. */
export class SessionLocks {
  readonly #held = new Set<string>();
  readonly #idleWaiters = new Set<() => void>();

  /** The number of prompts running. */
  get size(): number {
    return this.#held.size;
  }

  /**
   * Waits until no prompt runs, at most `ms`.
   *
   * @param ms The longest wait.
   */
  whenIdle(ms: number): Promise<void> {
    if (this.#held.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#idleWaiters.add(done);
    });
  }

  /**
   * Takes a session's lock.
   *
   * @param agent The agent's name.
   * @param id The instance id.
   * @param session The session name.
   * @returns A function that releases it (calling it twice is harmless).
   * @throws {HttpError} 409 `session_busy` when a prompt is already running there.
   */
  acquire(agent: string, id: string, session: string): () => void {
    const key = JSON.stringify([agent, id, session]);
    if (this.#held.has(key)) {
      throw new HttpError(
        409,
        "session_busy",
        `Session "${session}" of ${agent}/${id} is already running a prompt: wait for it to finish, or cancel it ` +
          `with POST /agents/${agent}/${encodeURIComponent(id)}/abort`,
        { details: { agent, id, session } },
      );
    }
    this.#held.add(key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held.delete(key);
      if (this.#held.size === 0) { for (const waiter of [...this.#idleWaiters]) waiter(); }
    };
  }
}
