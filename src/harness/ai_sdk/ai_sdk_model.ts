/**
 * `aiSdkModel(languageModel)`: an AI SDK language model (from `@ai-sdk/openai`, `@ai-sdk/anthropic`, `@ai-sdk/google`,
 * a gateway, a mock) as a Flue `ChatModel`. The `ai-sdk` harness calls the language model directly; the `flue`
 * harness calls it one turn at a time through `complete`. This module loads nothing of the AI SDK until a call is made.
 *
 * @module
 */

import type { ChatModel, ModelReply, ModelRequest } from "../../model/chat_model.ts";

/**
 * A language model of the AI SDK, specification v3 or v4: what `@ai-sdk/*` providers return (`LanguageModelV3`,
 * `LanguageModelV4` of `@ai-sdk/provider`). Only the members Flue reads are named here, so Flue's public types do not
 * depend on the AI SDK's.
 */
export interface AiSdkLanguageModel {
  /** The language model specification the model implements. */
  readonly specificationVersion: "v3" | "v4";
  /** The provider id, such as `openai.chat`. */
  readonly provider: string;
  /** The provider's model id. */
  readonly modelId: string;
  /**
   * Generates a reply as a stream; called by the AI SDK.
   *
   * @param options The SDK's call options.
   * @returns The stream.
   */
  doStream(options: never): PromiseLike<unknown>;
  /**
   * Generates a whole reply; called by the AI SDK.
   *
   * @param options The SDK's call options.
   * @returns The reply.
   */
  doGenerate(options: never): PromiseLike<unknown>;
}

/** The options of {@linkcode aiSdkModel}. */
export interface AiSdkModelOptions {
  /**
   * Whether typed calls may ask the model for native JSON-schema output (the provider's structured output). Defaults to
   * `false`: typed calls then go through Flue's text path (instructions, extraction, repair, validation).
   */
  supportsStructuredOutput?: boolean;
  /** The most tokens one request may hold; see `ChatModel.contextWindow`. */
  contextWindow?: number;
}

/** An AI SDK language model seen as a Flue `ChatModel`. Build one with {@linkcode aiSdkModel}. */
export class AiSdkModel implements ChatModel {
  /** `<provider>:<modelId>` of the language model, such as `anthropic.messages:claude-sonnet-4-5`. */
  readonly id: string;
  /** The language model's provider id. */
  readonly provider: string;
  /** Whether typed calls ask for native structured output. */
  readonly supportsStructuredOutput: boolean;
  /** The most tokens one request may hold, when given. */
  readonly contextWindow?: number;
  /** The AI SDK model. */
  readonly languageModel: AiSdkLanguageModel;

  /**
   * Wraps a language model.
   *
   * @param languageModel The AI SDK model.
   * @param options Structured output support and context window.
   * @throws {TypeError} When `languageModel` is not an AI SDK language model.
   */
  constructor(languageModel: AiSdkLanguageModel, options: AiSdkModelOptions = {}) {
    const candidate = languageModel as Partial<AiSdkLanguageModel> | null;
    if (
      typeof candidate !== "object" || candidate === null ||
      (candidate.specificationVersion !== "v3" && candidate.specificationVersion !== "v4") ||
      typeof candidate.doStream !== "function"
    ) {
      throw new TypeError(
        'Invalid AI SDK model: expected a language model of specification v3 or v4, such as openai("gpt-5") ' +
          'from "@ai-sdk/openai"',
      );
    }
    this.languageModel = languageModel;
    this.provider = languageModel.provider;
    this.id = `${languageModel.provider}:${languageModel.modelId}`;
    this.supportsStructuredOutput = options.supportsStructuredOutput ?? false;
    if (options.contextWindow !== undefined) this.contextWindow = options.contextWindow;
  }

  /**
   * Makes one model call through the AI SDK (`streamText`, one step, tools not executed), for harnesses that run
   * their own loop.
   *
   * @param request The conversation, tools and options.
   * @returns The reply.
   */
  async complete(request: ModelRequest): Promise<ModelReply> {
    const { completeWithLanguageModel } = await import("./_complete_with_language_model.ts");
    return await completeWithLanguageModel(this.languageModel, this.provider, request);
  }
}

/**
 * Uses an AI SDK language model as an agent's model, under either harness. With `harness: "ai-sdk"` the AI SDK runs
 * the whole loop on it; with the default `flue` harness each turn is one AI SDK call.
 *
 * @example Anthropic through the AI SDK
 * ```ts ignore
 * import { anthropic } from "@ai-sdk/anthropic";
 * import { aiSdkModel, init } from "@flue/cli";
 *
 * const agent = await init({ harness: "ai-sdk", model: aiSdkModel(anthropic("claude-sonnet-4-5")) });
 * ```
 *
 * @param languageModel A language model from an `@ai-sdk/*` provider.
 * @param options Structured output support and context window.
 * @returns The model, to pass as `model`.
 * @throws {TypeError} When `languageModel` is not an AI SDK language model.
 */
export function aiSdkModel(languageModel: AiSdkLanguageModel, options?: AiSdkModelOptions): AiSdkModel {
  return new AiSdkModel(languageModel, options);
}
