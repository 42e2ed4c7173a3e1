/**
 * Chooses the AI SDK language model behind a Flue `ChatModel`: the native Anthropic provider for `anthropic:`
 * models, the provider packages for `google:`, `vertex:`, `bedrock:` and `azure:`, the OpenAI provider for every other
 * endpoint, the model itself for `aiSdkModel(...)`, and an adapter over
 * `complete` for models that call no endpoint (`TestModel`, `FunctionModel`, hand-written ones).
 *
 * @module
 */

import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import type { LanguageModelV3, LanguageModelV4 } from "@ai-sdk/provider";
import type { ChatModel } from "../../model/chat_model.ts";
import { DEFAULT_MAX_RETRIES } from "../../model/retry.ts";
import { isSdkProvider } from "../../model/sdk_providers.ts";
import { AiSdkModel } from "./ai_sdk_model.ts";
import { providerLanguageModel } from "./_provider_language_model.ts";
import { ChatModelLanguageModel } from "./chat_model_language_model.ts";

/** The language model to give `streamText`, and how the SDK should retry and time out around it. */
export interface ResolvedLanguageModel {
  /** The model. */
  model: LanguageModelV3 | LanguageModelV4;
  /** Retries the SDK makes after a failed call; 0 when the `ChatModel` underneath retries itself. */
  maxRetries: number;
  /** How long the SDK waits for the first chunk and between chunks; unset when the model times out itself. */
  timeoutMs?: number;
  /** Provider options for the call. */
  providerOptions?: Record<string, Record<string, boolean>>;
}

const resolved = new WeakMap<ChatModel, Promise<ResolvedLanguageModel>>();

/**
 * The AI SDK model for a `ChatModel`, built once per model object.
 *
 * @param chatModel The agent's model.
 * @returns The language model and its call settings.
 */
export function languageModelFor(chatModel: ChatModel): Promise<ResolvedLanguageModel> {
  let entry = resolved.get(chatModel);
  if (!entry) {
    entry = resolve(chatModel);
    resolved.set(chatModel, entry);
    // A provider package that failed to load is tried again on the next run.
    entry.catch(() => resolved.delete(chatModel));
  }
  return entry;
}

async function resolve(chatModel: ChatModel): Promise<ResolvedLanguageModel> {
  if (chatModel instanceof AiSdkModel) {
    // `AiSdkModel` checked the specification version when it was built.
    return { model: chatModel.languageModel as LanguageModelV3 | LanguageModelV4, maxRetries: DEFAULT_MAX_RETRIES };
  }
  const endpoint = chatModel.endpoint;
  if (!endpoint) return { model: new ChatModelLanguageModel(chatModel), maxRetries: 0 };
  const settings = { maxRetries: endpoint.maxRetries ?? DEFAULT_MAX_RETRIES, timeoutMs: endpoint.timeoutMs };
  if (isSdkProvider(endpoint.provider)) return { model: await providerLanguageModel(endpoint), ...settings };
  if (endpoint.provider === "anthropic") {
    const anthropic = createAnthropic({
      baseURL: endpoint.baseURL,
      apiKey: endpoint.apiKey ?? "",
      headers: endpoint.headers,
    });
    return { model: anthropic.languageModel(endpoint.model), ...settings };
  }
  const openai = createOpenAI({
    name: endpoint.provider,
    baseURL: endpoint.baseURL,
    apiKey: endpoint.apiKey ?? "",
    // A key-less endpoint (a local server) gets no Authorization header at all, as with the `flue` harness.
    headers: endpoint.apiKey === undefined
      ? { ...endpoint.headers, Authorization: undefined } as unknown as Record<string, string>
      : endpoint.headers,
  });
  return {
    model: openai.chat(endpoint.model),
    ...settings,
    // Strict schemas reject optional fields and open objects, which Flue's result schemas use; the `flue` harness
    // sends `strict: false` too.
    providerOptions: { openai: { strictJsonSchema: false } },
  };
}
