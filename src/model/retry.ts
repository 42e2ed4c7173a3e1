/**
 * Retries with exponential backoff and full jitter, honouring a server's `retry-after`, with an abortable, injectable
 * sleep so that callers can cancel a wait and tests need not wait at all.
 *
 * @module
 */

import { abortErrorFrom } from "../errors.ts";

/** Waits `ms` milliseconds, rejecting with an `AbortError` as soon as `signal` aborts. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** What the classifier says about one failure. */
export interface RetryDecision {
  /** Whether another attempt may succeed. */
  retry: boolean;
  /** How long the server asked to wait, in milliseconds, from `retry-after` or `retry-after-ms`. */
  afterMs?: number;
}

/** How often and how long to retry. */
export interface RetryPolicy {
  /** Retries after the first attempt; 4 means at most 5 attempts. Defaults to 4. */
  maxRetries?: number;
  /** The first backoff ceiling in milliseconds, doubled per retry. Defaults to 500. */
  baseDelayMs?: number;
  /** The largest backoff ceiling in milliseconds. Defaults to 30000. */
  maxDelayMs?: number;
  /** The longest server-requested wait to honour; asking for more fails at once. Defaults to 60000. */
  maxRetryAfterMs?: number;
  /** A source of numbers in [0, 1) for the jitter. Defaults to `Math.random`. */
  random?: () => number;
  /** The wait. Defaults to {@linkcode sleep}. */
  sleep?: Sleep;
}

/** The options of {@linkcode retry}. */
export interface RetryOptions extends RetryPolicy {
  /** Stops retrying and interrupts a wait. */
  signal: AbortSignal;
  /**
   * Decides whether a failure is worth another attempt.
   *
   * @param error What the attempt threw.
   * @returns Whether to retry, and any server-requested wait.
   */
  classify: (error: unknown) => RetryDecision;
  /**
   * Called before each wait, for logging and events.
   *
   * @param info The failed attempt (0 for the first), the wait and the error.
   */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** The default number of retries after the first attempt. */
export const DEFAULT_MAX_RETRIES: number = 4;

/**
 * Runs `attempt` until it succeeds, the classifier says a failure is final, the retries run out, or `signal` aborts.
 * Waits between attempts are the server's `retry-after` when given, otherwise exponential backoff with full jitter.
 *
 * @example Retry a flaky call without waiting
 * ```ts
 * import { retry } from "./retry.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * let calls = 0;
 * const result = await retry(() => ++calls < 3 ? Promise.reject(new Error("flaky")) : Promise.resolve("ok"), {
 *   signal: new AbortController().signal,
 *   classify: () => ({ retry: true }),
 *   sleep: () => Promise.resolve(),
 * });
 * deepStrictEqual([result, calls], ["ok", 3]);
 * ```
 *
 * @typeParam T The attempt's result.
 * @param attempt Makes one attempt; receives the attempt number, 0 for the first.
 * @param options The signal, the classifier and the policy.
 * @returns The first successful result.
 * @throws The last failure, or an `AbortError` when `signal` aborts.
 */
export async function retry<T>(attempt: (attemptNumber: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const maxRetries = validCount(options.maxRetries ?? DEFAULT_MAX_RETRIES, "maxRetries");
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const wait = options.sleep ?? sleep;
  for (let attemptNumber = 0;; attemptNumber++) {
    if (options.signal.aborted) throw abortErrorFrom(options.signal);
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (options.signal.aborted) throw abortErrorFrom(options.signal);
      if (attemptNumber >= maxRetries) throw error;
      const decision = options.classify(error);
      if (!decision.retry) throw error;
      if (decision.afterMs !== undefined && decision.afterMs > maxRetryAfterMs) throw error;
      const delayMs = decision.afterMs ?? backoffDelayMs(attemptNumber, options);
      options.onRetry?.({ attempt: attemptNumber, delayMs, error });
      await wait(delayMs, options.signal);
    }
  }
}

/**
 * The backoff before retry number `attempt + 1`: a random wait between 0 and `min(maxDelayMs, baseDelayMs * 2^attempt)`
 * ("full jitter"), which spreads out clients that failed together.
 *
 * @param attempt The failed attempt, 0 for the first.
 * @param policy The base, the cap and the random source.
 * @returns Milliseconds to wait, a whole number.
 */
export function backoffDelayMs(attempt: number, policy: RetryPolicy = {}): number {
  const base = policy.baseDelayMs ?? 500;
  const cap = policy.maxDelayMs ?? 30_000;
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.floor((policy.random ?? Math.random)() * ceiling);
}

/**
 * Reads how long a server asked to wait: `retry-after-ms` (milliseconds, sent by OpenAI), else `retry-after` in seconds
 * or as an HTTP date.
 *
 * @example Read retry-after in seconds
 * ```ts
 * import { parseRetryAfterMs } from "./retry.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual(parseRetryAfterMs(new Headers({ "retry-after": "2" })), 2000);
 * ```
 *
 * @param headers The response headers.
 * @param now The current time in epoch milliseconds, for HTTP dates.
 * @returns Milliseconds to wait, or `undefined` when the headers say nothing usable.
 */
export function parseRetryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const milliseconds = headers.get("retry-after-ms")?.trim();
  if (milliseconds && /^\d+(\.\d+)?$/.test(milliseconds)) return Math.ceil(Number(milliseconds));
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  // An HTTP date names a weekday and a month; anything without letters (such as "-1") is no date.
  const date = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Whether an HTTP status is worth retrying: 408 (request timeout), 429 (rate limit) and every 5xx. Client errors such
 * as 400, 401, 403, 404 and 422 are final, because the same request fails the same way.
 *
 * @param status The HTTP status.
 * @returns Whether a retry may succeed.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Waits `ms` milliseconds. Rejects with an `AbortError` as soon as `signal` aborts, clearing the timer.
 *
 * @example Cancel a wait
 * ```ts
 * import { sleep } from "./retry.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const controller = new AbortController();
 * const waiting = sleep(60_000, controller.signal);
 * controller.abort();
 * await rejects(waiting, { name: "AbortError" });
 * ```
 *
 * @param ms Milliseconds to wait.
 * @param signal Cancels the wait.
 * @returns A promise that resolves after the wait.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortErrorFrom(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortErrorFrom(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function validCount(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`Invalid ${name} ${JSON.stringify(value)}: expected a whole number of 0 or more`);
  }
  return value;
}
