/**
 * Builds the AI SDK language model of a provider reached through its provider package (`@ai-sdk/google`,
 * `@ai-sdk/google-vertex`, `@ai-sdk/amazon-bedrock`, `@ai-sdk/azure`), importing the package only then. Credentials
 * come from the endpoint, which Flue read from the environment, so the packages never read variables themselves.
 *
 * @module
 */

import type { LanguageModelV4 } from "@ai-sdk/provider";
import type { ModelEndpoint, ModelReply, ModelRequest } from "../../model/chat_model.ts";
import { completeWithLanguageModel } from "./_complete_with_language_model.ts";

const models = new Map<string, Promise<LanguageModelV4>>();

/**
 * The provider's language model for an endpoint, built once per endpoint.
 *
 * @param endpoint The provider, model, base URL and credentials.
 * @returns The language model.
 * @throws {Error} When the provider package cannot be loaded, naming it.
 */
export function providerLanguageModel(endpoint: ModelEndpoint): Promise<LanguageModelV4> {
  const cacheKey = JSON.stringify([
    endpoint.provider,
    endpoint.model,
    endpoint.baseURL,
    endpoint.apiKey,
    endpoint
      .headers,
    endpoint.settings,
  ]);
  let model = models.get(cacheKey);
  if (!model) {
    model = build(endpoint);
    models.set(cacheKey, model);
    // A failed load (a missing package) is tried again on the next call rather than remembered.
    model.catch(() => models.delete(cacheKey));
  }
  return model;
}

/**
 * One model call through the provider's package, for the `flue` harness.
 *
 * @param endpoint The provider's endpoint.
 * @param request The conversation, tools and options.
 * @returns The reply.
 */
export async function completeWithProvider(endpoint: ModelEndpoint, request: ModelRequest): Promise<ModelReply> {
  const model = await providerLanguageModel(endpoint);
  return await completeWithLanguageModel(model, endpoint.provider, request);
}

async function build(endpoint: ModelEndpoint): Promise<LanguageModelV4> {
  const { provider, model, baseURL, apiKey, headers } = endpoint;
  const settings = endpoint.settings ?? {};
  switch (provider) {
    case "google": {
      const { createGoogleGenerativeAI } = await load("@ai-sdk/google", () => import("@ai-sdk/google"));
      return createGoogleGenerativeAI({ baseURL, apiKey, headers }).languageModel(model);
    }
    case "vertex": {
      const { createVertex } = await load("@ai-sdk/google-vertex", () => import("@ai-sdk/google-vertex"));
      if (settings.mode === "express") return createVertex({ baseURL, apiKey, headers }).languageModel(model);
      return createVertex({
        baseURL,
        headers,
        project: settings.project,
        location: settings.location,
        googleAuthOptions: settings.credentialsFile === undefined ? {} : { keyFilename: settings.credentialsFile },
      }).languageModel(model);
    }
    case "bedrock": {
      const { createAmazonBedrock } = await load("@ai-sdk/amazon-bedrock", () => import("@ai-sdk/amazon-bedrock"));
      const credentials = apiKey !== undefined ? { apiKey } : {
        accessKeyId: settings.accessKeyId,
        secretAccessKey: settings.secretAccessKey,
        sessionToken: settings.sessionToken,
      };
      return createAmazonBedrock({ baseURL, headers, region: settings.region, ...credentials }).languageModel(model);
    }
    case "azure": {
      const { createAzure } = await load("@ai-sdk/azure", () => import("@ai-sdk/azure"));
      // Chat Completions, which every Azure OpenAI deployment serves.
      return createAzure({ baseURL, apiKey, headers }).chat(model);
    }
    default:
      throw new TypeError(`Provider ${JSON.stringify(provider)} has no AI SDK provider package`);
  }
}

async function load<T>(name: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    throw new Error(
      `The provider package ${name} could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
