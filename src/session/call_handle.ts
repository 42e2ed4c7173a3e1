/**
 * `CallHandle<T>`: what every session call returns. Await it for the result; `.signal` and `.abort()` cancel just
 * this call.
 *
 * @module
 */

/** An awaitable call that can be cancelled on its own. */
export class CallHandle<T> implements Promise<T> {
  readonly #promise: Promise<T>;
  readonly #controller: AbortController;

  /**
   * Starts a call. Sessions make handles; user code receives them.
   *
   * @param run Starts the call with the handle's signal.
   * @param controller The controller behind `.signal`; a new one when omitted.
   */
  constructor(run: (signal: AbortSignal) => Promise<T>, controller: AbortController = new AbortController()) {
    this.#controller = controller;
    this.#promise = run(controller.signal);
    // The caller may only use `.signal`; an unobserved rejection must not crash the process before it awaits.
    this.#promise.catch(() => {});
  }

  /** Names the object in `Object.prototype.toString`, as promises do; makes a handle usable wherever a `Promise` is. */
  get [Symbol.toStringTag](): string {
    return "CallHandle";
  }

  /** Aborted when this call is cancelled. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Cancels this call: the model request, tool calls and subprocesses stop and the call rejects with `AbortError`.
   *
   * @param reason Why, carried by the `AbortError`.
   */
  abort(reason?: unknown): void {
    this.#controller.abort(reason);
  }

  /**
   * Attaches callbacks, as a promise does.
   *
   * @param onFulfilled Called with the result.
   * @param onRejected Called with the error.
   * @returns A promise of what the callback returns.
   */
  then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#promise.then(onFulfilled, onRejected);
  }

  /**
   * Attaches a rejection callback, as a promise does.
   *
   * @param onRejected Called with the error.
   * @returns A promise of the result or of what the callback returns.
   */
  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.#promise.catch(onRejected);
  }

  /**
   * Attaches a callback run on either outcome, as a promise does.
   *
   * @param onFinally Called when the call settles.
   * @returns A promise of the same outcome.
   */
  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.#promise.finally(onFinally);
  }
}
