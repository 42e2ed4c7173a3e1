/**
 * Local fakes of the HTTP APIs of Anthropic (Messages, SSE), Google (Gemini and Vertex `streamGenerateContent`, SSE)
 * and Amazon Bedrock (`converse-stream`, AWS event stream) on 127.0.0.1, for tests of the real clients. Each serves
 * scripted steps in order and records every request.
 *
 * @module
 */

/** One scripted answer: text, tool calls, or a failure status. */
export interface FakeProviderStep {
  /** Text of the reply, streamed in two pieces. */
  text?: string;
  /** Reasoning text, streamed before the answer (Anthropic and Google). */
  thinking?: string;
  /** Tool calls of the reply. */
  toolCalls?: { name: string; arguments: Record<string, unknown> }[];
  /** Answer with this HTTP status and an error body instead. */
  status?: number;
  /** Sent with a failure status as `retry-after` (seconds). */
  retryAfter?: string;
}

/** One request the fake received. */
export interface FakeProviderRequest {
  /** The path and query. */
  path: string;
  /** The headers, names lowercase. */
  headers: Record<string, string>;
  /** The parsed JSON body. */
  body: Record<string, unknown>;
}

/** A running fake. */
export interface FakeProvider {
  /** The origin, such as `http://127.0.0.1:4321`. */
  origin: string;
  /** Every request received. */
  requests: FakeProviderRequest[];
  /** Stops the server. */
  close(): Promise<void>;
}

/** Which API the fake speaks. */
export type FakeProviderKind = "anthropic" | "google" | "bedrock";

/**
 * Starts a fake on 127.0.0.1, port 0.
 *
 * @param kind The API.
 * @param steps The answers, in order; a request past the last gets a 500.
 * @returns The running fake.
 */
export function startProviderFake(kind: FakeProviderKind, steps: FakeProviderStep[]): FakeProvider {
  const requests: FakeProviderRequest[] = [];
  const queue = [...steps];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const text = await request.text();
    requests.push({
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
      body: text ? JSON.parse(text) : {},
    });
    const step = queue.shift() ?? { status: 500 };
    if (step.status !== undefined) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (step.retryAfter) headers["retry-after"] = step.retryAfter;
      const error = kind === "anthropic"
        ? {
          type: "error",
          error: { type: step.status === 529 ? "overloaded_error" : "api_error", message: "scripted" },
        }
        : { error: { code: step.status, message: "scripted failure", status: "UNAVAILABLE" } };
      return new Response(JSON.stringify(error), { status: step.status, headers });
    }
    if (kind === "anthropic") return sse(anthropicEvents(step, String((JSON.parse(text) as { model: string }).model)));
    if (kind === "google") return sse(googleEvents(step).map((data) => ({ data })));
    return new Response(bedrockFrames(step), { headers: { "content-type": "application/vnd.amazon.eventstream" } });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}

function sse(events: { event?: string; data: unknown }[]): Response {
  const body = events.map(({ event, data }) => `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`)
    .join("");
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

function halves(text: string): string[] {
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)].filter((part) => part !== "");
}

function anthropicEvents(step: FakeProviderStep, model: string): { event: string; data: unknown }[] {
  const events: { event: string; data: unknown }[] = [];
  const add = (event: string, data: Record<string, unknown>) => events.push({ event, data: { type: event, ...data } });
  add("message_start", {
    message: { id: "msg_fake", type: "message", role: "assistant", model, content: [], usage: { input_tokens: 21 } },
  });
  let index = 0;
  if (step.thinking) {
    add("content_block_start", { index, content_block: { type: "thinking", thinking: "" } });
    add("content_block_delta", { index, delta: { type: "thinking_delta", thinking: step.thinking } });
    add("content_block_stop", { index: index++ });
  }
  if (step.text) {
    add("content_block_start", { index, content_block: { type: "text", text: "" } });
    for (const part of halves(step.text)) {
      add("content_block_delta", { index, delta: { type: "text_delta", text: part } });
    }
    add("content_block_stop", { index: index++ });
  }
  events.push({ event: "ping", data: { type: "ping" } });
  for (const call of step.toolCalls ?? []) {
    add("content_block_start", {
      index,
      content_block: { type: "tool_use", id: `toolu_${index}`, name: call.name, input: {} },
    });
    for (const part of halves(JSON.stringify(call.arguments))) {
      add("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: part } });
    }
    add("content_block_stop", { index: index++ });
  }
  add("message_delta", {
    delta: { stop_reason: step.toolCalls?.length ? "tool_use" : "end_turn" },
    usage: { output_tokens: 7 },
  });
  add("message_stop", {});
  return events;
}

function googleEvents(step: FakeProviderStep): unknown[] {
  const chunks: unknown[] = [];
  const candidate = (parts: unknown[], finishReason?: string) => ({
    candidates: [{ content: { role: "model", parts }, ...(finishReason ? { finishReason } : {}) }],
  });
  if (step.thinking) chunks.push(candidate([{ text: step.thinking, thought: true }]));
  for (const part of halves(step.text ?? "")) chunks.push(candidate([{ text: part }]));
  const calls = (step.toolCalls ?? []).map((call) => ({ functionCall: { name: call.name, args: call.arguments } }));
  chunks.push({
    ...candidate(calls, "STOP"),
    usageMetadata: { promptTokenCount: 21, candidatesTokenCount: 7, totalTokenCount: 28 },
  });
  return chunks;
}

function bedrockFrames(step: FakeProviderStep): Uint8Array<ArrayBuffer> {
  const frames: Uint8Array[] = [];
  const add = (eventType: string, body: unknown) => frames.push(eventFrame(eventType, body));
  add("messageStart", { role: "assistant" });
  let index = 0;
  if (step.text) {
    for (const part of halves(step.text)) add("contentBlockDelta", { contentBlockIndex: index, delta: { text: part } });
    add("contentBlockStop", { contentBlockIndex: index++ });
  }
  for (const call of step.toolCalls ?? []) {
    add("contentBlockStart", {
      contentBlockIndex: index,
      start: { toolUse: { toolUseId: `tooluse_${index}`, name: call.name } },
    });
    add("contentBlockDelta", {
      contentBlockIndex: index,
      delta: { toolUse: { input: JSON.stringify(call.arguments) } },
    });
    add("contentBlockStop", { contentBlockIndex: index++ });
  }
  add("messageStop", { stopReason: step.toolCalls?.length ? "tool_use" : "end_turn" });
  add("metadata", { usage: { inputTokens: 21, outputTokens: 7, totalTokens: 28 }, metrics: { latencyMs: 1 } });
  const joined = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0));
  let offset = 0;
  for (const frame of frames) {
    joined.set(frame, offset);
    offset += frame.length;
  }
  return joined;
}

// One message of the AWS event stream encoding: prelude (lengths and their CRC32), string headers, JSON body, CRC32.
function eventFrame(eventType: string, payload: unknown): Uint8Array {
  const encoder = new TextEncoder();
  const headerBytes: number[] = [];
  for (
    const [name, value] of [[":event-type", eventType], [":message-type", "event"], [
      ":content-type",
      "application/json",
    ]]
  ) {
    const nameBytes = encoder.encode(name);
    const valueBytes = encoder.encode(value);
    headerBytes.push(
      nameBytes.length,
      ...nameBytes,
      7,
      valueBytes.length >> 8,
      valueBytes.length & 0xff,
      ...valueBytes,
    );
  }
  const body = encoder.encode(JSON.stringify(payload));
  const total = 12 + headerBytes.length + body.length + 4;
  const frame = new Uint8Array(total);
  const view = new DataView(frame.buffer);
  view.setUint32(0, total);
  view.setUint32(4, headerBytes.length);
  view.setUint32(8, crc32(frame.subarray(0, 8)));
  frame.set(headerBytes, 12);
  frame.set(body, 12 + headerBytes.length);
  view.setUint32(total - 4, crc32(frame.subarray(0, total - 4)));
  return frame;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}
