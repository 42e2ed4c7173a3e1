/**
 * What the key-less models share: turning a reply description into a `ModelReply`, streaming its text in word groups,
 * honouring the abort signal, and estimating usage.
 *
 * @module
 */

import { abortErrorFrom } from "../../errors.ts";
import type { ModelReply, ModelRequest } from "../chat_model.ts";
import type { Message, ToolCall, Usage } from "../message.ts";
import type { TestReply, TestToolCall } from "./test_model.ts";

/** Words per streamed text chunk: small enough that a short reply still arrives in several pieces. */
const WORDS_PER_CHUNK = 3;

/**
 * Checks that `reply` is a text or a `{ text?, toolCalls? }` object, saying where it came from when it is not.
 *
 * @param reply The value to check.
 * @param where Where the value came from, for the message, such as `TestModel script step 2`.
 * @returns The reply as an object.
 */
export function normalizeReply(reply: unknown, where: string): TestReply {
  if (typeof reply === "string") return { text: reply };
  if (typeof reply !== "object" || reply === null || Array.isArray(reply)) {
    throw new TypeError(`Invalid ${where}: expected a string or { text, toolCalls }, got ${describe(reply)}`);
  }
  const { text, toolCalls } = reply as Record<string, unknown>;
  if (text !== undefined && typeof text !== "string") {
    throw new TypeError(`Invalid ${where}: "text" must be a string, got ${describe(text)}`);
  }
  if (toolCalls !== undefined && !Array.isArray(toolCalls)) {
    throw new TypeError(`Invalid ${where}: "toolCalls" must be an array, got ${describe(toolCalls)}`);
  }
  for (const [index, call] of (toolCalls ?? []).entries()) {
    const { name, args, id } = (call ?? {}) as Record<string, unknown>;
    const at = `${where}, tool call ${index + 1}`;
    if (typeof name !== "string" || name === "") {
      throw new TypeError(`Invalid ${at}: "name" must be a non-empty string, got ${describe(name)}`);
    }
    if (args !== undefined && typeof args !== "string" && (typeof args !== "object" || args === null)) {
      throw new TypeError(`Invalid ${at}: "args" must be an object or a JSON string, got ${describe(args)}`);
    }
    if (id !== undefined && (typeof id !== "string" || id === "")) {
      throw new TypeError(`Invalid ${at}: "id" must be a non-empty string, got ${describe(id)}`);
    }
  }
  return { text, toolCalls: toolCalls as TestToolCall[] | undefined };
}

/**
 * Turns tool call descriptions into {@linkcode ToolCall}s, giving ids from `nextId` where none is set.
 *
 * @param calls The descriptions.
 * @param nextId Returns the next generated id (`call_1`, `call_2`, ...).
 * @returns The tool calls with raw JSON arguments.
 */
export function toToolCalls(calls: readonly TestToolCall[] | undefined, nextId: () => string): ToolCall[] {
  return (calls ?? []).map((call) => ({
    id: call.id ?? nextId(),
    name: call.name,
    arguments: typeof call.args === "string" ? call.args : JSON.stringify(call.args ?? {}),
  }));
}

/**
 * A copy of a request that later changes to the caller's arrays do not reach, for assertions on `calls`.
 *
 * @param request The request.
 * @returns The copy; the signal and callbacks are the same objects.
 * @throws {TypeError} When the request lacks its messages, tools or signal.
 */
export function snapshotRequest(request: ModelRequest): ModelRequest {
  if (typeof request !== "object" || request === null || !Array.isArray(request.messages)) {
    throw new TypeError("Invalid model request: expected { messages: Message[], tools, signal }");
  }
  if (!Array.isArray(request.tools)) throw new TypeError('Invalid model request: "tools" must be an array');
  if (!(request.signal instanceof AbortSignal)) {
    throw new TypeError('Invalid model request: "signal" must be an AbortSignal');
  }
  return Object.freeze({
    ...request,
    messages: Object.freeze(request.messages.map(copyMessage)),
    tools: Object.freeze([...request.tools]),
  });
}

/**
 * Streams the text through `onTextDelta` in word groups, yielding to the event loop between chunks and rejecting as
 * soon as the signal aborts, then resolves with the reply.
 *
 * @param request The request, for its signal, callback and size.
 * @param text The reply text.
 * @param toolCalls The reply's tool calls.
 * @param model The model id to report.
 * @returns The reply.
 */
export async function streamReply(
  request: ModelRequest,
  text: string,
  toolCalls: ToolCall[],
  model: string,
): Promise<ModelReply> {
  const { signal } = request;
  for (const chunk of wordChunks(text)) {
    if (signal.aborted) throw abortErrorFrom(signal);
    request.onTextDelta?.(chunk);
    await nextTask(signal);
  }
  if (signal.aborted) throw abortErrorFrom(signal);
  return {
    text,
    toolCalls,
    usage: estimateUsage(request, text, toolCalls),
    stopReason: toolCalls.length > 0 ? "tool_calls" : "stop",
    model,
  };
}

/**
 * Rejects with the signal's abort error when it has aborted.
 *
 * @param signal The request's signal.
 */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortErrorFrom(signal);
}

/**
 * A deterministic token estimate: characters divided by four, rounded up, for what was sent and what came back.
 *
 * @param request The request (messages, tools and response format count as input).
 * @param text The reply text.
 * @param toolCalls The reply's tool calls.
 * @returns The usage.
 */
export function estimateUsage(request: ModelRequest, text: string, toolCalls: readonly ToolCall[]): Usage {
  let inputCharacters = 0;
  for (const message of request.messages) {
    inputCharacters += message.content.length;
    if (message.role === "assistant") {
      for (const call of message.toolCalls ?? []) inputCharacters += call.name.length + call.arguments.length;
    }
  }
  for (const tool of request.tools) inputCharacters += schemaCharacters(tool);
  if (request.responseFormat) inputCharacters += JSON.stringify(request.responseFormat.schema).length;
  const outputCharacters = text.length +
    toolCalls.reduce((sum, call) => sum + call.name.length + call.arguments.length, 0);
  const inputTokens = Math.ceil(inputCharacters / 4);
  const outputTokens = Math.ceil(outputCharacters / 4);
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}

// Tool schemas are the same objects call after call: their size is measured once, not on every request.
const schemaSizes = new WeakMap<object, number>();

function schemaCharacters(tool: object): number {
  let size = schemaSizes.get(tool);
  if (size === undefined) {
    size = JSON.stringify(tool).length + 1;
    schemaSizes.set(tool, size);
  }
  return size;
}

function wordChunks(text: string): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  const chunks: string[] = [];
  for (let index = 0; index < words.length; index += WORDS_PER_CHUNK) {
    chunks.push(words.slice(index, index + WORDS_PER_CHUNK).join(""));
  }
  return chunks;
}

/** Waits for the next macrotask, as a real stream would between network reads, or rejects when the signal aborts. */
function nextTask(signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortErrorFrom(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, 0);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function copyMessage(message: Message): Message {
  if (message.role === "assistant" && message.toolCalls) {
    return Object.freeze({ ...message, toolCalls: message.toolCalls.map((call) => ({ ...call })) });
  }
  return Object.freeze({ ...message });
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return `${typeof value} ${String(value)}`;
}
