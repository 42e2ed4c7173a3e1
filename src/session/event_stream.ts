/**
 * Turns one operation's events into an async iterable that ends with the operation's terminal event.
 *
 * @module
 */

import { type FlueEvent, isTerminalEvent } from "../events/event_types.ts";
import type { CallHandle } from "./call_handle.ts";
import type { EventStream } from "./session_types.ts";

/**
 * Starts an operation and streams its events, including those of the subagent tasks it runs. Events are buffered from
 * the start, so none is lost before the caller begins iterating. Leaving the loop early cancels the operation.
 *
 * @param start Starts the operation, passing each of its events to the listener.
 * @returns The stream.
 */
export function createEventStream<T>(start: (listener: (event: FlueEvent) => void) => CallHandle<T>): EventStream<T> {
  const buffer: FlueEvent[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  // The operation's own events come first; a task's child operations end with terminal events of their own.
  let operationId: string | undefined;
  const endsStream = (event: FlueEvent) => isTerminalEvent(event) && event.operationId === operationId;
  const handle = start((event) => {
    if (ended) return;
    operationId ??= event.operationId;
    buffer.push(event);
    if (endsStream(event)) ended = true;
    wake?.();
  });
  const result = handle.then((value) => value);
  result.catch(() => {});
  // An operation that fails before emitting anything still ends the stream.
  const end = () => {
    ended = true;
    wake?.();
  };
  result.then(end, end);

  return {
    result,
    abort: (reason?: unknown) => handle.abort(reason),
    async *[Symbol.asyncIterator](): AsyncGenerator<FlueEvent> {
      let completed = false;
      try {
        while (true) {
          while (buffer.length > 0) {
            const event = buffer.shift()!;
            yield event;
            if (endsStream(event)) {
              completed = true;
              return;
            }
          }
          if (ended) {
            completed = true;
            return;
          }
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        if (!completed) handle.abort("the event stream was closed before the operation ended");
      }
    },
  };
}
