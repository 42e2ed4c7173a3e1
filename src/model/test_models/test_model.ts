/**
 * The key-less, deterministic model for tests and examples: scripted, or driven by the conversation itself.
 *
 * @module
 */

import type { ChatModel, ModelReply, ModelRequest } from "../chat_model.ts";
import { assertContextWindow, TEST_CONTEXT_WINDOW } from "../context_window.ts";
import { normalizeReply, snapshotRequest, streamReply, throwIfAborted, toToolCalls } from "./_scripted_reply.ts";
import { unscriptedReply } from "./_unscripted_reply.ts";

/** A tool call a key-less model makes. */
export interface TestToolCall {
  /** The tool's name. */
  name: string;
  /** The arguments: an object (sent as JSON) or raw text, which may be deliberately invalid JSON. Defaults to `{}`. */
  args?: Record<string, unknown> | string;
  /** The call id; `call_1`, `call_2`, ... per model when omitted. */
  id?: string;
}

/** A reply of a key-less model: text, tool calls, or both. */
export interface TestReply {
  /** The assistant text; empty when omitted. */
  text?: string;
  /** The tool calls, in order. */
  toolCalls?: TestToolCall[];
}

/** One step of a {@linkcode TestModel} script: a text reply, a reply object, or an error the call throws. */
export type TestStep = string | TestReply | { error: Error };

/** The options of {@linkcode TestModel}. */
export interface TestModelOptions {
  /** Replies consumed one per call; without a script the model answers from the conversation (see the class). */
  script?: TestStep[];
  /** The model id; defaults to `"test"`. */
  id?: string;
  /**
   * The context window in tokens; 200,000 by default, so that scripted tests meet no compaction they did not ask for.
   * Set a small one (from 1,000) to test compaction.
   */
  contextWindow?: number;
  /**
   * How many of the most recent requests {@linkcode TestModel.calls} keeps; all of them by default. A long-running
   * server on the `test` model keeps none (its `calls` would otherwise grow with every request it answers).
   */
  recordCalls?: number;
}

/**
 * A model that needs no key and no network and always answers the same way to the same conversation.
 *
 * With a `script`, each call takes the next step: a string is the reply text, `{ text, toolCalls }` a reply, and
 * `{ error }` is thrown. A call after the last step throws, saying how many steps there were.
 *
 * Without a script it exercises the loop: when the newest user message names offered tools (whole words, any case),
 * it calls each once with arguments generated from the tool's JSON Schema (a quoted string in the message fills the
 * first string argument it fits); after their results it answers with a summary; with `responseFormat` it answers
 * with JSON valid for the schema; otherwise it answers `Test reply to: "<the first 80 characters of the message>"`.
 *
 * Text streams through `onTextDelta` in word groups before `complete` resolves; usage is characters / 4, rounded up;
 * the request's signal is honoured between chunks; every request is recorded in {@linkcode TestModel.calls}.
 *
 * @example Usage
 * ```ts
 * import { TestModel } from "./test_model.ts";
 *
 * const model = new TestModel({ script: ["Hello", { toolCalls: [{ name: "read", args: { path: "a.md" } }] }] });
 * const first = await model.complete({ messages: [{ role: "user", content: "Hi" }], tools: [], signal: new AbortController().signal });
 * if (first.text !== "Hello" || model.stepsRemaining !== 1) throw new Error("unexpected");
 * ```
 */
export class TestModel implements ChatModel {
  /** The model id, `"test"` unless given. */
  readonly id: string;
  /** Always `"test"`. */
  readonly provider: string = "test";
  /** Always `true`: `responseFormat` is answered with schema-valid JSON. */
  readonly supportsStructuredOutput: boolean = true;
  /** The context window in tokens. */
  readonly contextWindow: number;
  #script: readonly TestStep[] | undefined;
  #nextStep = 0;
  #calls: ModelRequest[] = [];
  #callCount = 0;
  readonly #recordCalls: number;
  #toolCallCount = 0;

  /**
   * Creates a test model, scripted or not.
   *
   * @param options The script and the model id.
   * @throws {TypeError} When a script step has the wrong shape; the message names the step.
   */
  constructor(options: TestModelOptions = {}) {
    if (options.id !== undefined && (typeof options.id !== "string" || options.id === "")) {
      throw new TypeError(`Invalid TestModel id ${JSON.stringify(options.id)}: use a non-empty string`);
    }
    this.id = options.id ?? "test";
    if (options.contextWindow !== undefined) assertContextWindow(options.contextWindow, "TestModel");
    this.contextWindow = options.contextWindow ?? TEST_CONTEXT_WINDOW;
    const recordCalls = options.recordCalls ?? Infinity;
    if (!(recordCalls >= 0) || (Number.isFinite(recordCalls) && !Number.isInteger(recordCalls))) {
      throw new TypeError(`Invalid TestModel recordCalls ${recordCalls}: use a whole number from 0`);
    }
    this.#recordCalls = recordCalls;
    if (options.script !== undefined) {
      if (!Array.isArray(options.script)) throw new TypeError("Invalid TestModel script: expected an array of steps");
      this.#script = Object.freeze(options.script.map((step, index) => checkStep(step, index)));
    }
  }

  /** The requests so far (the most recent `recordCalls` of them), oldest first, copied when they arrived. */
  get calls(): readonly ModelRequest[] {
    return this.#calls;
  }

  /** Script steps not used yet; `Infinity` without a script. */
  get stepsRemaining(): number {
    return this.#script === undefined ? Infinity : this.#script.length - this.#nextStep;
  }

  /**
   * Answers one call: the next script step, or a reply decided from the conversation.
   *
   * @param request The conversation, tools and options.
   * @returns The reply, after its text has streamed.
   * @throws {Error} A scripted `{ error }`, or when the script has run out.
   * @throws {AbortError} When the request's signal aborts.
   */
  async complete(request: ModelRequest): Promise<ModelReply> {
    const callNumber = ++this.#callCount;
    if (this.#recordCalls > 0) {
      this.#calls.push(snapshotRequest(request));
      if (this.#calls.length > this.#recordCalls) this.#calls.shift();
    }
    throwIfAborted(request.signal);
    let reply: TestReply;
    if (this.#script === undefined) {
      reply = unscriptedReply(request);
    } else {
      if (this.#nextStep >= this.#script.length) {
        throw new Error(
          `TestModel script has ${this.#script.length} step(s), all used, and call ${callNumber} asked for another: ` +
            "add a step to the script",
        );
      }
      const step = this.#script[this.#nextStep++];
      if (typeof step === "object" && "error" in step) throw step.error;
      reply = typeof step === "string" ? { text: step } : step;
    }
    const toolCalls = toToolCalls(reply.toolCalls, () => `call_${++this.#toolCallCount}`);
    return await streamReply(request, reply.text ?? "", toolCalls, this.id);
  }
}

function checkStep(step: unknown, index: number): TestStep {
  if (typeof step === "object" && step !== null && "error" in step) {
    if (!((step as { error: unknown }).error instanceof Error)) {
      throw new TypeError(`Invalid TestModel script step ${index + 1}: "error" must be an Error`);
    }
    return step as { error: Error };
  }
  return normalizeReply(step, `TestModel script step ${index + 1}`);
}
