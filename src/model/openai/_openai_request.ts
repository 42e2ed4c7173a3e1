/**
 * Builds the Chat Completions request body from a provider-neutral `ModelRequest`.
 *
 * @module
 */

import type OpenAI from "openai";
import type { ModelRequest, ThinkingLevel, ToolSchema } from "../chat_model.ts";
import type { Message } from "../message.ts";

/** The `reasoning_effort` values the Chat Completions API takes. */
export type ReasoningEffort = "none" | "minimal" | "low" | "medium" | "high" | "xhigh";

/** What shapes the request besides the `ModelRequest`. */
export interface RequestShape {
  /** The provider's model name. */
  model: string;
  /** Whether to stream. */
  stream: boolean;
  /** Whether `responseFormat` may be sent. */
  supportsStructuredOutput: boolean;
  /** The provider's reasoning setting. */
  reasoning?: "reasoning_effort" | "none";
}

/**
 * The request body, without `stream` settings applied by the SDK overloads.
 *
 * @param request The model request.
 * @param shape The model name and what the provider supports.
 * @returns The body for `chat.completions.create`.
 */
export function buildRequestBody(
  request: ModelRequest,
  shape: RequestShape,
): OpenAI.Chat.ChatCompletionCreateParams {
  const body: OpenAI.Chat.ChatCompletionCreateParams = {
    model: shape.model,
    messages: request.messages.map(cachedOpenAIMessage),
    stream: shape.stream,
  };
  if (shape.stream) body.stream_options = { include_usage: true };
  // Several providers reject an empty `tools` array, so an empty list is left out.
  if (request.tools.length > 0) {
    body.tools = request.tools.map(cachedOpenAITool);
  }
  const effort = reasoningEffortFor(request.thinkingLevel, shape.model, shape.reasoning);
  if (effort !== undefined) body.reasoning_effort = effort;
  if (request.responseFormat && shape.supportsStructuredOutput) {
    body.response_format = {
      type: "json_schema",
      // `strict: false` because strict mode rejects common schemas (optional fields, open objects) outright.
      json_schema: { name: request.responseFormat.name, schema: request.responseFormat.schema, strict: false },
    };
  }
  return body;
}

// Messages and tool schemas are never changed once made, and a loop resends the same objects every turn: mapping each
// once keeps a turn's cost proportional to its new messages rather than to the whole history.
const messageCache = new WeakMap<Message, OpenAI.Chat.ChatCompletionMessageParam>();
const toolCache = new WeakMap<ToolSchema, OpenAI.Chat.ChatCompletionTool>();

function cachedOpenAIMessage(message: Message): OpenAI.Chat.ChatCompletionMessageParam {
  let mapped = messageCache.get(message);
  if (!mapped) {
    mapped = toOpenAIMessage(message);
    messageCache.set(message, mapped);
  }
  return mapped;
}

function cachedOpenAITool(tool: ToolSchema): OpenAI.Chat.ChatCompletionTool {
  let mapped = toolCache.get(tool);
  if (!mapped) {
    mapped = {
      type: "function",
      function: { name: tool.name, description: tool.description, parameters: tool.parameters },
    };
    toolCache.set(tool, mapped);
  }
  return mapped;
}

/**
 * Maps one message to its Chat Completions form. Tool results go as `role: "tool"` with the call id; the wire format
 * has no error flag, so a failed tool's content is sent as the harness wrote it.
 *
 * @param message A provider-neutral message.
 * @returns The Chat Completions message.
 */
export function toOpenAIMessage(message: Message): OpenAI.Chat.ChatCompletionMessageParam {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user":
      return { role: "user", content: message.content };
    case "assistant": {
      const toolCalls = message.toolCalls ?? [];
      if (toolCalls.length === 0) return { role: "assistant", content: message.content };
      return {
        role: "assistant",
        content: message.content === "" ? null : message.content,
        tool_calls: toolCalls.map((call) => ({
          id: call.id,
          type: "function",
          function: { name: call.name, arguments: call.arguments },
        })),
      };
    }
    case "tool":
      return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
    default:
      throw new TypeError(`Invalid message role ${JSON.stringify((message as { role: unknown }).role)}`);
  }
}

/**
 * The `reasoning_effort` to send, or `undefined` to send none.
 *
 * - A provider set to `"none"` never gets one; one set to `"reasoning_effort"` gets every level as is, with `off` as
 *   `"none"`.
 * - Otherwise the model name decides (the part after the last `/`): `gpt-5.1` and later take every level and `"none"`;
 *   `gpt-5`, `gpt-5-mini` and the like take `minimal` to `high`; `o1`, `o3`, `o4-mini` and `gpt-oss` take `low` to `high`.
 *   Levels a family does not take are clamped to the nearest it does; `off` is left out where `"none"` is not taken, so
 *   the model's default applies. Every other model gets no hint, since unknown parameters fail some providers.
 *
 * @param level The requested thinking level.
 * @param model The provider's model name.
 * @param mode The provider's reasoning setting.
 * @returns The effort, or `undefined`.
 */
export function reasoningEffortFor(
  level: ThinkingLevel | undefined,
  model: string,
  mode: "reasoning_effort" | "none" | undefined,
): ReasoningEffort | undefined {
  if (level === undefined || mode === "none") return undefined;
  if (mode === "reasoning_effort") return level === "off" ? "none" : level;
  const name = model.slice(model.lastIndexOf("/") + 1).toLowerCase();
  if (/^gpt-5\.\d/.test(name)) return level === "off" ? "none" : level;
  if (/^gpt-5(?:$|-)/.test(name)) {
    if (level === "off") return undefined;
    return level === "xhigh" ? "high" : level;
  }
  if (/^o\d+(?:$|-)/.test(name) || /^gpt-oss(?:$|-)/.test(name)) {
    if (level === "off") return undefined;
    if (level === "minimal") return "low";
    return level === "xhigh" ? "high" : level;
  }
  return undefined;
}
