/**
 * Reads a `text/event-stream` body into messages, with `eventsource-parser`.
 *
 * @module
 */

import { EventSourceParserStream } from "eventsource-parser/stream";

/** One server-sent event. */
export interface SseMessage {
  /** The `event:` name (`message` when absent). */
  event: string;
  /** The `data:` text. */
  data: string;
  /** The `id:` value, when present. */
  id?: string;
}

/**
 * Yields the events of an SSE response body, in order. Comments (heartbeats) are skipped.
 *
 * @param body The response body.
 * @returns The events.
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const events = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
  const reader = events.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      yield { event: value.event ?? "message", data: value.data, id: value.id };
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
