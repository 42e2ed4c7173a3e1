/**
 * Small translations between Flue's values and the AI SDK's: stop reasons, usage, reasoning effort, and tool input
 * schemas.
 *
 * @module
 */

import type { LanguageModelV4FinishReason, LanguageModelV4Usage } from "@ai-sdk/provider";
import { jsonSchema, type JSONSchema7, type LanguageModelUsage, type Schema } from "ai";
import type { StopReason, ThinkingLevel } from "../../model/chat_model.ts";
import type { Usage } from "../../model/message.ts";

type SdkReasoning = "none" | "minimal" | "low" | "medium" | "high" | "xhigh";

const STOP_REASONS: Readonly<Record<LanguageModelV4FinishReason["unified"], StopReason>> = {
  "stop": "stop",
  "tool-calls": "tool_calls",
  "length": "length",
  "content-filter": "content_filter",
  "error": "other",
  "interrupted": "other",
  "other": "other",
};

const schemas = new WeakMap<object, Schema<unknown>>();

/**
 * Flue's stop reason for the SDK's unified finish reason.
 *
 * @param finishReason The SDK's finish reason.
 * @returns The stop reason.
 */
export function stopReasonOf(finishReason: LanguageModelV4FinishReason["unified"]): StopReason {
  return STOP_REASONS[finishReason] ?? "other";
}

/**
 * Flue usage from a language model's raw usage; counts the provider left out are 0.
 *
 * @param usage The usage of one model call.
 * @returns The usage.
 */
export function usageOf(usage: LanguageModelV4Usage): Usage {
  const inputTokens = usage.inputTokens.total ?? 0;
  const outputTokens = usage.outputTokens.total ?? 0;
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}

/**
 * Flue usage from the usage `streamText` reports for a step.
 *
 * @param usage The step's usage.
 * @returns The usage.
 */
export function stepUsageOf(usage: LanguageModelUsage): Usage {
  const inputTokens = usage.inputTokens ?? 0;
  const outputTokens = usage.outputTokens ?? 0;
  return { inputTokens, outputTokens, totalTokens: usage.totalTokens ?? inputTokens + outputTokens };
}

/**
 * The SDK's `reasoning` setting for a thinking level.
 *
 * @param level The thinking level, if any.
 * @returns The setting, or `undefined` to leave the provider's default.
 */
export function reasoningOf(level: ThinkingLevel | undefined): SdkReasoning | undefined {
  if (level === undefined) return undefined;
  return level === "off" ? "none" : level;
}

/**
 * A tool's JSON Schema as an SDK schema, built once per schema object. It validates nothing: Flue validates the
 * arguments with the tool's zod schema when it runs the call, so invalid arguments become a tool error the model reads.
 *
 * @param parameters The JSON Schema of the arguments.
 * @returns The SDK schema.
 */
export function inputSchemaOf(parameters: Record<string, unknown>): Schema<unknown> {
  let schema = schemas.get(parameters);
  if (!schema) {
    schema = jsonSchema(parameters as JSONSchema7);
    schemas.set(parameters, schema);
  }
  return schema;
}
