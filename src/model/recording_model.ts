/**
 * `RecordingModel`: wraps a chat model and writes every exchange to a cassette, secrets removed.
 *
 * @module
 */

import { AbortError, ModelError } from "../errors.ts";
import { Redactor } from "../telemetry/redactor.ts";
import type { ChatModel, ModelReply, ModelRequest } from "./chat_model.ts";
import {
  type Cassette,
  CASSETTE_VERSION,
  type CassetteExchange,
  recordableRequest,
  type RecordedChunk,
} from "./cassette.ts";

/** The options of {@linkcode RecordingModel}. */
export interface RecordingModelOptions {
  /** The cassette file; written anew by the first recording model of this process that names it. */
  path: string;
  /** Secret values by name (the agent's `env`), removed from what is written, besides the model's API key. */
  secrets?: Record<string, string>;
}

/** One cassette file being written, shared by every recording model of the process that names it. */
class CassetteWriter {
  readonly #path: string;
  readonly #cassette: Cassette = { version: CASSETTE_VERSION, exchanges: [] };
  #writing: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.#path = path;
  }

  append(exchange: CassetteExchange): Promise<void> {
    this.#cassette.exchanges.push(exchange);
    const text = `${JSON.stringify(this.#cassette, null, 2)}\n`;
    // Written whole to a temporary file and renamed, so a reader never sees half a cassette.
    this.#writing = this.#writing.then(async () => {
      const temporary = `${this.#path}.${crypto.randomUUID()}.tmp`;
      await Deno.writeTextFile(temporary, text);
      await Deno.rename(temporary, this.#path);
    });
    return this.#writing;
  }
}

const writers = new Map<string, CassetteWriter>();

/**
 * A chat model that records: every call is passed to the wrapped model, and its request, streamed text and reasoning
 * deltas, and reply (or error) are appended to a cassette file. The API key of the wrapped model and the given
 * secrets are replaced by `[REDACTED:<name>]` in what is written. A call the caller aborted is not recorded.
 *
 * It has no `endpoint`, on purpose: a harness with its own provider client (`ai-sdk`) would call the endpoint directly
 * and bypass the recording; without one, every harness calls `complete`.
 *
 * Needs `--allow-write` for the cassette's directory.
 *
 * @example Recording the test model
 * ```ts
 * import { RecordingModel } from "./recording_model.ts";
 * import { TestModel } from "./test_models/test_model.ts";
 *
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * const model = new RecordingModel(new TestModel({ script: ["hi"] }), { path });
 * await model.complete({ messages: [{ role: "user", content: "hello" }], tools: [], signal: new AbortController().signal });
 * const cassette = JSON.parse(await Deno.readTextFile(path));
 * if (cassette.exchanges[0].reply.text !== "hi") throw new Error("not recorded");
 * await Deno.remove(path);
 * ```
 */
export class RecordingModel implements ChatModel {
  /** The wrapped model's id. */
  readonly id: string;
  /** The wrapped model's provider. */
  readonly provider: string;
  /** Whether the wrapped model takes `responseFormat`. */
  readonly supportsStructuredOutput: boolean;
  /** The wrapped model's context window. */
  readonly contextWindow?: number;
  readonly #inner: ChatModel;
  readonly #writer: CassetteWriter;
  readonly #redactor: Redactor;

  /**
   * Wraps a model.
   *
   * @param inner The model that answers.
   * @param options The cassette path and the secrets to remove.
   */
  constructor(inner: ChatModel, options: RecordingModelOptions) {
    if (typeof options?.path !== "string" || options.path === "") {
      throw new TypeError(`A recording model needs the cassette's "path", such as "tests/cassettes/triage.json"`);
    }
    this.#inner = inner;
    this.id = inner.id;
    this.provider = inner.provider;
    this.supportsStructuredOutput = inner.supportsStructuredOutput;
    this.contextWindow = inner.contextWindow;
    let writer = writers.get(options.path);
    if (!writer) writers.set(options.path, writer = new CassetteWriter(options.path));
    this.#writer = writer;
    const secrets: Record<string, string> = { ...options.secrets };
    if (inner.endpoint?.apiKey) secrets.API_KEY = inner.endpoint.apiKey;
    this.#redactor = new Redactor(secrets);
  }

  /**
   * Calls the wrapped model and records the exchange.
   *
   * @param request The request.
   * @returns The wrapped model's reply.
   */
  async complete(request: ModelRequest): Promise<ModelReply> {
    const chunks: RecordedChunk[] = [];
    const recorded = recordableRequest(request);
    const model = {
      provider: this.provider,
      id: this.id,
      supportsStructuredOutput: this.supportsStructuredOutput,
      ...(this.contextWindow === undefined ? {} : { contextWindow: this.contextWindow }),
    };
    let reply: ModelReply;
    try {
      reply = await this.#inner.complete({
        ...request,
        onTextDelta: (text) => {
          chunks.push({ text });
          request.onTextDelta?.(text);
        },
        onThinkingDelta: (text) => {
          chunks.push({ thinking: text });
          request.onThinkingDelta?.(text);
        },
      });
    } catch (error) {
      if (!(error instanceof AbortError) && !request.signal.aborted) {
        const failure = error as Partial<ModelError>;
        await this.#append({
          model,
          request: recorded,
          chunks,
          error: {
            name: failure.name ?? "Error",
            message: failure.message ?? String(error),
            ...(failure.status === undefined ? {} : { status: failure.status }),
            ...(failure.isRetryable === undefined ? {} : { isRetryable: failure.isRetryable }),
          },
        });
      }
      throw error;
    }
    await this.#append({ model, request: recorded, chunks, reply: structuredClone(reply) });
    return reply;
  }

  #append(exchange: CassetteExchange): Promise<void> {
    return this.#writer.append(this.#redactor.redact(exchange));
  }
}
