/**
 * A fake OpenAI-compatible server on 127.0.0.1 that speaks the Chat Completions API over real HTTP, so that code on the
 * `openai` SDK is tested end to end: streamed and whole replies, tool calls, usage, and injected failures (429 with
 * `retry-after`, 5xx, broken replies, slow answers).
 *
 * @module
 */

import {
  completionBody,
  errorBody,
  type FakeFailure,
  type FakeReply,
  type FakeStep,
  type ReplyContext,
  streamFrames,
} from "./_fake_openai_replies.ts";

import type { Cassette } from "../model/cassette.ts";
import { cassetteHandler } from "./_fake_openai_cassette.ts";

export type { FakeFailure, FakeMalformed, FakeReply, FakeStep, FakeToolCall } from "./_fake_openai_replies.ts";

/** One request the fake server received. */
export interface RecordedRequest {
  /** The HTTP method. */
  method: string;
  /** The URL path, such as `/v1/chat/completions`. */
  path: string;
  /** The headers, names lowercase. */
  headers: Record<string, string>;
  /** The parsed JSON body, or `undefined` when there was none. */
  body: unknown;
  /** When it arrived, in epoch milliseconds. */
  receivedAt: number;
}

/** The options of {@linkcode startFakeOpenAI}. */
export interface FakeOpenAIOptions {
  /** Answers for the chat completion requests, used in order. More can be added with `enqueue`. */
  steps?: FakeStep[];
  /** Decides the answer once the scripted steps are used up. */
  handler?: (request: RecordedRequest) => FakeStep | Promise<FakeStep>;
  /** When set, a request whose `Authorization` is not `Bearer <this>` gets a 401. */
  requireApiKey?: string;
  /** The model ids `GET /v1/models` lists. Defaults to `["fake-model"]`. */
  models?: string[];
  /**
   * A cassette (file path or content) recorded with `FLUE_RECORD`: each chat completion request is matched against
   * the recorded requests and answered with the recorded reply, streamed in the recorded chunks. A request that
   * matches none gets a 400 whose message names the first differing field. Used instead of `steps` and `handler`.
   */
  cassette?: string | Cassette;
}

/** A running fake server. */
export interface FakeOpenAIServer {
  /** The base URL to give the SDK, ending in `/v1`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /**
   * Adds answers after those already scripted.
   *
   * @param steps The answers.
   */
  enqueue(...steps: FakeStep[]): void;
  /**
   * Stops the server, ending slow answers and streams in progress.
   *
   * @returns Once every connection is closed.
   */
  close(): Promise<void>;
  /** Same as `close`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a fake OpenAI-compatible server on 127.0.0.1, on a free port. With no step left and no handler, a chat
 * completion request gets a 500 saying the script is exhausted.
 *
 * Needs `--allow-net=127.0.0.1`.
 *
 * @example Serve one scripted reply to the SDK
 * ```ts
 * import OpenAI from "openai";
 * import { startFakeOpenAI } from "./fake_openai.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * await using server = startFakeOpenAI({ steps: [{ text: "Hello there" }] });
 * const client = new OpenAI({ apiKey: "sk-test", baseURL: server.url });
 * const completion = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Hi" }] });
 * deepStrictEqual(completion.choices[0].message.content, "Hello there");
 * ```
 *
 * @param options Scripted steps, a handler, a required key and the model list.
 * @returns The running server.
 */
export function startFakeOpenAI(options: FakeOpenAIOptions = {}): FakeOpenAIServer {
  if (options.requireApiKey !== undefined && (typeof options.requireApiKey !== "string" || !options.requireApiKey)) {
    throw new TypeError("Invalid requireApiKey: expected a non-empty string");
  }
  if (options.cassette !== undefined && (options.steps !== undefined || options.handler !== undefined)) {
    throw new TypeError("A fake server replays a cassette or follows steps and a handler, not both: choose one");
  }
  const handler = options.cassette === undefined ? options.handler : cassetteHandler(options.cassette);
  const queue: FakeStep[] = [...(options.steps ?? [])];
  const requests: RecordedRequest[] = [];
  const closing = new AbortController();
  let callCount = 0;
  let callIds = 0;

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    onError: (error) => json(500, errorBody(`The fake server failed: ${String(error)}`, "server_error")),
  }, async (request) => {
    const url = new URL(request.url);
    const text = await request.text();
    let body: unknown;
    let bodyIsValid = true;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      bodyIsValid = false;
    }
    const recorded: RecordedRequest = {
      method: request.method,
      path: url.pathname,
      headers: Object.fromEntries(request.headers),
      body,
      receivedAt: Date.now(),
    };
    requests.push(recorded);
    if (
      options.requireApiKey !== undefined && request.headers.get("authorization") !== `Bearer ${options.requireApiKey}`
    ) {
      return json(401, errorBody("Incorrect API key provided", "invalid_request_error", "invalid_api_key"));
    }
    if (url.pathname === "/v1/models" && request.method === "GET") {
      const created = Math.floor(Date.now() / 1000);
      const data = (options.models ?? ["fake-model"]).map((id) => ({ id, object: "model", created, owned_by: "flue" }));
      return json(200, { object: "list", data });
    }
    if (url.pathname !== "/v1/chat/completions") {
      return json(404, errorBody(`Unknown path "${url.pathname}"`, "invalid_request_error", "unknown_url"));
    }
    if (request.method !== "POST") {
      return json(405, errorBody(`Use POST for ${url.pathname}`, "invalid_request_error"));
    }
    if (!bodyIsValid || typeof body !== "object" || body === null) {
      return json(400, errorBody("The request body is not a JSON object", "invalid_request_error"));
    }
    const step = queue.shift() ?? await handler?.(recorded);
    if (step === undefined) {
      return json(
        500,
        errorBody(
          `The fake OpenAI server's script is exhausted after ${callCount} chat completion(s): ` +
            `enqueue() more steps or pass a handler`,
          "server_error",
          "script_exhausted",
        ),
      );
    }
    callCount++;
    // Not `request.signal`: it also aborts after every successful response, which Deno warns about. Waits a client
    // gave up on end when the server closes.
    return await answer(step, body as Record<string, unknown>, closing.signal, () => `call_${callCount}_${++callIds}`);
  });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing.abort();
      await server.shutdown();
    })();
    return closed;
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1`,
    port: server.addr.port,
    requests,
    enqueue: (...steps: FakeStep[]) => void queue.push(...steps),
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function answer(
  step: FakeStep,
  body: Record<string, unknown>,
  signal: AbortSignal,
  nextCallId: () => string,
): Promise<Response> {
  if ("status" in step) return failure(step);
  const isStream = body.stream === true;
  if ("malformed" in step) {
    // The JSON is cut off mid-string: a parser fails on it whether it arrives whole or as an SSE event.
    const broken = `{"id":"chatcmpl-broken","object":"chat.completion${
      isStream ? ".chunk" : ""
    }","choices":[{"index":0,"`;
    return isStream
      ? new Response(`data: ${broken}\n\n`, { headers: { "content-type": "text/event-stream" } })
      : new Response(broken, { headers: { "content-type": "application/json" } });
  }
  const reply: FakeReply = step;
  if (reply.delayMs && !(await wait(reply.delayMs, signal))) {
    return json(503, errorBody("The fake server is closing", "server_error"));
  }
  const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
  const context: ReplyContext = {
    model: typeof body.model === "string" ? body.model : "fake-model",
    messages: body.messages,
    includeUsage: isStream && streamOptions?.include_usage === true,
    nextCallId,
  };
  if (!isStream) return json(200, completionBody(reply, context));
  const frames = streamFrames(reply, context);
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next >= frames.length) return controller.close();
      const isOn = next === 0 || !reply.chunkDelayMs || await wait(reply.chunkDelayMs, signal);
      try {
        if (isOn) controller.enqueue(frames[next++]);
        if (!isOn || next === frames.length) controller.close();
      } catch {
        // The client went away while we waited; the stream is already cancelled.
      }
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
  });
}

function failure(step: FakeFailure): Response {
  if (!Number.isInteger(step.status) || step.status < 400 || step.status > 599) {
    throw new RangeError(`Invalid fake failure status ${JSON.stringify(step.status)}: use 400 to 599`);
  }
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (step.retryAfter !== undefined) headers["retry-after"] = String(step.retryAfter);
  if (step.retryAfterMs !== undefined) headers["retry-after-ms"] = String(step.retryAfterMs);
  const type = step.status === 429 ? "rate_limit_error" : step.status >= 500 ? "server_error" : "invalid_request_error";
  const message = step.message ??
    (step.status === 429 ? "Rate limit reached" : `The fake server failed (${step.status})`);
  return new Response(JSON.stringify(errorBody(message, type, step.code ?? null)), { status: step.status, headers });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** Waits `ms`, or less if `signal` aborts; says whether the whole wait passed. */
function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
