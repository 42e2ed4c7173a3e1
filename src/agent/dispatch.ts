/**
 * `dispatch()`: hands an input to an agent's session for later, durably. The input is stored before the call returns;
 * a `DispatchWorker` (in this process or another one sharing the store) runs it.
 *
 * @module
 */

import type { DispatchStatus } from "../store/dispatch_queue.ts";
import type { Store } from "../store/store.ts";

/** What to dispatch. */
export interface DispatchRequest {
  /** The agent's name. */
  agent: string;
  /** The agent instance id. */
  id: string;
  /** The session name; `default` when omitted. Inputs to one session run one at a time, in dispatch order. */
  session?: string;
  /** The message the session is prompted with. */
  message: string;
  /**
   * Makes the call safe to repeat: a second dispatch with the same key returns the first one's receipt instead of
   * queueing the input again. Unique across the store; 1 to 255 characters.
   */
  idempotencyKey?: string;
  /** Attempts before the input is set aside as dead; 1 to 100, 5 by default. */
  maxAttempts?: number;
  /**
   * JSON data stored with the input, for tools rather than the model: a tool reads it through `currentDispatch()`
   * while the dispatch runs (a webhook's reply target, for example). Never shown to the model.
   */
  context?: Record<string, unknown>;
}

/** What {@linkcode dispatch} returns once the input is stored. */
export interface DispatchResult {
  /** The dispatch id: look it up with `store.getDispatch(id)` or `GET /dispatches/:dispatchId`. */
  dispatchId: string;
  /** ISO 8601 time the store accepted it. */
  acceptedAt: string;
  /** False when the idempotency key was seen before and this is the first dispatch's receipt. */
  created: boolean;
  /** Where it stands now: `accepted` for a new one; any state for a repeat. */
  status: DispatchStatus;
}

const MAX_NAME_LENGTH = 256;
const DEFAULT_MAX_ATTEMPTS = 5;
const MAX_ATTEMPTS_LIMIT = 100;

/**
 * Stores an input for an agent's session and returns its receipt. Nothing runs here: a `DispatchWorker` claims it,
 * prompts the session, and retries with backoff on failure; call the worker's `wake()` after dispatching in the same
 * process so it starts at once. The input survives a crash of either side.
 *
 * @example Dispatch twice with one idempotency key
 * ```ts
 * import assert from "node:assert/strict";
 * import { dispatch, MemoryStore } from "../../mod.ts";
 *
 * const store = new MemoryStore();
 * const request = { agent: "assistant", id: "42", message: "Summarise the news", idempotencyKey: "news-2026-01-02" };
 * const first = await dispatch(store, request);
 * const repeat = await dispatch(store, request);
 * assert.equal(repeat.dispatchId, first.dispatchId);
 * assert.equal(repeat.created, false);
 * await store.close();
 * ```
 *
 * @param store The store the workers read.
 * @param request The agent, instance, session, message, idempotency key and attempt limit.
 * @returns The receipt: dispatch id, acceptance time, whether it is new, and its status.
 * @throws {TypeError} For a missing or malformed field, or an idempotency key already used for a different input.
 */
export async function dispatch(store: Store, request: DispatchRequest): Promise<DispatchResult> {
  if (typeof store?.enqueueDispatch !== "function") {
    throw new TypeError("dispatch() needs a store with a dispatch queue, such as a SqliteStore, as its first argument");
  }
  if (typeof request !== "object" || request === null) {
    throw new TypeError(`dispatch() needs { agent, id, message }, got ${JSON.stringify(request)}`);
  }
  const key = {
    agent: checkName(request.agent, "agent name"),
    instanceId: checkName(request.id, "instance id"),
    session: checkName(request.session ?? "default", "session name"),
  };
  const { message, idempotencyKey, maxAttempts = DEFAULT_MAX_ATTEMPTS } = request;
  if (typeof message !== "string" || message.trim() === "") {
    throw new TypeError(`The dispatch "message" must be a non-empty string, got ${JSON.stringify(message)}`);
  }
  if (
    idempotencyKey !== undefined && (typeof idempotencyKey !== "string" || idempotencyKey.length > 255 ||
      idempotencyKey === "")
  ) {
    throw new TypeError(`The idempotency key must be 1 to 255 characters, got ${JSON.stringify(idempotencyKey)}`);
  }
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw new TypeError(`maxAttempts must be a whole number from 1 to ${MAX_ATTEMPTS_LIMIT}, got ${maxAttempts}`);
  }
  const { context } = request;
  if (context !== undefined && (typeof context !== "object" || context === null || Array.isArray(context))) {
    throw new TypeError(`The dispatch "context" must be an object, got ${JSON.stringify(context)}`);
  }
  const input = context === undefined ? { message } : { message, context };
  const { record, created } = await store.enqueueDispatch({ key, input, idempotencyKey, maxAttempts });
  const stored = record.key;
  const isSameInput = stored.agent === key.agent && stored.instanceId === key.instanceId &&
    stored.session === key.session && (record.input as { message?: unknown }).message === message;
  if (!created && !isSameInput) {
    throw new TypeError(
      `The idempotency key ${JSON.stringify(idempotencyKey)} was already used for a different input (dispatch ` +
        `"${record.dispatchId}"): use a new key for a new input`,
    );
  }
  return { dispatchId: record.dispatchId, acceptedAt: record.acceptedAt, created, status: record.status };
}

function checkName(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "" || value.length > MAX_NAME_LENGTH) {
    throw new TypeError(`Invalid ${what} ${JSON.stringify(value)}: use 1 to ${MAX_NAME_LENGTH} characters`);
  }
  return value;
}
