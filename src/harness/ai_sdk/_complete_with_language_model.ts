/**
 * One model call on an AI SDK language model, for an `aiSdkModel(...)` under a harness that runs its own loop: a
 * single `streamText` step whose tools have no `execute`, so the calls come back to the harness unrun.
 *
 * @module
 */

import type { LanguageModelV3, LanguageModelV4 } from "@ai-sdk/provider";
import { jsonSchema, Output, streamText, tool, type ToolSet } from "ai";
import { abortErrorFrom } from "../../errors.ts";
import type { ModelReply, ModelRequest, StopReason } from "../../model/chat_model.ts";
import { emptyUsage, type ToolCall } from "../../model/message.ts";
import { DEFAULT_MAX_RETRIES } from "../../model/retry.ts";
import type { AiSdkLanguageModel } from "./ai_sdk_model.ts";
import { toFlueError } from "./_flue_error.ts";
import { argumentsText, toModelConversation } from "./_message_conversion.ts";
import { inputSchemaOf, reasoningOf, stepUsageOf, stopReasonOf } from "./_sdk_values.ts";

/**
 * Makes one call, streaming text and reasoning to the request's callbacks.
 *
 * @param languageModel The AI SDK model.
 * @param provider The provider name, for errors.
 * @param request The conversation, tools and options.
 * @returns The reply.
 * @throws {ModelError} When the provider fails.
 * @throws {AbortError} When the request's signal aborts.
 */
export async function completeWithLanguageModel(
  languageModel: AiSdkLanguageModel,
  provider: string,
  request: ModelRequest,
): Promise<ModelReply> {
  if (request.signal.aborted) throw abortErrorFrom(request.signal);
  const conversation = toModelConversation(request.messages);
  const tools: ToolSet = {};
  for (const schema of request.tools) {
    tools[schema.name] = tool({ description: schema.description, inputSchema: inputSchemaOf(schema.parameters) });
  }
  const format = request.responseFormat;
  const result = streamText({
    model: languageModel as LanguageModelV3 | LanguageModelV4,
    instructions: conversation.instructions,
    messages: conversation.messages,
    allowSystemInMessages: conversation.hasLaterSystemMessages,
    tools,
    ...(format ? { output: Output.object({ schema: jsonSchema(format.schema), name: format.name }) } : {}),
    reasoning: reasoningOf(request.thinkingLevel),
    maxRetries: DEFAULT_MAX_RETRIES,
    abortSignal: request.signal,
    // Errors are read from the stream below; the default handler would also print them.
    onError: () => {},
  });
  let text = "";
  const toolCalls: ToolCall[] = [];
  let usage = emptyUsage();
  let stopReason: StopReason = "stop";
  let model = languageModel.modelId;
  let failure: { error: unknown } | undefined;
  try {
    for await (const part of result.fullStream) {
      switch (part.type) {
        case "text-delta":
          text += part.text;
          if (part.text) request.onTextDelta?.(part.text);
          break;
        case "reasoning-delta":
          if (part.text) request.onThinkingDelta?.(part.text);
          break;
        case "tool-call":
          toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: argumentsText(part.input) });
          break;
        case "finish-step":
          usage = stepUsageOf(part.usage);
          stopReason = stopReasonOf(part.finishReason);
          model = part.response.modelId || model;
          break;
        case "error":
          failure ??= { error: part.error };
          break;
      }
    }
  } catch (error) {
    failure ??= { error };
  }
  if (request.signal.aborted) throw abortErrorFrom(request.signal);
  if (failure) throw toFlueError(failure.error, provider);
  return { text, toolCalls, usage, stopReason, model };
}
