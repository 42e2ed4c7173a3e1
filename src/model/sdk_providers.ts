/**
 * Providers reached through the AI SDK's provider packages rather than an OpenAI-compatible endpoint: `google`
 * (Gemini API), `vertex` (Vertex AI), `bedrock` (Amazon Bedrock) and `azure` (Azure OpenAI). This module reads their
 * usual credential variables and says which one is missing; the packages themselves load only when a model of theirs
 * is first called.
 *
 * @module
 */

import type { ModelEndpoint } from "./chat_model.ts";
import type { ProviderSettings } from "./providers.ts";

/** The names of the providers served through AI SDK provider packages. */
export const SDK_PROVIDERS: readonly string[] = ["azure", "bedrock", "google", "vertex"];

/**
 * Whether a provider is served through an AI SDK provider package.
 *
 * @param provider The provider name.
 * @returns Whether it is one of {@linkcode SDK_PROVIDERS}.
 */
export function isSdkProvider(provider: string): boolean {
  return SDK_PROVIDERS.includes(provider);
}

/** Reads one variable; `undefined` when unset or blank. */
export type ReadVariable = (name: string) => string | undefined;

/**
 * The endpoint of an AI SDK provider's model, with its credentials read from the environment.
 *
 * @param provider `google`, `vertex`, `bedrock` or `azure`.
 * @param model The provider's model name (for Azure, the deployment name).
 * @param read Reads a variable.
 * @param overrides Configuration for the provider (`baseURL`, `apiKey`, `apiKeyEnv`, `headers`).
 * @returns The endpoint; `settings` holds the provider's other values (region, project, location).
 * @throws {TypeError} Naming the variable to set when a credential is missing.
 */
export function sdkProviderEndpoint(
  provider: string,
  model: string,
  read: ReadVariable,
  overrides: Partial<ProviderSettings> = {},
): ModelEndpoint {
  const requiredVariable = (name: string, why: string): string => {
    const value = read(name);
    if (value === undefined) throw new TypeError(`${name} is not set: ${why}, or use --model test to run key-less`);
    return value;
  };
  const key = (name: string, why: string): string =>
    overrides.apiKey ?? requiredVariable(overrides.apiKeyEnv ?? name, why);
  const endpoint = (baseURL: string, apiKey: string | undefined, settings: Record<string, string> = {}) => {
    const result: ModelEndpoint = {
      provider,
      model,
      baseURL: (overrides.baseURL ?? baseURL).replace(/\/+$/, ""),
      headers: { ...overrides.headers },
      settings,
    };
    if (apiKey !== undefined) result.apiKey = apiKey;
    return result;
  };
  switch (provider) {
    case "google":
      return endpoint(
        "https://generativelanguage.googleapis.com/v1beta",
        key("GOOGLE_GENERATIVE_AI_API_KEY", "export a Gemini API key from Google AI Studio"),
      );
    case "vertex": {
      const expressKey = overrides.apiKey ?? read(overrides.apiKeyEnv ?? "GOOGLE_VERTEX_API_KEY");
      if (expressKey !== undefined) {
        return endpoint("https://aiplatform.googleapis.com/v1/publishers/google", expressKey, { mode: "express" });
      }
      const why = "Vertex AI needs GOOGLE_VERTEX_API_KEY (express mode), or GOOGLE_VERTEX_PROJECT and " +
        "GOOGLE_VERTEX_LOCATION with Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS)";
      const project = requiredVariable("GOOGLE_VERTEX_PROJECT", why);
      const location = requiredVariable("GOOGLE_VERTEX_LOCATION", why);
      const host = location === "global" ? "aiplatform.googleapis.com" : `${location}-aiplatform.googleapis.com`;
      const settings: Record<string, string> = { mode: "project", project, location };
      const credentials = read("GOOGLE_APPLICATION_CREDENTIALS");
      if (credentials !== undefined) settings.credentialsFile = credentials;
      return endpoint(
        `https://${host}/v1/projects/${project}/locations/${location}/publishers/google`,
        undefined,
        settings,
      );
    }
    case "bedrock": {
      const why = "Amazon Bedrock needs AWS_REGION, and AWS_BEARER_TOKEN_BEDROCK or AWS_ACCESS_KEY_ID with " +
        "AWS_SECRET_ACCESS_KEY";
      const region = requiredVariable("AWS_REGION", why);
      const baseURL = `https://bedrock-runtime.${region}.amazonaws.com`;
      const token = overrides.apiKey ?? read(overrides.apiKeyEnv ?? "AWS_BEARER_TOKEN_BEDROCK");
      if (token !== undefined) return endpoint(baseURL, token, { region });
      const settings: Record<string, string> = {
        region,
        accessKeyId: requiredVariable("AWS_ACCESS_KEY_ID", why),
        secretAccessKey: requiredVariable("AWS_SECRET_ACCESS_KEY", why),
      };
      const sessionToken = read("AWS_SESSION_TOKEN");
      if (sessionToken !== undefined) settings.sessionToken = sessionToken;
      return endpoint(baseURL, undefined, settings);
    }
    case "azure": {
      const apiKey = key("AZURE_API_KEY", "export the Azure OpenAI resource's key");
      if (overrides.baseURL !== undefined) return endpoint(overrides.baseURL, apiKey);
      const resource = requiredVariable(
        "AZURE_RESOURCE_NAME",
        'name the Azure OpenAI resource (the "<name>" of <name>.openai.azure.com), or give a baseURL',
      );
      if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(resource)) {
        throw new TypeError(`Invalid AZURE_RESOURCE_NAME ${JSON.stringify(resource)}: expected one DNS label`);
      }
      return endpoint(`https://${resource}.openai.azure.com/openai/v1`, apiKey);
    }
    default:
      throw new TypeError(`Provider ${JSON.stringify(provider)} is not served through an AI SDK provider package`);
  }
}
