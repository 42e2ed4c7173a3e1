/**
 * `ReplayModel`: answers from a cassette recorded by `FLUE_RECORD`, key-less and deterministic, and fails clearly
 * when a request no longer matches the recording.
 *
 * @module
 */

import { abortErrorFrom, ModelError } from "../errors.ts";
import type { ChatModel, ModelReply, ModelRequest } from "./chat_model.ts";
import {
  type Cassette,
  type CassetteExchange,
  checkCassette,
  describeDifference,
  firstDifference,
  readCassette,
  recordableRequest,
  type RecordedModelRequest,
} from "./cassette.ts";

/** Which exchanges of a cassette have been replayed; shared by the models that replay one cassette together. */
export class ReplayCursor {
  /** The cassette. */
  readonly cassette: Cassette;
  /** What to call it in errors. */
  readonly source: string;
  readonly #used: boolean[];
  #calls = 0;

  /**
   * Loads a cassette for replay.
   *
   * @param cassette A cassette file path, or its parsed content.
   */
  constructor(cassette: string | Cassette) {
    this.source = typeof cassette === "string" ? `"${cassette}"` : "the cassette";
    this.cassette = typeof cassette === "string" ? readCassette(cassette) : checkCassette(cassette);
    this.#used = this.cassette.exchanges.map(() => false);
  }

  /**
   * Takes the first unused exchange whose request equals this one (calls made in parallel may come in another
   * order than recorded).
   *
   * @param request The request now, in its recorded form (or in the form `view` gives).
   * @param view Turns a recorded request into the form `request` has, such as the wire form; as is by default.
   * @returns The exchange.
   * @throws {Error} Naming the first differing field against the next unused exchange, or saying that the
   *   cassette is used up.
   */
  take(request: unknown, view: (recorded: RecordedModelRequest) => unknown = (recorded) => recorded): CassetteExchange {
    const call = ++this.#calls;
    const next = this.#used.indexOf(false);
    if (next === -1) {
      throw new Error(
        `Model call ${call} has no recording: cassette ${this.source} holds ${this.#used.length} exchange(s), all ` +
          `replayed. Record it again (FLUE_RECORD) if the agent now makes more calls`,
      );
    }
    for (let index = next; index < this.#used.length; index++) {
      if (this.#used[index]) continue;
      if (firstDifference(view(this.cassette.exchanges[index].request), request) === undefined) {
        this.#used[index] = true;
        return this.cassette.exchanges[index];
      }
    }
    const found = firstDifference(view(this.cassette.exchanges[next].request), request)!;
    throw new Error(
      `Model call ${call} does not match cassette ${this.source} (exchange ${next + 1}): ` +
        `${describeDifference(found)}. Record it again (FLUE_RECORD) if the change is intended`,
    );
  }
}

/**
 * A model that replays a cassette: each call is matched against the recorded requests (messages, tools, response
 * format and reasoning hint) and answered with the recorded reply, its text and reasoning streamed in the recorded
 * chunks, or with the recorded error. Its id, provider, structured-output support and context window are those of the
 * recorded model, so the harness sends the same requests as when recording. No key, no network.
 *
 * @example Replaying a cassette
 * ```ts
 * import { ReplayModel } from "./replay_model.ts";
 *
 * const model = new ReplayModel({
 *   version: 1,
 *   exchanges: [{
 *     model: { provider: "openai", id: "gpt-5.5", supportsStructuredOutput: true },
 *     request: { messages: [{ role: "user", content: "hi" }], tools: [] },
 *     chunks: [{ text: "hel" }, { text: "lo" }],
 *     reply: { text: "hello", toolCalls: [], usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, stopReason: "stop", model: "gpt-5.5" },
 *   }],
 * });
 * const reply = await model.complete({ messages: [{ role: "user", content: "hi" }], tools: [], signal: new AbortController().signal });
 * if (reply.text !== "hello") throw new Error("unexpected");
 * ```
 */
export class ReplayModel implements ChatModel {
  /** The recorded model's id. */
  readonly id: string;
  /** The recorded model's provider. */
  readonly provider: string;
  /** Whether the recorded model took `responseFormat`. */
  readonly supportsStructuredOutput: boolean;
  /** The recorded model's context window. */
  readonly contextWindow?: number;
  readonly #cursor: ReplayCursor;

  /**
   * Loads a cassette.
   *
   * @param cassette A cassette file path (read at once; needs `--allow-read`), its parsed content, or a
   *   `ReplayCursor` shared with other replay models of the same run.
   * @throws {TypeError} When the file cannot be read or is not a cassette.
   */
  constructor(cassette: string | Cassette | ReplayCursor) {
    this.#cursor = cassette instanceof ReplayCursor ? cassette : new ReplayCursor(cassette);
    const first = this.#cursor.cassette.exchanges[0]?.model;
    this.id = first?.id ?? "replay";
    this.provider = first?.provider ?? "replay";
    this.supportsStructuredOutput = first?.supportsStructuredOutput ?? false;
    this.contextWindow = first?.contextWindow;
  }

  /**
   * Answers with the recorded exchange that matches the request.
   *
   * @param request The request.
   * @returns The recorded reply.
   * @throws {Error} When no recording matches, naming the first differing field.
   * @throws {ModelError} When the recorded call failed.
   */
  async complete(request: ModelRequest): Promise<ModelReply> {
    if (request.signal.aborted) throw abortErrorFrom(request.signal);
    const exchange = this.#cursor.take(recordableRequest(request));
    for (const chunk of exchange.chunks) {
      if ("text" in chunk) request.onTextDelta?.(chunk.text);
      else request.onThinkingDelta?.(chunk.thinking);
    }
    // Deltas are delivered synchronously; a microtask lets an abort raised by a callback land first.
    await Promise.resolve();
    if (request.signal.aborted) throw abortErrorFrom(request.signal);
    if (exchange.error !== undefined || exchange.reply === undefined) {
      const failure = exchange.error ?? { name: "Error", message: "The recorded call has neither reply nor error" };
      throw new ModelError(`${failure.message} (replayed from ${this.#cursor.source})`, {
        status: failure.status,
        isRetryable: failure.isRetryable,
        provider: exchange.model.provider,
      });
    }
    return structuredClone(exchange.reply);
  }
}
