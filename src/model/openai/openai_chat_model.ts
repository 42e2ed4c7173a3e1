/**
 * A `ChatModel` for any OpenAI-compatible Chat Completions endpoint, on the official `openai` SDK.
 *
 * @module
 */

import OpenAI from "openai";
import { abortErrorFrom, ModelError } from "../../errors.ts";
import type { ChatModel, ModelEndpoint, ModelReply, ModelRequest } from "../chat_model.ts";
import { defaultContextWindow } from "../context_window.ts";
import type { ProviderSettings } from "../providers.ts";
import { validateName, validateSettings } from "../_provider_validation.ts";
import { buildRequestBody } from "./_openai_request.ts";
import { replyFromCompletion, StreamAssembler } from "./_openai_reply.ts";
import { type FailureContext, timeoutError, toModelError } from "./_openai_failure.ts";
import { DEFAULT_MAX_RETRIES, retry, type RetryPolicy } from "../retry.ts";

/** The options of {@linkcode OpenAIChatModel}: the endpoint, the model, and how to stream, time out and retry. */
export interface OpenAIChatModelOptions extends ProviderSettings, RetryPolicy {
  /** The provider name, used in the model id and in errors. */
  provider: string;
  /** The provider's model name, such as `gpt-5.5`. */
  model: string;
  /**
   * The variable `apiKey` was read from, named in the error for a rejected key. The model never reads the environment
   * itself: pass the key in `apiKey` (`resolveModel` does), or none for a key-less endpoint.
   */
  apiKeyEnv?: string;
  /**
   * How long to wait for the response to start, and then between two streamed chunks, in milliseconds. A stream that
   * keeps sending is never cut off, however long it runs. Defaults to 120000.
   */
  timeoutMs?: number;
}

/** The default per-request timeout in milliseconds. */
export const DEFAULT_TIMEOUT_MS: number = 120_000;

// The SDK refuses to start without a key, so key-less endpoints get a placeholder and the header is removed again.
const NO_KEY = "no-key";

/**
 * Calls an OpenAI-compatible Chat Completions endpoint: streams text and reasoning to the request's callbacks,
 * assembles tool calls, retries transient failures (429, 5xx, network errors, timeouts, malformed replies) with
 * backoff while nothing has been streamed to the caller, and turns every failure into a `ModelError` or, when the
 * request's signal aborts, an `AbortError`. The SDK's own retries are off so that only this loop retries.
 *
 * Needs `--allow-net` to the base URL's host. The SDK also reads `OPENAI_*` variables when constructed, which needs
 * `--allow-env` for them (without it, it reads nothing).
 *
 * @example Call a local Ollama model
 * ```ts ignore
 * import { OpenAIChatModel } from "./openai_chat_model.ts";
 *
 * const model = new OpenAIChatModel({ provider: "ollama", model: "llama3.2", baseURL: "http://127.0.0.1:11434/v1" });
 * const reply = await model.complete({
 *   messages: [{ role: "user", content: "Say hi" }],
 *   tools: [],
 *   signal: AbortSignal.timeout(60_000),
 *   onTextDelta: (text) => console.log(text),
 * });
 * console.log(reply.text, reply.usage);
 * ```
 */
export class OpenAIChatModel implements ChatModel {
  /** The full model string, such as `openai:gpt-5.5`. */
  readonly id: string;
  /** The provider name. */
  readonly provider: string;
  /** The provider's model name. */
  readonly model: string;
  /** Whether `responseFormat` is sent as `response_format`. */
  readonly supportsStructuredOutput: boolean;
  /** The context window in tokens: the `contextWindow` setting, or the model family's (see `defaultContextWindow`). */
  readonly contextWindow: number;
  #client: OpenAI;
  #options: OpenAIChatModelOptions;
  #timeoutMs: number;
  #context: FailureContext;

  /**
   * Creates the model and its SDK client; nothing is sent until `complete`.
   *
   * @param options The endpoint, the model, and how to stream, time out and retry.
   * @throws {TypeError} When a setting is invalid.
   * @throws {RangeError} When `timeoutMs` or `maxRetries` is out of range.
   */
  constructor(options: OpenAIChatModelOptions) {
    validateName(options.provider, true);
    if (typeof options.model !== "string" || options.model.trim() === "") {
      throw new TypeError(`Invalid model ${JSON.stringify(options.model)}: expected the provider's model name`);
    }
    validateSettings(options.provider, options);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2_147_483_647) {
      throw new RangeError(`Invalid timeoutMs ${JSON.stringify(timeoutMs)}: expected a whole number of milliseconds`);
    }
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 100) {
      throw new RangeError(`Invalid maxRetries ${JSON.stringify(maxRetries)}: expected a whole number from 0 to 100`);
    }
    this.provider = options.provider;
    this.model = options.model;
    this.id = `${options.provider}:${options.model}`;
    this.supportsStructuredOutput = options.supportsStructuredOutput ?? false;
    this.contextWindow = options.contextWindow ?? defaultContextWindow(options.provider, options.model);
    this.#options = { ...options, headers: { ...options.headers } };
    this.#timeoutMs = timeoutMs;
    this.#context = {
      provider: options.provider,
      model: options.model,
      baseURL: options.baseURL,
      apiKeyEnv: options.apiKeyEnv,
    };
    const hasKey = options.apiKey !== undefined && options.apiKey !== "";
    this.#client = new OpenAI({
      apiKey: hasKey ? options.apiKey : NO_KEY,
      baseURL: options.baseURL,
      // Explicit nulls keep OPENAI_ORG_ID and friends from leaking into requests to other providers.
      organization: null,
      project: null,
      adminAPIKey: null,
      webhookSecret: null,
      maxRetries: 0,
      timeout: timeoutMs,
      logLevel: "off",
      defaultHeaders: hasKey ? { ...options.headers } : { Authorization: null, ...options.headers },
    });
  }

  /** The endpoint, key included, for harnesses that call it with their own client; a getter, so never serialised. */
  get endpoint(): ModelEndpoint {
    const options = this.#options;
    const endpoint: ModelEndpoint = {
      provider: this.provider,
      model: this.model,
      baseURL: options.baseURL,
      headers: { ...options.headers },
      timeoutMs: this.#timeoutMs,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    };
    if (options.stream !== undefined) endpoint.stream = options.stream;
    if (options.apiKey !== undefined && options.apiKey !== "") endpoint.apiKey = options.apiKey;
    return endpoint;
  }

  /**
   * Makes one call, retrying transient failures.
   *
   * @param request The conversation, tools, options and callbacks.
   * @returns The reply.
   * @throws {ModelError} When the provider fails for good; `isRetryable` says whether the condition was transient.
   * @throws {AbortError} When `request.signal` aborts, also during a backoff wait.
   */
  async complete(request: ModelRequest): Promise<ModelReply> {
    if (request.signal.aborted) throw abortErrorFrom(request.signal);
    const stream = request.stream ?? this.#options.stream ?? true;
    const body = buildRequestBody(request, {
      model: this.model,
      stream,
      supportsStructuredOutput: this.supportsStructuredOutput,
      reasoning: this.#options.reasoning,
    });
    const retryAfter = new WeakMap<ModelError, number>();
    let delivered = false;
    return await retry(async () => {
      try {
        return await this.#attempt(body, request, () => delivered = true);
      } catch (error) {
        if (!(error instanceof AttemptFailure)) throw error;
        if (delivered && error.error.isRetryable) throw notRetried(error.error);
        if (error.retryAfterMs !== undefined) retryAfter.set(error.error, error.retryAfterMs);
        throw error.error;
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

  async #attempt(
    body: OpenAI.Chat.ChatCompletionCreateParams,
    request: ModelRequest,
    markDelivered: () => void,
  ): Promise<ModelReply> {
    const controller = new AbortController();
    const forwardAbort = () => controller.abort(request.signal.reason);
    request.signal.addEventListener("abort", forwardAbort, { once: true });
    let timedOut = false;
    // One timer per attempt, re-armed only when it fires early: resetting a timer on every chunk costs more than the
    // chunk itself on a fast stream.
    let lastActivity = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const armTimer = (delayMs: number) => {
      timer = setTimeout(() => {
        const idleMs = performance.now() - lastActivity;
        if (idleMs < this.#timeoutMs) return armTimer(this.#timeoutMs - idleMs);
        timedOut = true;
        controller.abort(new Error(`Timed out after ${this.#timeoutMs} ms`));
      }, delayMs);
    };
    const restartTimer = () => {
      lastActivity = performance.now();
    };
    // The SDK ends an aborted stream quietly instead of throwing, so an early end must be checked for both causes.
    const throwIfInterrupted = () => {
      if (request.signal.aborted) throw abortErrorFrom(request.signal);
      if (timedOut) throw new AttemptFailure(timeoutError(this.#context, this.#timeoutMs));
    };
    const deliver = (callback: ((text: string) => void) | undefined, text: string) => {
      if (!callback || text === "") return;
      markDelivered();
      try {
        callback(text);
      } catch (error) {
        throw new CallbackFailure(error);
      }
    };
    armTimer(this.#timeoutMs);
    let isComplete = false;
    const requestOptions = { signal: controller.signal, maxRetries: 0 };
    try {
      if (body.stream) {
        const chunks = await this.#client.chat.completions.create({ ...body, stream: true }, requestOptions);
        const assembler = new StreamAssembler(this.model);
        for await (const chunk of chunks) {
          restartTimer();
          const deltas = assembler.add(chunk);
          deliver(request.onThinkingDelta, deltas.thinking);
          deliver(request.onTextDelta, deltas.text);
        }
        throwIfInterrupted();
        isComplete = true;
        return assembler.finish();
      }
      const completion = await this.#client.chat.completions.create({ ...body, stream: false }, requestOptions);
      throwIfInterrupted();
      isComplete = true;
      const { reply, thinking } = replyFromCompletion(completion, this.model);
      // Callers get the same callbacks as when streaming, each once with the whole text.
      deliver(request.onThinkingDelta, thinking);
      deliver(request.onTextDelta, reply.text);
      return reply;
    } catch (error) {
      if (error instanceof CallbackFailure) throw error.error;
      throwIfInterrupted();
      if (error instanceof AttemptFailure) throw error;
      const mapped = toModelError(error, this.#context);
      throw new AttemptFailure(mapped.error, mapped.retryAfterMs);
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", forwardAbort);
      // A finished response needs no cancelling; an interrupted one must release its connection.
      if (!isComplete) controller.abort();
    }
  }
}

function notRetried(error: ModelError): ModelError {
  return new ModelError(`${error.message} (not retried: part of the reply had already streamed)`, {
    cause: error.cause,
    status: error.status,
    isRetryable: error.isRetryable,
    provider: error.provider,
  });
}

/** A mapped failure on its way from one attempt to the retry loop. */
class AttemptFailure {
  constructor(readonly error: ModelError, readonly retryAfterMs?: number) {}
}

/** An error a caller's callback threw; it passes through unchanged and is never retried. */
class CallbackFailure {
  constructor(readonly error: unknown) {}
}
