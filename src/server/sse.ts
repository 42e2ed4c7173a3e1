/**
 * Server-sent events: `id:` and `event:` lines per event, JSON data, and a heartbeat comment so proxies keep the
 * connection open. A client that disconnects stops the writing, never the work behind it (see docs/server.md).
 *
 * @module
 */

import type { Context } from "hono";
import { streamSSE } from "hono/streaming";

/** Where a handler writes its events. */
export interface SseSink {
  /**
   * Writes one event. Does nothing once the client is gone.
   *
   * @param event The event name.
   * @param data The JSON data.
   * @param id The event id, for `Last-Event-ID` resume.
   */
  send(event: string, data: unknown, id?: string | number): Promise<void>;
  /** Aborted when the client disconnects or the server shuts down. */
  readonly signal: AbortSignal;
}

/** Options of {@linkcode sseResponse}. */
export interface SseOptions {
  /** Milliseconds between heartbeat comments. */
  heartbeatMs: number;
  /** Aborted when the server shuts down; ends the stream. */
  shutdown: AbortSignal;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

/**
 * Answers with an event stream written by `write`.
 *
 * @param c The request context.
 * @param options Heartbeat, shutdown signal and headers.
 * @param write Writes the events; the stream ends when it returns.
 * @returns The response.
 */
export function sseResponse(c: Context, options: SseOptions, write: (sink: SseSink) => Promise<void>): Response {
  for (const [name, value] of Object.entries(options.headers ?? {})) c.header(name, value);
  c.header("X-Accel-Buffering", "no");
  return streamSSE(c, async (stream) => {
    const controller = new AbortController();
    const stop = () => controller.abort();
    stream.onAbort(stop);
    options.shutdown.addEventListener("abort", stop, { once: true });
    const heartbeat = setInterval(() => {
      if (!stream.aborted) void stream.write(": heartbeat\n\n");
    }, options.heartbeatMs);
    try {
      await stream.write(": connected\n\n");
      await write({
        signal: controller.signal,
        async send(event, data, id) {
          if (stream.aborted || stream.closed) return;
          await stream.writeSSE({ event, data: JSON.stringify(data), id: id === undefined ? undefined : String(id) });
        },
      });
    } finally {
      clearInterval(heartbeat);
      options.shutdown.removeEventListener("abort", stop);
    }
  });
}

/**
 * Reads the position to resume after: the `Last-Event-ID` header, else the `after` query parameter.
 *
 * @param lastEventId The header's value.
 * @param after The query parameter's value.
 * @returns The `eventIndex` to resume after, -1 for the start, or `undefined` when a value is not a whole number.
 */
export function resumePosition(lastEventId: string | undefined, after: string | undefined): number | undefined {
  const text = lastEventId?.trim() || after?.trim();
  if (!text) return -1;
  if (!/^-?\d{1,15}$/.test(text)) return undefined;
  const value = Number(text);
  return value < -1 ? undefined : value;
}
