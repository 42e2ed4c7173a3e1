/**
 * `SdkProviderModel`: a model of a provider reached through an AI SDK provider package (`google`, `vertex`, `bedrock`,
 * `azure`), as a Flue `ChatModel`. The package loads on the first call, so projects that never choose the provider
 * never load it.
 *
 * @module
 */

import type { ChatModel, ModelEndpoint, ModelReply, ModelRequest } from "./chat_model.ts";
import { defaultContextWindow } from "./context_window.ts";

/**
 * A model served through an AI SDK provider package. Under the `flue` harness each turn is one AI SDK call; the
 * `ai-sdk` harness runs its whole loop on the same provider model. Build one with `resolveModel("google:...")`.
 */
export class SdkProviderModel implements ChatModel {
  /** `<provider>:<model>`. */
  readonly id: string;
  /** The provider name. */
  readonly provider: string;
  /** Typed calls use Flue's `finish` tool or extraction, the same on every provider. */
  readonly supportsStructuredOutput: boolean = false;
  /** The context window in tokens. */
  readonly contextWindow: number;
  #endpoint: ModelEndpoint;

  /**
   * Wraps an endpoint from `sdkProviderEndpoint`.
   *
   * @param endpoint The provider, model, base URL, credentials and settings.
   * @param contextWindow The context window, when it differs from the model family's.
   */
  constructor(endpoint: ModelEndpoint, contextWindow?: number) {
    this.#endpoint = { ...endpoint, headers: { ...endpoint.headers }, settings: { ...endpoint.settings } };
    this.provider = endpoint.provider;
    this.id = `${endpoint.provider}:${endpoint.model}`;
    this.contextWindow = contextWindow ?? defaultContextWindow(endpoint.provider, endpoint.model);
  }

  /** The endpoint, credentials included; a getter, so never serialised. */
  get endpoint(): ModelEndpoint {
    return { ...this.#endpoint, headers: { ...this.#endpoint.headers }, settings: { ...this.#endpoint.settings } };
  }

  /**
   * Makes one call through the provider's AI SDK package, loading it on first use.
   *
   * @param request The conversation, tools and options.
   * @returns The reply.
   * @throws {ModelError} When the provider fails.
   * @throws {AbortError} When the request's signal aborts.
   */
  async complete(request: ModelRequest): Promise<ModelReply> {
    // The one place the model layer reaches the AI SDK adapter, lazily: the provider packages live there.
    const { completeWithProvider } = await import("../harness/ai_sdk/_provider_language_model.ts");
    return await completeWithProvider(this.#endpoint, request);
  }
}
