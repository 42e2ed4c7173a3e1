/**
 * `ChatModelLanguageModel`: any Flue `ChatModel` as an AI SDK language model (specification v4), so that the
 * key-less `TestModel` and `FunctionModel`, and models users write themselves, run under the `ai-sdk` harness.
 *
 * @module
 */

import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4FinishReason,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamPart,
  LanguageModelV4StreamResult,
  LanguageModelV4Usage,
  SharedV4Warning,
} from "@ai-sdk/provider";
import type {
  ChatModel,
  ModelCallContext,
  ModelReply,
  ModelRequest,
  StopReason,
  ThinkingLevel,
} from "../../model/chat_model.ts";
import type { Usage } from "../../model/message.ts";
import { fromLanguageModelPrompt } from "./_message_conversion.ts";

const SAMPLING_SETTINGS = [
  "maxOutputTokens",
  "temperature",
  "stopSequences",
  "topP",
  "topK",
  "presencePenalty",
  "frequencyPenalty",
  "seed",
] as const;

const FINISH_REASONS: Readonly<Record<StopReason, LanguageModelV4FinishReason["unified"]>> = {
  stop: "stop",
  tool_calls: "tool-calls",
  length: "length",
  content_filter: "content-filter",
  other: "other",
};

/**
 * A Flue `ChatModel` seen as an AI SDK `LanguageModelV4`. Each call is one `complete`: text and reasoning stream as
 * the model delivers them, then the tool calls, the model id the provider reported, and usage. Settings a `ChatModel`
 * has no place for (sampling, forced tool choice, provider tools) come back as warnings, as the SDK's own providers
 * do; a `json` response format is passed on only when the model supports structured output.
 *
 * @example Drive a TestModel through the AI SDK
 * ```ts
 * import { generateText } from "ai";
 * import { TestModel } from "../../model/test_models/test_model.ts";
 * import { ChatModelLanguageModel } from "./chat_model_language_model.ts";
 * import assert from "node:assert/strict";
 *
 * const model = new ChatModelLanguageModel(new TestModel({ script: ["Hello"] }));
 * const result = await generateText({ model, prompt: "Hi" });
 * assert.equal(result.text, "Hello");
 * ```
 */
export class ChatModelLanguageModel implements LanguageModelV4 {
  /** The AI SDK language model specification this implements. */
  readonly specificationVersion = "v4" as const;
  /** The `ChatModel`'s provider name. */
  readonly provider: string;
  /** The `ChatModel`'s id. */
  readonly modelId: string;
  /** No URLs are passed through: a `ChatModel` takes text only. */
  readonly supportedUrls: Record<string, RegExp[]> = {};
  /** The model underneath. */
  readonly chatModel: ChatModel;

  /**
   * Wraps a model.
   *
   * @param chatModel The Flue model to call.
   */
  constructor(chatModel: ChatModel) {
    this.chatModel = chatModel;
    this.provider = chatModel.provider;
    this.modelId = chatModel.id;
  }

  /**
   * Makes one call and returns the whole reply.
   *
   * @param options The AI SDK's call options.
   * @returns The content, finish reason, usage and warnings.
   */
  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const { request, warnings } = this.#request(options);
    const reply = await this.chatModel.complete(request);
    const content: LanguageModelV4Content[] = [];
    if (reply.text) content.push({ type: "text", text: reply.text });
    for (const call of reply.toolCalls) content.push(toolCallPart(call));
    return {
      content,
      finishReason: finishReasonOf(reply.stopReason),
      usage: usageOf(reply.usage),
      warnings,
      response: { modelId: reply.model },
    };
  }

  /**
   * Makes one call and streams the reply: text and reasoning deltas while `complete` runs, then the tool calls,
   * response metadata and the finish part. A failed call errors the stream with the model's own error.
   *
   * @param options The AI SDK's call options.
   * @returns The stream.
   */
  doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    const { request, warnings } = this.#request(options);
    let isOpen = true;
    let controller!: ReadableStreamDefaultController<LanguageModelV4StreamPart>;
    const stream = new ReadableStream<LanguageModelV4StreamPart>({
      start: (streamController) => void (controller = streamController),
      cancel: () => void (isOpen = false),
    });
    const enqueue = (part: LanguageModelV4StreamPart) => {
      if (isOpen) controller.enqueue(part);
    };
    const open = { text: false, reasoning: false };
    const delta = (kind: "text" | "reasoning", text: string) => {
      if (!open[kind]) {
        open[kind] = true;
        enqueue({ type: `${kind}-start`, id: kind });
      }
      enqueue({ type: `${kind}-delta`, id: kind, delta: text });
    };
    enqueue({ type: "stream-start", warnings });
    this.chatModel.complete({
      ...request,
      onTextDelta: (text) => delta("text", text),
      onThinkingDelta: (text) => delta("reasoning", text),
    }).then((reply: ModelReply) => {
      // A model that does not stream still hands over its text, once.
      if (!open.text && reply.text) delta("text", reply.text);
      if (open.reasoning) enqueue({ type: "reasoning-end", id: "reasoning" });
      if (open.text) enqueue({ type: "text-end", id: "text" });
      enqueue({ type: "response-metadata", modelId: reply.model });
      for (const call of reply.toolCalls) enqueue(toolCallPart(call));
      enqueue({ type: "finish", usage: usageOf(reply.usage), finishReason: finishReasonOf(reply.stopReason) });
      if (isOpen) controller.close();
    }, (error: unknown) => {
      if (isOpen) controller.error(error);
    });
    return Promise.resolve({ stream });
  }

  #request(options: LanguageModelV4CallOptions): { request: ModelRequest; warnings: SharedV4Warning[] } {
    const warnings: SharedV4Warning[] = [];
    for (const setting of SAMPLING_SETTINGS) {
      if (options[setting] !== undefined) warnings.push({ type: "unsupported", feature: setting });
    }
    const toolChoice = options.toolChoice?.type ?? "auto";
    if (toolChoice === "required" || toolChoice === "tool") {
      warnings.push({ type: "unsupported", feature: "toolChoice", details: `"${toolChoice}" is treated as "auto"` });
    }
    const tools = [];
    for (const tool of toolChoice === "none" ? [] : options.tools ?? []) {
      if (tool.type !== "function") {
        warnings.push({ type: "unsupported", feature: `provider tool "${tool.name}"` });
        continue;
      }
      tools.push({
        name: tool.name,
        description: tool.description ?? "",
        parameters: tool.inputSchema as Record<string, unknown>,
      });
    }
    const request: ModelRequest = {
      messages: fromLanguageModelPrompt(options.prompt),
      tools,
      signal: options.abortSignal ?? new AbortController().signal,
    };
    // The ai-sdk harness passes the operation a call serves as provider options under "flue".
    const operation = (options.providerOptions?.flue as { operation?: ModelCallContext } | undefined)?.operation;
    if (operation) request.operation = operation;
    const format = options.responseFormat;
    if (format?.type === "json" && format.schema) {
      if (this.chatModel.supportsStructuredOutput) {
        request.responseFormat = { name: format.name ?? "result", schema: format.schema as Record<string, unknown> };
      } else {
        warnings.push({
          type: "unsupported",
          feature: "responseFormat",
          details: "the model has no structured output",
        });
      }
    }
    const thinkingLevel = thinkingLevelOf(options.reasoning);
    if (thinkingLevel) request.thinkingLevel = thinkingLevel;
    return { request, warnings };
  }
}

function toolCallPart(call: { id: string; name: string; arguments: string }): LanguageModelV4StreamPart & {
  type: "tool-call";
} {
  // Flue treats empty arguments as `{}`; the SDK parses the text as JSON.
  return { type: "tool-call", toolCallId: call.id, toolName: call.name, input: call.arguments.trim() || "{}" };
}

function usageOf(usage: Usage): LanguageModelV4Usage {
  return {
    inputTokens: { total: usage.inputTokens, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: usage.outputTokens, text: undefined, reasoning: undefined },
  };
}

function finishReasonOf(stopReason: StopReason): LanguageModelV4FinishReason {
  return { unified: FINISH_REASONS[stopReason] ?? "other", raw: stopReason };
}

function thinkingLevelOf(reasoning: LanguageModelV4CallOptions["reasoning"]): ThinkingLevel | undefined {
  if (reasoning === undefined || reasoning === "provider-default") return undefined;
  if (reasoning === "none") return "off";
  if (reasoning === "max") return "xhigh";
  return reasoning;
}
