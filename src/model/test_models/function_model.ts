/**
 * A key-less model whose replies come from a function, for tests that decide each reply from the request.
 *
 * @module
 */

import type { ChatModel, ModelReply, ModelRequest } from "../chat_model.ts";
import { assertContextWindow, TEST_CONTEXT_WINDOW } from "../context_window.ts";
import type { TestReply } from "./test_model.ts";
import { normalizeReply, snapshotRequest, streamReply, throwIfAborted, toToolCalls } from "./_scripted_reply.ts";

/** What a {@linkcode FunctionModel}'s function returns: the reply text, or text and tool calls. */
export type FunctionModelReply = string | TestReply;

/** What a {@linkcode FunctionModel}'s function receives besides the request. */
export interface FunctionModelInfo {
  /** 0 for the model's first call, then 1, 2, ... */
  callIndex: number;
}

/**
 * Decides one reply of a {@linkcode FunctionModel}.
 *
 * @param request The request as the harness sent it: messages, tools, response format and signal.
 * @param info The call's index.
 * @returns The reply, or a promise of it. A thrown error becomes the call's error.
 */
export type FunctionModelHandler = (
  request: ModelRequest,
  info: FunctionModelInfo,
) => FunctionModelReply | Promise<FunctionModelReply>;

/** The options of {@linkcode FunctionModel}. */
export interface FunctionModelOptions {
  /** The model id; defaults to `"function"`. */
  id?: string;
  /**
   * Whether the harness may send `responseFormat`; defaults to `false`, so typed calls go through the text path
   * (result markers, extraction, repair).
   */
  supportsStructuredOutput?: boolean;
  /**
   * The context window in tokens; 200,000 by default, so that scripted tests meet no compaction they did not ask for.
   * Set a small one (from 1,000) to test compaction.
   */
  contextWindow?: number;
}

/**
 * A model whose replies come from a function: no key, no network, and as deterministic as the function. The reply's
 * text streams through `onTextDelta` in word groups before `complete` resolves, tool calls without an id get `call_1`,
 * `call_2`, ..., the request's signal is honoured before and after the function and between chunks, and every
 * request is recorded in {@linkcode FunctionModel.calls}.
 *
 * @example Usage
 * ```ts
 * import { FunctionModel } from "./function_model.ts";
 *
 * const model = new FunctionModel((request) => `You said ${request.messages.at(-1)?.content}`);
 * const reply = await model.complete({ messages: [{ role: "user", content: "hi" }], tools: [], signal: new AbortController().signal });
 * if (reply.text !== "You said hi") throw new Error("unexpected");
 * ```
 */
export class FunctionModel implements ChatModel {
  /** The model id, `"function"` unless given. */
  readonly id: string;
  /** Always `"function"`. */
  readonly provider: string = "function";
  /** Whether `responseFormat` is sent; `false` unless given. */
  readonly supportsStructuredOutput: boolean;
  /** The context window in tokens. */
  readonly contextWindow: number;
  #handler: FunctionModelHandler;
  #calls: ModelRequest[] = [];
  #toolCallCount = 0;

  /**
   * Creates a model that answers with `handler`'s replies.
   *
   * @param handler Decides each reply.
   * @param options The model id and whether it takes `responseFormat`.
   * @throws {TypeError} When `handler` is not a function or the id is empty.
   */
  constructor(handler: FunctionModelHandler, options: FunctionModelOptions = {}) {
    if (typeof handler !== "function") {
      throw new TypeError(`Invalid FunctionModel handler: expected a function, got ${typeof handler}`);
    }
    if (options.id !== undefined && (typeof options.id !== "string" || options.id === "")) {
      throw new TypeError(`Invalid FunctionModel id ${JSON.stringify(options.id)}: use a non-empty string`);
    }
    this.#handler = handler;
    this.id = options.id ?? "function";
    this.supportsStructuredOutput = options.supportsStructuredOutput ?? false;
    if (options.contextWindow !== undefined) assertContextWindow(options.contextWindow, "FunctionModel");
    this.contextWindow = options.contextWindow ?? TEST_CONTEXT_WINDOW;
  }

  /** Every request so far, oldest first, copied when it arrived. */
  get calls(): readonly ModelRequest[] {
    return this.#calls;
  }

  /**
   * Answers one call with the function's reply.
   *
   * @param request The conversation, tools and options.
   * @returns The reply, after its text has streamed.
   * @throws {TypeError} When the function returns something other than a reply.
   * @throws {AbortError} When the request's signal aborts.
   */
  async complete(request: ModelRequest): Promise<ModelReply> {
    const callIndex = this.#calls.length;
    this.#calls.push(snapshotRequest(request));
    throwIfAborted(request.signal);
    const returned = await this.#handler(request, { callIndex });
    throwIfAborted(request.signal);
    const reply = normalizeReply(returned, `FunctionModel reply to call ${callIndex}`);
    const toolCalls = toToolCalls(reply.toolCalls, () => `call_${++this.#toolCallCount}`);
    return await streamReply(request, reply.text ?? "", toolCalls, this.id);
  }
}
