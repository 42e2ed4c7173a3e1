/**
 * Turns Chat Completions replies, streamed chunks or one completion, into a provider-neutral `ModelReply`, checking
 * their shape on the way since providers differ and some send broken replies under load.
 *
 * @module
 */

import type { ModelReply, StopReason } from "../chat_model.ts";
import type { ToolCall, Usage } from "../message.ts";
import { emptyUsage } from "../message.ts";

/** A reply whose shape is not a Chat Completions reply; worth a retry. */
export class MalformedReplyError extends Error {
  /**
   * @param message What was wrong.
   */
  constructor(message: string) {
    super(message);
    this.name = "MalformedReplyError";
  }
}

/** The text and reasoning a chunk added, for the callbacks. */
export interface ChunkDeltas {
  /** New assistant text. */
  text: string;
  /** New reasoning text. */
  thinking: string;
}

interface PartialToolCall {
  index: number;
  id: string;
  name: string;
  arguments: string;
}

/** Collects streamed chunks: text, reasoning, tool calls assembled by index, the finish reason and usage. */
export class StreamAssembler {
  #text = "";
  #calls: PartialToolCall[] = [];
  #finishReason: string | undefined;
  #usage: Usage | undefined;
  #model: string;

  /**
   * @param model The model name to report when the provider names none.
   */
  constructor(model: string) {
    this.#model = model;
  }

  /**
   * Adds one chunk.
   *
   * @param chunk The parsed chunk as the SDK yields it.
   * @returns The text and reasoning it added.
   * @throws {MalformedReplyError} When the chunk is not a chat completion chunk.
   */
  add(chunk: unknown): ChunkDeltas {
    if (!isRecord(chunk)) throw new MalformedReplyError(`a stream chunk is ${describe(chunk)}, not an object`);
    if (typeof chunk.model === "string" && chunk.model !== "") this.#model = chunk.model;
    if (isRecord(chunk.usage)) this.#usage = toUsage(chunk.usage);
    const deltas: ChunkDeltas = { text: "", thinking: "" };
    if (chunk.choices === undefined || chunk.choices === null) return deltas;
    if (!Array.isArray(chunk.choices)) throw new MalformedReplyError('a stream chunk has no "choices" array');
    for (const choice of chunk.choices) {
      if (!isRecord(choice)) throw new MalformedReplyError("a stream chunk has a choice that is not an object");
      if ((choice.index ?? 0) !== 0) continue;
      if (typeof choice.finish_reason === "string") this.#finishReason = choice.finish_reason;
      const delta = choice.delta;
      if (delta === undefined || delta === null) continue;
      if (!isRecord(delta)) throw new MalformedReplyError("a stream chunk has a delta that is not an object");
      if (typeof delta.content === "string") deltas.text += delta.content;
      deltas.thinking += reasoningOf(delta);
      if (Array.isArray(delta.tool_calls)) this.#addToolCalls(delta.tool_calls);
    }
    this.#text += deltas.text;
    return deltas;
  }

  /**
   * The reply, once the stream has ended.
   *
   * @returns The assembled reply.
   * @throws {MalformedReplyError} When the stream ended before a finish reason arrived (a cut-off stream).
   */
  finish(): ModelReply {
    if (this.#finishReason === undefined) {
      throw new MalformedReplyError("the stream ended before the model finished (no finish_reason)");
    }
    const toolCalls = this.#calls.map((call): ToolCall => ({
      id: call.id,
      name: call.name,
      arguments: call.arguments === "" ? "{}" : call.arguments,
    }));
    return {
      text: this.#text,
      toolCalls,
      usage: this.#usage ?? emptyUsage(),
      stopReason: toStopReason(this.#finishReason, toolCalls.length > 0),
      model: this.#model,
    };
  }

  #addToolCalls(deltas: unknown[]): void {
    deltas.forEach((delta, position) => {
      if (!isRecord(delta)) throw new MalformedReplyError("a streamed tool call is not an object");
      const index = typeof delta.index === "number" ? delta.index : position;
      const id = typeof delta.id === "string" && delta.id !== "" ? delta.id : undefined;
      const fn = isRecord(delta.function) ? delta.function : {};
      let call = this.#calls.findLast((candidate) => candidate.index === index);
      // Some servers reuse index 0 for every call; a new id at a used index starts a new call.
      if (!call || (id !== undefined && call.id !== id && call.name !== "")) {
        call = { index, id: id ?? `call_${this.#calls.length}`, name: "", arguments: "" };
        this.#calls.push(call);
      }
      // The name arrives whole in the first delta; later deltas that repeat it must not double it.
      if (typeof fn.name === "string" && call.name === "") call.name = fn.name;
      if (typeof fn.arguments === "string") call.arguments += fn.arguments;
    });
  }
}

/** A non-streamed reply and the reasoning text that came with it. */
export interface CompletionReply {
  /** The reply. */
  reply: ModelReply;
  /** Reasoning text, where the provider sends it. */
  thinking: string;
}

/**
 * Reads a non-streamed completion.
 *
 * @param completion The parsed body as the SDK returns it.
 * @param fallbackModel The model name to report when the provider names none.
 * @returns The reply and any reasoning text.
 * @throws {MalformedReplyError} When the body is not a chat completion.
 */
export function replyFromCompletion(completion: unknown, fallbackModel: string): CompletionReply {
  if (!isRecord(completion)) throw new MalformedReplyError(`the reply body is ${describe(completion)}, not an object`);
  const choice = Array.isArray(completion.choices) ? completion.choices[0] : undefined;
  if (!isRecord(choice) || !isRecord(choice.message)) {
    throw new MalformedReplyError("the reply has no choices[0].message");
  }
  const message = choice.message;
  const toolCalls: ToolCall[] = [];
  for (const [position, call] of (Array.isArray(message.tool_calls) ? message.tool_calls : []).entries()) {
    if (!isRecord(call) || !isRecord(call.function) || typeof call.function.name !== "string") {
      throw new MalformedReplyError("the reply has a tool call without a function name");
    }
    const args = call.function.arguments;
    toolCalls.push({
      id: typeof call.id === "string" && call.id !== "" ? call.id : `call_${position}`,
      name: call.function.name,
      arguments: typeof args === "string" && args !== "" ? args : "{}",
    });
  }
  const finishReason = typeof choice.finish_reason === "string" ? choice.finish_reason : "stop";
  return {
    reply: {
      text: typeof message.content === "string" ? message.content : "",
      toolCalls,
      usage: isRecord(completion.usage) ? toUsage(completion.usage) : emptyUsage(),
      stopReason: toStopReason(finishReason, toolCalls.length > 0),
      model: typeof completion.model === "string" && completion.model !== "" ? completion.model : fallbackModel,
    },
    thinking: reasoningOf(message),
  };
}

function toStopReason(finishReason: string, hasToolCalls: boolean): StopReason {
  // Some servers (Ollama among them) report "stop" on a turn that called tools.
  if (hasToolCalls) return "tool_calls";
  switch (finishReason) {
    case "stop":
    case "length":
    case "content_filter":
    case "tool_calls":
      return finishReason;
    case "function_call":
      return "tool_calls";
    default:
      return "other";
  }
}

function toUsage(usage: Record<string, unknown>): Usage {
  const inputTokens = count(usage.prompt_tokens);
  const outputTokens = count(usage.completion_tokens);
  const total = count(usage.total_tokens);
  return { inputTokens, outputTokens, totalTokens: total > 0 ? total : inputTokens + outputTokens };
}

function reasoningOf(part: Record<string, unknown>): string {
  // DeepSeek sends `reasoning_content`; OpenRouter, Ollama and vLLM send `reasoning`.
  if (typeof part.reasoning_content === "string") return part.reasoning_content;
  if (typeof part.reasoning === "string") return part.reasoning;
  return "";
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.floor(value) : 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? "a string" : `of type ${typeof value}`;
}
