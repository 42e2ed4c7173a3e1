/**
 * Cassettes: recorded model exchanges (request, streamed chunks, reply or error) in one JSON file, written by
 * `RecordingModel` and replayed by `ReplayModel` and `startFakeOpenAI({ cassette })`. See `docs/record_replay.md`.
 *
 * @module
 */

import type { ModelReply, ModelRequest, ResponseFormat, ThinkingLevel, ToolSchema } from "./chat_model.ts";
import type { Message } from "./message.ts";

/** The version written in every cassette; a cassette of another version is refused. */
export const CASSETTE_VERSION = 1;

/** The part of a request a replay must match. */
export interface RecordedModelRequest {
  /** The messages, system prompt first. */
  messages: Message[];
  /** The tools offered. */
  tools: ToolSchema[];
  /** The structured-output format, when asked for. */
  responseFormat?: ResponseFormat;
  /** The reasoning effort hint, when given. */
  thinkingLevel?: ThinkingLevel;
}

/** One streamed piece of a reply, in the order the model sent it. */
export type RecordedChunk = { text: string } | { thinking: string };

/** The model that answered an exchange, as far as a replay needs to stand in for it. */
export interface RecordedModel {
  /** The provider, such as `openai`. */
  provider: string;
  /** The model id. */
  id: string;
  /** Whether it took `responseFormat` (it changes what the harness sends). */
  supportsStructuredOutput: boolean;
  /** Its context window, when known (it changes when history is compacted). */
  contextWindow?: number;
}

/** One model call: what was sent, and what came back. */
export interface CassetteExchange {
  /** The model that answered. */
  model: RecordedModel;
  /** The request. */
  request: RecordedModelRequest;
  /** Text and reasoning deltas as they streamed. */
  chunks: RecordedChunk[];
  /** The reply; absent when the call failed. */
  reply?: ModelReply;
  /** The failure; absent when the call succeeded. */
  error?: { name: string; message: string; status?: number; isRetryable?: boolean };
}

/** A cassette file's content. */
export interface Cassette {
  /** {@linkcode CASSETTE_VERSION}. */
  version: number;
  /** The exchanges, in the order the calls were made. */
  exchanges: CassetteExchange[];
}

/**
 * The recordable part of a request, as plain JSON (signal, callbacks and the operation's ids left out).
 *
 * @param request The request as a harness sent it.
 * @returns The part a replay matches.
 */
export function recordableRequest(request: ModelRequest): RecordedModelRequest {
  const recorded: RecordedModelRequest = {
    messages: structuredClone([...request.messages]),
    tools: structuredClone([...request.tools]),
  };
  if (request.responseFormat !== undefined) recorded.responseFormat = structuredClone(request.responseFormat);
  if (request.thinkingLevel !== undefined) recorded.thinkingLevel = request.thinkingLevel;
  return JSON.parse(JSON.stringify(recorded));
}

/**
 * Reads and checks a cassette file.
 *
 * @param path The file.
 * @returns The cassette.
 * @throws {TypeError} When the file is not a cassette of this version.
 */
export function readCassette(path: string): Cassette {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new TypeError(`Cannot read cassette "${path}": record it first with FLUE_RECORD=${path}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`Cassette "${path}" is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return checkCassette(value, `"${path}"`);
}

/**
 * Checks a cassette value.
 *
 * @param value A parsed cassette.
 * @param source What to call it in errors.
 * @returns The cassette.
 * @throws {TypeError} When it is not a cassette of this version.
 */
export function checkCassette(value: unknown, source = "the cassette"): Cassette {
  const cassette = value as Partial<Cassette> | null;
  if (cassette === null || typeof cassette !== "object" || !Array.isArray(cassette.exchanges)) {
    throw new TypeError(`Cassette ${source} has no "exchanges" list: it was not written by FLUE_RECORD`);
  }
  if (cassette.version !== CASSETTE_VERSION) {
    throw new TypeError(
      `Cassette ${source} is version ${cassette.version}, and this Flue reads version ${CASSETTE_VERSION}: record it again`,
    );
  }
  return cassette as Cassette;
}

/**
 * Finds the first place where two JSON values differ, depth first in key order of the recorded value.
 *
 * @example Finding a difference
 * ```ts
 * import { firstDifference } from "./cassette.ts";
 * import assert from "node:assert/strict";
 *
 * const found = firstDifference({ messages: [{ content: "a" }] }, { messages: [{ content: "b" }] });
 * assert.equal(found?.path, "messages[0].content");
 * ```
 *
 * @param recorded The value in the cassette.
 * @param actual The value now.
 * @param path The path so far.
 * @returns The path and both values, or undefined when they are equal.
 */
export function firstDifference(
  recorded: unknown,
  actual: unknown,
  path = "",
): { path: string; recorded: unknown; actual: unknown } | undefined {
  if (Object.is(recorded, actual)) return undefined;
  const isObject = (value: unknown) => value !== null && typeof value === "object";
  if (!isObject(recorded) || !isObject(actual) || Array.isArray(recorded) !== Array.isArray(actual)) {
    return { path: path || "(the whole value)", recorded, actual };
  }
  if (Array.isArray(recorded) && Array.isArray(actual)) {
    for (let index = 0; index < Math.max(recorded.length, actual.length); index++) {
      const found = firstDifference(recorded[index], actual[index], `${path}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  const left = recorded as Record<string, unknown>;
  const right = actual as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])];
  for (const key of keys) {
    const found = firstDifference(left[key], right[key], path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return undefined;
}

/**
 * Describes a mismatch for an error message, values shortened.
 *
 * @param found The difference.
 * @returns Text such as `messages[1].content: recorded "a", now "b"`.
 */
export function describeDifference(found: { path: string; recorded: unknown; actual: unknown }): string {
  const shown = (value: unknown) => {
    const text = value === undefined ? "nothing" : JSON.stringify(value);
    return text.length > 160 ? `${text.slice(0, 157)}...` : text;
  };
  return `${found.path}: recorded ${shown(found.recorded)}, now ${shown(found.actual)}`;
}
