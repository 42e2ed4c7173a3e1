/**
 * The bodies the fake OpenAI server sends: chat completions, streamed chunks in OpenAI's exact SSE framing, and errors.
 *
 * @module
 */

/** A tool call the fake model makes. */
export interface FakeToolCall {
  /** The tool's name. */
  name: string;
  /** The arguments, as JSON text (sent as is, even if broken) or as an object (serialized). */
  arguments: string | Record<string, unknown>;
  /** The call id; `call_<n>` when omitted. */
  id?: string;
}

/** A scripted reply. */
export interface FakeReply {
  /** The assistant text, split into several deltas when streamed. */
  text?: string;
  /** Reasoning text, sent as `reasoning_content` (the DeepSeek form). */
  reasoning?: string;
  /** The streamed text deltas exactly, instead of `text` split at words (a replayed cassette's chunks). */
  textDeltas?: string[];
  /** The streamed reasoning deltas exactly, instead of `reasoning` split at words. */
  reasoningDeltas?: string[];
  /** Tool calls, several allowed; their arguments are split across chunks when streamed. */
  toolCalls?: FakeToolCall[];
  /** Token counts to report; estimated from the text lengths when omitted. */
  usage?: { inputTokens?: number; outputTokens?: number };
  /** Waits this long before answering at all, to make a slow response. */
  delayMs?: number;
  /** Waits this long between streamed chunks. */
  chunkDelayMs?: number;
  /** The finish reason; `tool_calls` when there are tool calls, otherwise `stop`. */
  finishReason?: string;
  /** Ends a streamed reply after this many chunks, as a dropped connection would: no finish reason, no `[DONE]`. */
  cutAfterChunks?: number;
}

/** A scripted HTTP failure, with OpenAI's error body. */
export interface FakeFailure {
  /** The status, such as 429, 500, 502 or 503. */
  status: number;
  /** Sent as `retry-after`, in seconds. */
  retryAfter?: number;
  /** Sent as `retry-after-ms`. */
  retryAfterMs?: number;
  /** The error message in the body. */
  message?: string;
  /** The error code in the body, such as `insufficient_quota`. */
  code?: string;
}

/** A scripted broken reply: truncated JSON, or an SSE event whose data is truncated JSON. */
export interface FakeMalformed {
  /** Always `true`. */
  malformed: true;
}

/** One scripted answer of the fake server. */
export type FakeStep = FakeReply | FakeFailure | FakeMalformed;

/** What a reply needs to know about the request it answers. */
export interface ReplyContext {
  /** The requested model. */
  model: string;
  /** The request's `messages`, for the usage estimate. */
  messages: unknown;
  /** Whether a usage chunk was asked for (`stream_options.include_usage`). */
  includeUsage: boolean;
  /** Makes the next tool call id. */
  nextCallId: () => string;
}

const encoder = new TextEncoder();

/**
 * The non-streamed `chat.completion` body for a reply.
 *
 * @param step The reply.
 * @param context The request's model and messages.
 * @returns The JSON body.
 */
export function completionBody(step: FakeReply, context: ReplyContext): Record<string, unknown> {
  const calls = toolCallsOf(step, context);
  const message: Record<string, unknown> = {
    role: "assistant",
    content: step.text ?? (calls.length > 0 ? null : ""),
    refusal: null,
  };
  if (step.reasoning !== undefined) message.reasoning_content = step.reasoning;
  if (calls.length > 0) {
    message.tool_calls = calls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  return {
    id: completionId(),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: context.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasonOf(step, calls.length) }],
    usage: usageOf(step, context, calls),
    system_fingerprint: "fp_fake",
  };
}

/**
 * The SSE events of a streamed reply, each a complete `data: ...\n\n` frame, ending with `data: [DONE]`.
 *
 * @param step The reply.
 * @param context The request's model and messages, and whether usage was asked for.
 * @returns The frames, encoded.
 */
export function streamFrames(step: FakeReply, context: ReplyContext): Uint8Array[] {
  const calls = toolCallsOf(step, context);
  const id = completionId();
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], usage: unknown = null) => {
    const body: Record<string, unknown> = {
      id,
      object: "chat.completion.chunk",
      created,
      model: context.model,
      system_fingerprint: "fp_fake",
      choices,
    };
    if (context.includeUsage) body.usage = usage;
    return encoder.encode(`data: ${JSON.stringify(body)}\n\n`);
  };
  const delta = (value: Record<string, unknown>) => [{ index: 0, delta: value, logprobs: null, finish_reason: null }];
  const frames = [chunk(delta({ role: "assistant", content: "", refusal: null }))];
  for (const piece of step.reasoningDeltas ?? splitText(step.reasoning ?? "")) {
    frames.push(chunk(delta({ reasoning_content: piece })));
  }
  for (const piece of step.textDeltas ?? splitText(step.text ?? "")) frames.push(chunk(delta({ content: piece })));
  calls.forEach((call, index) => {
    frames.push(chunk(delta({
      tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }],
    })));
    for (const piece of splitInThree(call.arguments)) {
      frames.push(chunk(delta({ tool_calls: [{ index, function: { arguments: piece } }] })));
    }
  });
  frames.push(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finishReasonOf(step, calls.length) }]));
  if (context.includeUsage) frames.push(chunk([], usageOf(step, context, calls)));
  frames.push(encoder.encode("data: [DONE]\n\n"));
  return step.cutAfterChunks === undefined ? frames : frames.slice(0, Math.max(0, step.cutAfterChunks));
}

/**
 * OpenAI's error body.
 *
 * @param message The error message.
 * @param type The error type, such as `invalid_request_error`.
 * @param code The error code, if any.
 * @returns The JSON body.
 */
export function errorBody(message: string, type: string, code: string | null = null): Record<string, unknown> {
  return { error: { message, type, param: null, code } };
}

/**
 * Splits text into several deltas at word boundaries, or in two for a single word.
 *
 * @param text The text.
 * @returns The pieces, none empty; joined they give `text`.
 */
export function splitText(text: string): string[] {
  if (text === "") return [];
  const words = text.match(/\s*\S+\s*/g);
  if (words && words.length > 1 && words.join("") === text) return words;
  return halves(text);
}

function halves(text: string): string[] {
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)].filter((piece) => piece !== "");
}

function splitInThree(text: string): string[] {
  if (text.length < 3) return text === "" ? [] : [text];
  const third = Math.ceil(text.length / 3);
  return [text.slice(0, third), text.slice(third, 2 * third), text.slice(2 * third)].filter((piece) => piece !== "");
}

function toolCallsOf(step: FakeReply, context: ReplyContext): { id: string; name: string; arguments: string }[] {
  return (step.toolCalls ?? []).map((call) => ({
    id: call.id ?? context.nextCallId(),
    name: call.name,
    arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
  }));
}

function finishReasonOf(step: FakeReply, callCount: number): string {
  return step.finishReason ?? (callCount > 0 ? "tool_calls" : "stop");
}

function usageOf(
  step: FakeReply,
  context: ReplyContext,
  calls: { arguments: string }[],
): Record<string, number> {
  const produced = (step.text ?? "") + (step.reasoning ?? "") + calls.map((call) => call.arguments).join("");
  const promptTokens = step.usage?.inputTokens ?? Math.ceil(JSON.stringify(context.messages ?? "").length / 4);
  const completionTokens = step.usage?.outputTokens ?? Math.max(1, Math.ceil(produced.length / 4));
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

function completionId(): string {
  return `chatcmpl-${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
}
