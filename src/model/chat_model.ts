/**
 * The contract between a harness and a model: one call in, one reply out, text streamed through callbacks.
 *
 * @module
 */

import type { Message, ToolCall, Usage } from "./message.ts";

/** How much the model should think before it answers, where the model takes such a hint. */
export type ThinkingLevel = "off" | "minimal" | "low" | "medium" | "high" | "xhigh";

/** A tool as the model sees it: a name, a description and the JSON Schema of its arguments. */
export interface ToolSchema {
  /** The tool's name. */
  name: string;
  /** What the tool does, for the model. */
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

/** A request for the provider's native structured output. */
export interface ResponseFormat {
  /** A short name for the schema (letters, digits, `_` and `-`). */
  name: string;
  /** JSON Schema the reply must satisfy. */
  schema: Record<string, unknown>;
}

/** One model call. */
export interface ModelRequest {
  /** The whole conversation, system message first. */
  messages: readonly Message[];
  /** The tools the model may call. */
  tools: readonly ToolSchema[];
  /** Native structured output, only sent when the model's `supportsStructuredOutput` is true. */
  responseFormat?: ResponseFormat;
  /** Reasoning effort hint. */
  thinkingLevel?: ThinkingLevel;
  /** Cancels the request, including the HTTP request underneath. */
  signal: AbortSignal;
  /** Called with each piece of text as it streams. */
  onTextDelta?: (text: string) => void;
  /** Called with each piece of reasoning text as it streams, where the provider sends it. */
  onThinkingDelta?: (text: string) => void;
}

/** Why the model stopped. */
export type StopReason = "stop" | "tool_calls" | "length" | "content_filter" | "other";

/** The model's reply to one call. */
export interface ModelReply {
  /** The assistant text (may be empty when only tools were called). */
  text: string;
  /** The tool calls, in the order the model made them. */
  toolCalls: ToolCall[];
  /** Tokens of this call. */
  usage: Usage;
  /** Why the model stopped. */
  stopReason: StopReason;
  /** The model id the provider reports. */
  model: string;
}

/** A model a harness can call. Built from a model string by `resolveModel`, or given directly (`TestModel`). */
export interface ChatModel {
  /** The full model string, such as `openai:gpt-5.5` or `test`. */
  readonly id: string;
  /** The provider name, such as `openai`. */
  readonly provider: string;
  /** Whether `responseFormat` (native JSON-schema output) is honoured. */
  readonly supportsStructuredOutput: boolean;
  /**
   * Makes one call.
   *
   * @param request The conversation, tools and options.
   * @returns The reply.
   */
  complete(request: ModelRequest): Promise<ModelReply>;
}
