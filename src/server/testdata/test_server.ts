/**
 * Starts `createApp` on a real server at 127.0.0.1, port 0, for the server's tests.
 *
 * @module
 */

import { createApp, type CreateAppOptions, type FlueApp } from "../app.ts";
import { MemoryStore } from "../../store/memory_store.ts";

/** A running test server. */
export interface TestServer {
  app: FlueApp;
  url: string;
  port: number;
  /** `fetch` relative to the server, with JSON helpers. */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Starts the app on 127.0.0.1 with a free port.
 *
 * @param options App options; a memory store when none is given.
 * @returns The server.
 */
export function startTestServer(options: Partial<CreateAppOptions> = {}): TestServer {
  const app = createApp({ store: options.store ?? new MemoryStore(), ...options });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    app,
    url,
    port: server.addr.port,
    request(path, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (json !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
      return fetch(`${url}${path}`, { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) });
    },
    async close() {
      await Promise.all([app.close({ graceMs: 1000 }), server.shutdown()]);
    },
  };
}

/**
 * Reads an SSE body into frames until it ends (or `stop` says so).
 *
 * @param response The event-stream response.
 * @param stop Ends reading early when it returns true for a frame.
 * @returns The frames: comments as `{ comment }`, events as `{ id, event, data }`.
 */
export async function readSse(
  response: Response,
  stop: (frame: SseFrame) => boolean = () => false,
): Promise<SseFrame[]> {
  const frames: SseFrame[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const frame = parseFrame(block);
        frames.push(frame);
        if (stop(frame)) return frames;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return frames;
}

/** One SSE frame. */
export interface SseFrame {
  comment?: string;
  id?: string;
  event?: string;
  data?: unknown;
}

function parseFrame(block: string): SseFrame {
  const frame: SseFrame = {};
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) frame.comment = line.slice(1).trim();
    else if (line.startsWith("id: ")) frame.id = line.slice(4);
    else if (line.startsWith("event: ")) frame.event = line.slice(7);
    else if (line.startsWith("data: ")) data.push(line.slice(6));
  }
  if (data.length) frame.data = JSON.parse(data.join("\n"));
  return frame;
}
