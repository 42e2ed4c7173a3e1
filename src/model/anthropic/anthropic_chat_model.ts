/**
 * A `ChatModel` on Anthropic's native Messages API (`POST /v1/messages`), over `fetch`: streaming, tool use, extended
 * thinking, usage, retries and timeouts as the OpenAI-compatible model has them.
 *
 * @module
 */

import { EventSourceParserStream } from "eventsource-parser/stream";
import { abortErrorFrom, ModelError } from "../../errors.ts";
import type { ChatModel, ModelEndpoint, ModelReply, ModelRequest } from "../chat_model.ts";
import { defaultContextWindow } from "../context_window.ts";
import { describesContextOverflow } from "../context_overflow.ts";
import { DEFAULT_MAX_RETRIES, isRetryableStatus, parseRetryAfterMs, retry, type RetryPolicy } from "../retry.ts";
import { MessageAssembler, messagesRequestBody, StreamedError } from "./_anthropic_messages.ts";

/** The options of {@linkcode AnthropicChatModel}. */
export interface AnthropicChatModelOptions extends RetryPolicy {
  /** The model name, such as `claude-sonnet-4-5`. */
  model: string;
  /** The API key, sent as `x-api-key`. */
  apiKey: string;
  /** The variable the key came from, named when the key is rejected. */
  apiKeyEnv?: string;
  /** The base URL up to the version path; `https://api.anthropic.com/v1` by default. */
  baseURL?: string;
  /** Extra headers, such as `anthropic-beta`. */
  headers?: Record<string, string>;
  /** How long to wait for the response to start and between two streamed events, in milliseconds; 120 000. */
  timeoutMs?: number;
  /** The context window in tokens, when it differs from the model family's. */
  contextWindow?: number;
}

const API_VERSION = "2023-06-01";
const MAX_DETAIL_LENGTH = 500;

/**
 * Calls Anthropic's Messages API. Text and thinking stream to the request's callbacks; tool calls come back whole;
 * transient failures (429, 5xx, 529 overloaded, network errors, timeouts, a stream cut short) are retried with backoff
 * honouring `retry-after` while nothing has reached the caller; every failure is a `ModelError`, or an `AbortError`
 * when the request's signal aborts. Needs `--allow-net` to the base URL's host.
 *
 * @example Call Claude
 * ```ts ignore
 * import { AnthropicChatModel } from "./anthropic_chat_model.ts";
 *
 * const model = new AnthropicChatModel({ model: "claude-sonnet-4-5", apiKey: Deno.env.get("ANTHROPIC_API_KEY")! });
 * const reply = await model.complete({ messages: [{ role: "user", content: "Hi" }], tools: [], signal: AbortSignal.timeout(60_000) });
 * console.log(reply.text);
 * ```
 */
export class AnthropicChatModel implements ChatModel {
  /** `anthropic:<model>`. */
  readonly id: string;
  /** Always `anthropic`. */
  readonly provider: string = "anthropic";
  /** The model name. */
  readonly model: string;
  /** The Messages API has no JSON-schema output mode here: typed calls use the `finish` tool or extraction. */
  readonly supportsStructuredOutput: boolean = false;
  /** The context window in tokens. */
  readonly contextWindow: number;
  #options: AnthropicChatModelOptions;
  #baseURL: string;
  #timeoutMs: number;

  /**
   * Creates the model; nothing is sent until `complete`.
   *
   * @param options The model, key, endpoint, timeout and retries.
   * @throws {TypeError} When the model name or key is missing.
   */
  constructor(options: AnthropicChatModelOptions) {
    if (typeof options.model !== "string" || options.model.trim() === "") {
      throw new TypeError(`Invalid model ${JSON.stringify(options.model)}: expected an Anthropic model name`);
    }
    if (typeof options.apiKey !== "string" || options.apiKey === "") {
      throw new TypeError("The Anthropic model needs an API key: set ANTHROPIC_API_KEY");
    }
    this.model = options.model;
    this.id = `anthropic:${options.model}`;
    this.contextWindow = options.contextWindow ?? defaultContextWindow("anthropic", options.model);
    this.#options = { ...options, headers: { ...options.headers } };
    this.#baseURL = (options.baseURL ?? "https://api.anthropic.com/v1").replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs ?? 120_000;
  }

  /** The endpoint, key included, for harnesses with their own client; a getter, so never serialised. */
  get endpoint(): ModelEndpoint {
    return {
      provider: "anthropic",
      model: this.model,
      baseURL: this.#baseURL,
      apiKey: this.#options.apiKey,
      headers: { ...this.#options.headers },
      timeoutMs: this.#timeoutMs,
      maxRetries: this.#options.maxRetries ?? DEFAULT_MAX_RETRIES,
    };
  }

  /**
   * Makes one call, retrying transient failures.
   *
   * @param request The conversation, tools, options and callbacks.
   * @returns The reply.
   * @throws {ModelError} When the provider fails for good.
   * @throws {AbortError} When `request.signal` aborts.
   */
  async complete(request: ModelRequest): Promise<ModelReply> {
    if (request.signal.aborted) throw abortErrorFrom(request.signal);
    const body = JSON.stringify(messagesRequestBody(request, this.model));
    let delivered = false;
    const retryAfter = new WeakMap<ModelError, number>();
    return await retry(async () => {
      try {
        return await this.#attempt(body, request, () => delivered = true);
      } catch (error) {
        if (error instanceof Failure) {
          if (error.retryAfterMs !== undefined) retryAfter.set(error.error, error.retryAfterMs);
          throw error.error;
        }
        throw error;
      }
    }, {
      ...this.#options,
      signal: request.signal,
      // A retry after text reached the caller would show that text twice.
      classify: (error) =>
        error instanceof ModelError && !delivered
          ? { retry: error.isRetryable, afterMs: retryAfter.get(error) }
          : { retry: false },
    });
  }

  async #attempt(body: string, request: ModelRequest, markDelivered: () => void): Promise<ModelReply> {
    const controller = new AbortController();
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, this.#timeoutMs);
    };
    const signal = AbortSignal.any([request.signal, controller.signal]);
    const interrupted = (cause?: unknown): Error => {
      if (request.signal.aborted) return abortErrorFrom(request.signal);
      if (timedOut) {
        return new Failure(
          new ModelError(
            `The provider "anthropic" did not answer within ${this.#timeoutMs} ms for model "${this.model}": ` +
              "it may be overloaded; raise timeoutMs if the model is just slow",
            { cause, isRetryable: true, provider: "anthropic" },
          ),
        );
      }
      return new Failure(
        new ModelError(`Could not reach provider "anthropic" at ${this.#baseURL}: ${clip(messageOf(cause))}`, {
          cause,
          isRetryable: true,
          provider: "anthropic",
        }),
      );
    };
    arm();
    try {
      let response: Response;
      try {
        response = await fetch(`${this.#baseURL}/messages`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-api-key": this.#options.apiKey,
            "anthropic-version": API_VERSION,
            ...this.#options.headers,
          },
          body,
          signal,
        });
      } catch (error) {
        throw interrupted(error);
      }
      if (!response.ok) throw await this.#statusFailure(response);
      const assembler = new MessageAssembler(this.model);
      const events = response.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
      try {
        for await (const event of events) {
          arm();
          const deltas = assembler.add(event.event ?? "message", event.data);
          for (
            const [callback, text] of [[request.onThinkingDelta, deltas.thinking], [
              request.onTextDelta,
              deltas.text,
            ]] as const
          ) {
            if (!callback || !text) continue;
            markDelivered();
            callback(text);
          }
        }
      } catch (error) {
        if (error instanceof StreamedError) {
          throw new Failure(
            new ModelError(
              `The provider "anthropic" reported ${error.type} in the middle of the reply: ${error.message}`,
              {
                cause: error,
                isRetryable: error.type === "overloaded_error" || error.type === "api_error",
                provider: "anthropic",
              },
            ),
          );
        }
        if (error instanceof SyntaxError) throw malformed(error);
        if (signal.aborted) throw interrupted(error);
        throw error;
      }
      if (signal.aborted) throw interrupted();
      try {
        return assembler.finish();
      } catch (error) {
        throw malformed(error as Error);
      }
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }

  async #statusFailure(response: Response): Promise<Failure> {
    const status = response.status;
    const text = await response.text().catch(() => "");
    let detail = text;
    let type: string | undefined;
    try {
      const parsed = JSON.parse(text);
      detail = String(parsed?.error?.message ?? text);
      type = parsed?.error?.type;
    } catch {
      // Not JSON: the raw text is the detail.
    }
    detail = clip(detail);
    const where = `provider "anthropic"`;
    const keyEnv = this.#options.apiKeyEnv;
    let message: string;
    switch (status) {
      case 401:
        message = keyEnv
          ? `The ${where} rejected the API key from ${keyEnv} (401): check that ${keyEnv} holds a valid key`
          : `The ${where} rejected the API key (401)`;
        break;
      case 403:
        message = `The ${where} denied access to model "${this.model}" (403): check the key's permissions`;
        break;
      case 404:
        message = `The ${where} has no model "${this.model}" or no endpoint at ${this.#baseURL} (404)`;
        break;
      case 429:
        message = `The ${where} rate-limited the request (429)`;
        break;
      case 529:
        message = `The ${where} is overloaded (529)`;
        break;
      default:
        message = status >= 500
          ? `The ${where} failed with status ${status}`
          : `The ${where} rejected the request for model "${this.model}" (${status})`;
    }
    const isContextOverflow = describesContextOverflow(status, type, detail);
    const retryAfterMs = parseRetryAfterMs(response.headers);
    return new Failure(
      new ModelError(detail ? `${message}: ${detail}` : message, {
        status,
        isRetryable: isRetryableStatus(status) || status === 529,
        provider: "anthropic",
        isContextOverflow,
      }),
      retryAfterMs,
    );
  }
}

function malformed(error: Error): Failure {
  return new Failure(
    new ModelError(`The provider "anthropic" sent a malformed reply: ${clip(error.message)}`, {
      cause: error,
      isRetryable: true,
      provider: "anthropic",
    }),
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error ?? "connection closed");
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_DETAIL_LENGTH ? `${oneLine.slice(0, MAX_DETAIL_LENGTH)}…` : oneLine;
}

/** A mapped failure on its way from one attempt to the retry loop. */
class Failure extends Error {
  constructor(readonly error: ModelError, readonly retryAfterMs?: number) {
    super(error.message);
  }
}
