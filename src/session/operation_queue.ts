/**
 * The operation queue of one session: operations run one at a time in call order, each can be cancelled on its own
 * or all together, and each emits `operation_start` and exactly one terminal event (`operation`, `error` or
 * `aborted`), also when it is cancelled before it starts. Queues of the same lane (the same session of the same store,
 * opened by different agent objects in one process) share one order.
 *
 * @module
 */

import { newId } from "../_id.ts";
import { AbortError, abortErrorFrom } from "../errors.ts";
import type { EventPayload, FlueEvent, OperationKind } from "../events/event_types.ts";
import type { Usage } from "../model/message.ts";
import { CallHandle } from "./call_handle.ts";

/** What an operation's body receives. */
export interface OperationScope {
  /** The operation's id. */
  operationId: string;
  /** What kind of operation it is. */
  kind: OperationKind;
  /** Aborted when the operation is cancelled. */
  signal: AbortSignal;
  /** Emits an event correlated with the operation. */
  emit(payload: EventPayload): FlueEvent;
  /**
   * Passes an event of a nested operation (a subagent task's) to this operation's listener, such as its
   * `session.stream`, without emitting it again.
   */
  forward(event: FlueEvent): void;
}

/** What an operation's body returns. */
export interface OperationOutcome<T> {
  /** The call's result. */
  value: T;
  /** The result as carried by the `operation` event. */
  result?: unknown;
  /** Tokens used. */
  usage?: Usage;
}

/** How the queue emits events and reports errors; supplied by the session. */
export interface OperationEmitter {
  /**
   * Emits an event of an operation, or of the session when `operationId` is undefined.
   *
   * @param payload The event.
   * @param operationId The operation it belongs to.
   * @returns The event as delivered.
   */
  emit(payload: EventPayload, operationId?: string): FlueEvent;
  /**
   * Prepares an error for the caller and the `error` event (redacts secrets).
   *
   * @param error What the operation threw.
   * @returns The error to rethrow.
   */
  sanitize(error: unknown): unknown;
}

// The last operation queued on each lane; an entry is removed once its operation ends and nothing queued after it.
const lanes = new Map<string, Promise<void>>();

/** Runs a session's operations one at a time. */
export class OperationQueue {
  readonly #emitter: OperationEmitter;
  readonly #lane: string;
  readonly #active = new Set<AbortController>();

  /**
   * Creates a queue.
   *
   * @param emitter Emits events and sanitises errors.
   * @param lane Operations of every queue with this lane run one at a time, in call order.
   */
  constructor(emitter: OperationEmitter, lane: string) {
    this.#emitter = emitter;
    this.#lane = lane;
  }

  /**
   * Queues an operation.
   *
   * @param kind What kind of operation it is.
   * @param externalSignal A caller's signal that also cancels it.
   * @param listener Receives each event of this operation (for `session.stream`).
   * @param body The work.
   * @param chosenId The operation's id, when the caller must know it in advance (a dispatch uses its dispatch id, so a
   *   retry finds what an earlier attempt stored); a new id otherwise.
   * @returns A handle to the call.
   */
  run<T>(
    kind: OperationKind,
    externalSignal: AbortSignal | undefined,
    listener: ((event: FlueEvent) => void) | undefined,
    body: (scope: OperationScope) => Promise<OperationOutcome<T>>,
    chosenId?: string,
  ): CallHandle<T> {
    const controller = new AbortController();
    const onExternalAbort = () => controller.abort(externalSignal?.reason);
    if (externalSignal?.aborted) controller.abort(externalSignal.reason);
    else externalSignal?.addEventListener("abort", onExternalAbort, { once: true });
    this.#active.add(controller);

    const lane = this.#lane;
    const previous = lanes.get(lane) ?? Promise.resolve();
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    // The next operation waits for this one and for everything queued before it, even if this one is cancelled early.
    const tail = previous.then(() => done);
    lanes.set(lane, tail);
    tail.then(() => {
      if (lanes.get(lane) === tail) lanes.delete(lane);
    });

    return new CallHandle<T>(async (signal) => {
      const operationId = chosenId ?? newId("op");
      const emit = (payload: EventPayload) => {
        const event = this.#emitter.emit(payload, operationId);
        listener?.(event);
        return event;
      };
      let started = false;
      try {
        await waitUnlessAborted(previous, signal);
        started = true;
        const startedAt = performance.now();
        emit({ type: "operation_start", operationKind: kind });
        if (signal.aborted) throw abortErrorFrom(signal);
        const outcome = await body({ operationId, kind, signal, emit, forward: (event) => listener?.(event) });
        if (signal.aborted) throw abortErrorFrom(signal);
        emit({
          type: "operation",
          operationKind: kind,
          durationMs: performance.now() - startedAt,
          usage: outcome.usage,
          result: outcome.result,
        });
        return outcome.value;
      } catch (error) {
        if (!started) emit({ type: "operation_start", operationKind: kind });
        if (signal.aborted || error instanceof AbortError) {
          const abortError = error instanceof AbortError ? error : abortErrorFrom(signal);
          emit({ type: "aborted", operationKind: kind, reason: describeReason(abortError.reason) });
          throw abortError;
        }
        const sanitized = this.#emitter.sanitize(error);
        const name = sanitized instanceof Error ? sanitized.name : "Error";
        const message = sanitized instanceof Error ? sanitized.message : String(sanitized);
        emit({ type: "error", operationKind: kind, error: { name, message } });
        throw sanitized;
      } finally {
        externalSignal?.removeEventListener("abort", onExternalAbort);
        this.#active.delete(controller);
        finished();
        if (this.#active.size === 0) this.#emitter.emit({ type: "idle" });
      }
    }, controller);
  }

  /**
   * Cancels every running and queued operation.
   *
   * @param reason Why.
   * @returns Whether anything was cancelled.
   */
  abortAll(reason?: unknown): boolean {
    const active = [...this.#active];
    for (const controller of active) controller.abort(reason);
    return active.length > 0;
  }

  /**
   * Resolves once everything queued so far has finished.
   *
   * @returns A promise that never rejects.
   */
  drained(): Promise<void> {
    return lanes.get(this.#lane) ?? Promise.resolve();
  }
}

function describeReason(reason: unknown): string | undefined {
  if (reason === undefined) return undefined;
  return reason instanceof Error ? reason.message : String(reason);
}

async function waitUnlessAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw abortErrorFrom(signal);
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortErrorFrom(signal));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
