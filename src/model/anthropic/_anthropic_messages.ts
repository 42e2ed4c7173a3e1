/**
 * The Anthropic Messages API on the wire: the request body built from a provider-neutral `ModelRequest`, and the
 * streamed events assembled into a `ModelReply`.
 *
 * @module
 */

import type { ModelReply, ModelRequest, StopReason, ThinkingLevel } from "../chat_model.ts";
import type { Message, ToolCall } from "../message.ts";

/** The output token cap sent when no thinking budget raises it; the API requires one. */
export const DEFAULT_MAX_TOKENS = 8192;

// Extended thinking budgets per level, in tokens; the API's minimum is 1024.
const THINKING_BUDGET: Record<Exclude<ThinkingLevel, "off">, number> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16_384,
  xhigh: 32_000,
};

type ContentBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "tool_result"; tool_use_id: string; content: string; is_error?: boolean };

interface AnthropicMessage {
  role: "user" | "assistant";
  content: ContentBlock[];
}

/**
 * The body of `POST /v1/messages`, streaming.
 *
 * @param request The model request.
 * @param model The provider's model name.
 * @returns The JSON body.
 */
export function messagesRequestBody(request: ModelRequest, model: string): Record<string, unknown> {
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  const push = (role: AnthropicMessage["role"], blocks: ContentBlock[]) => {
    if (blocks.length === 0) return;
    const last = messages.at(-1);
    // The API wants user and assistant turns to alternate, and tool results in the user turn after the calls.
    if (last?.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const message of request.messages) push(...toBlocks(message, system));
  const body: Record<string, unknown> = { model, max_tokens: DEFAULT_MAX_TOKENS, messages, stream: true };
  if (system.length > 0) body.system = system.join("\n\n");
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      input_schema: tool.parameters,
    }));
  }
  const level = request.thinkingLevel;
  // Thinking is asked for only where a turn starts: continuing a tool loop with thinking on would need the signed
  // thinking blocks of the previous reply, which the provider-neutral history does not keep.
  if (level !== undefined && level !== "off" && request.messages.at(-1)?.role === "user") {
    const budget = THINKING_BUDGET[level];
    body.thinking = { type: "enabled", budget_tokens: budget };
    body.max_tokens = budget + DEFAULT_MAX_TOKENS;
  }
  return body;
}

function toBlocks(message: Message, system: string[]): [AnthropicMessage["role"], ContentBlock[]] {
  switch (message.role) {
    case "system":
      system.push(message.content);
      return ["user", []];
    case "user":
      return ["user", message.content === "" ? [] : [{ type: "text", text: message.content }]];
    case "assistant": {
      const blocks: ContentBlock[] = message.content === "" ? [] : [{ type: "text", text: message.content }];
      for (const call of message.toolCalls ?? []) {
        blocks.push({ type: "tool_use", id: call.id, name: call.name, input: parseArguments(call.arguments) });
      }
      return ["assistant", blocks];
    }
    case "tool":
      return ["user", [{
        type: "tool_result",
        tool_use_id: message.toolCallId,
        content: message.content,
        ...(message.isError ? { is_error: true } : {}),
      }]];
  }
}

function parseArguments(text: string): unknown {
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

/** An `error` event inside a stream that had started. */
export class StreamedError extends Error {
  /** The API's error type, such as `overloaded_error`. */
  readonly type: string;

  /**
   * Creates the error.
   *
   * @param type The API's error type.
   * @param message Its message.
   */
  constructor(type: string, message: string) {
    super(message);
    this.name = "StreamedError";
    this.type = type;
  }
}

/** Text and reasoning that one event added. */
export interface Deltas {
  /** New answer text. */
  text: string;
  /** New reasoning text. */
  thinking: string;
}

/** Collects the streamed events of one reply. */
export class MessageAssembler {
  #text = "";
  #calls: Array<ToolCall | undefined> = [];
  #inputTokens = 0;
  #outputTokens = 0;
  #stopReason: StopReason = "other";
  #model: string;
  #isFinished = false;

  /**
   * Starts a reply.
   *
   * @param model The model name asked for, reported when the stream names none.
   */
  constructor(model: string) {
    this.#model = model;
  }

  /**
   * Adds one server-sent event.
   *
   * @param event The event's name.
   * @param data Its JSON data.
   * @returns The text and reasoning it added.
   * @throws {StreamedError} For an `error` event.
   * @throws {SyntaxError} For data that is not JSON.
   */
  add(event: string, data: string): Deltas {
    const deltas = { text: "", thinking: "" };
    if (event === "ping") return deltas;
    const value = JSON.parse(data);
    switch (value.type) {
      case "message_start": {
        const message = value.message ?? {};
        if (typeof message.model === "string" && message.model) this.#model = message.model;
        const usage = message.usage ?? {};
        this.#inputTokens = (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) +
          (usage.cache_read_input_tokens ?? 0);
        this.#outputTokens = usage.output_tokens ?? 0;
        break;
      }
      case "content_block_start": {
        const block = value.content_block ?? {};
        if (block.type === "tool_use") {
          this.#calls[value.index] = { id: String(block.id), name: String(block.name), arguments: "" };
        } else if (block.type === "text" && block.text) {
          this.#text += block.text;
          deltas.text = block.text;
        }
        break;
      }
      case "content_block_delta": {
        const delta = value.delta ?? {};
        if (delta.type === "text_delta") {
          this.#text += delta.text;
          deltas.text = delta.text;
        } else if (delta.type === "thinking_delta") {
          deltas.thinking = delta.thinking;
        } else if (delta.type === "input_json_delta") {
          const call = this.#calls[value.index];
          if (call) call.arguments += delta.partial_json;
        }
        break;
      }
      case "message_delta":
        if (value.delta?.stop_reason) this.#stopReason = stopReasonOf(value.delta.stop_reason);
        if (typeof value.usage?.output_tokens === "number") this.#outputTokens = value.usage.output_tokens;
        break;
      case "message_stop":
        this.#isFinished = true;
        break;
      case "error":
        throw new StreamedError(String(value.error?.type ?? "error"), String(value.error?.message ?? data));
    }
    return deltas;
  }

  /**
   * The reply.
   *
   * @returns The assembled reply.
   * @throws {SyntaxError} When the stream ended before `message_stop`.
   */
  finish(): ModelReply {
    if (!this.#isFinished) throw new SyntaxError("the stream ended before message_stop");
    const toolCalls = this.#calls.filter((call): call is ToolCall => call !== undefined)
      .map((call) => ({ ...call, arguments: call.arguments === "" ? "{}" : call.arguments }));
    return {
      text: this.#text,
      toolCalls,
      usage: {
        inputTokens: this.#inputTokens,
        outputTokens: this.#outputTokens,
        totalTokens: this.#inputTokens + this.#outputTokens,
      },
      stopReason: this.#stopReason,
      model: this.#model,
    };
  }
}

function stopReasonOf(reason: string): StopReason {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "tool_use":
      return "tool_calls";
    case "max_tokens":
      return "length";
    case "refusal":
      return "content_filter";
    default:
      return "other";
  }
}
