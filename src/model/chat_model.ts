/**
 * The contract between a harness and a model: one call in, one reply out, text streamed through callbacks.
 *
 * @module
 */

import type { Message, ToolCall, Usage } from "./message.ts";

/** The context window assumed for a model that states none: small enough for most models served today. */
export const DEFAULT_CONTEXT_WINDOW: number = 32_000;

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

/**
 * Which operation a model call serves. Real models ignore it; key-less test models (a `FunctionModel`'s function)
 * can use it to answer a skill, a role or a subagent task differently.
 */
export interface ModelCallContext {
  /** The agent's name. */
  agent: string;
  /** The agent instance id. */
  instanceId: string;
  /** The session name. */
  session: string;
  /** The operation's id, as in its events. */
  operationId: string;
  /**
   * The kind of operation: `prompt`, `skill` or `compact` (a summarising call). A subagent's session runs its own
   * operations (a `prompt`), marked by `taskId` and `taskDepth`.
   */
  operationKind: "prompt" | "skill" | "task" | "shell" | "compact";
  /** The skill being run, for a skill call. */
  skill?: string;
  /** The role in force, if any. */
  role?: string;
  /** The subagent task this session runs, when it is a task's child session. */
  taskId?: string;
  /** How deep in the task tree the session is: 0 for a top-level session. */
  taskDepth: number;
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
  /**
   * `false` asks the provider for the whole reply at once instead of a stream; the callbacks are then called once each
   * with the whole text. When omitted, the model's own setting applies (streaming by default). Models that call no
   * endpoint ignore it.
   */
  stream?: boolean;
  /** Cancels the request, including the HTTP request underneath. */
  signal: AbortSignal;
  /** Called with each piece of text as it streams. */
  onTextDelta?: (text: string) => void;
  /** Called with each piece of reasoning text as it streams, where the provider sends it. */
  onThinkingDelta?: (text: string) => void;
  /** The operation the call serves, when a session makes it. */
  operation?: ModelCallContext;
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

/**
 * Where a model built from a model string is served: an OpenAI-compatible endpoint, Anthropic's Messages API, or a
 * provider of the AI SDK. Harnesses with their own provider clients (the `ai-sdk` harness) call the same endpoint
 * with it.
 */
export interface ModelEndpoint {
  /** The provider name, such as `openai` or `anthropic`. */
  provider: string;
  /** The provider's model name, such as `gpt-5.5`. */
  model: string;
  /** The API base URL, up to and including the version path. */
  baseURL: string;
  /** The API key; omitted for key-less endpoints. */
  apiKey?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** How long to wait for the response to start and between two streamed chunks, in milliseconds. */
  timeoutMs?: number;
  /** Retries after the first attempt of a transient failure. */
  maxRetries?: number;
  /** `false` when the provider is configured to answer whole replies rather than streams. */
  stream?: boolean;
  /**
   * Provider-specific values for providers reached through AI SDK provider packages (`google`, `vertex`, `bedrock`,
   * `azure`): region, project, location and credentials read from their usual variables.
   */
  settings?: Record<string, string>;
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
   * The most tokens one request may hold (prompt and tools). Sessions compact their history before it is reached; see
   * `docs/compaction.md`. When omitted, {@linkcode DEFAULT_CONTEXT_WINDOW} applies.
   */
  readonly contextWindow?: number;
  /**
   * The endpoint behind the model, for models built from a model string; omitted by models that call no endpoint
   * (`TestModel`, `FunctionModel`). It holds the API key, so implementations expose it as a getter that serialisation
   * and logging skip.
   */
  readonly endpoint?: ModelEndpoint;
  /**
   * Makes one call.
   *
   * @param request The conversation, tools and options.
   * @returns The reply.
   */
  complete(request: ModelRequest): Promise<ModelReply>;
}
