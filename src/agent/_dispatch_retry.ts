/**
 * When a failed dispatch runs again: exponential backoff with jitter, and the failures that no retry can fix.
 *
 * @module
 */

import { BudgetExceededError, ModelError, NotFoundError, PolicyDeniedError, ResultValidationError } from "../errors.ts";
import type { DispatchError } from "../store/dispatch_queue.ts";

/** How long a failed dispatch waits before its next attempt. */
export interface DispatchBackoff {
  /** The wait after the first failed attempt, in milliseconds; doubles with each further one. Defaults to 1000. */
  initialMs?: number;
  /** The longest wait, in milliseconds. Defaults to 300000 (five minutes). */
  maxMs?: number;
}

/** The checked backoff with its defaults. */
export type CheckedBackoff = Required<DispatchBackoff>;

/** Checks a backoff option and fills in its defaults. */
export function checkBackoff(backoff: DispatchBackoff | undefined): CheckedBackoff {
  const { initialMs = 1000, maxMs = 300_000 } = backoff ?? {};
  for (const [name, value] of [["initialMs", initialMs], ["maxMs", maxMs]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new TypeError(`backoff.${name} must be a non-negative whole number of milliseconds, got ${value}`);
    }
  }
  if (maxMs < initialMs) {
    throw new TypeError(`backoff.maxMs (${maxMs}) must not be below backoff.initialMs (${initialMs})`);
  }
  return { initialMs, maxMs };
}

/**
 * The wait before the attempt after `failedAttempt`: `initialMs * 2^(failedAttempt - 1)`, capped at `maxMs`, then a
 * random point in its upper half, so workers that failed together do not all retry at the same instant.
 *
 * @param backoff The checked backoff.
 * @param failedAttempt The attempt that failed, from 1.
 * @param random A number in [0, 1).
 * @returns The wait in milliseconds.
 */
export function retryDelayMs(backoff: CheckedBackoff, failedAttempt: number, random: number = Math.random()): number {
  const exponential = backoff.initialMs * 2 ** Math.min(failedAttempt - 1, 30);
  const capped = Math.min(backoff.maxMs, exponential);
  return Math.round(capped / 2 + (capped / 2) * random);
}

/**
 * Whether retrying can never help: bad input, an unknown agent, a policy denial, output that failed validation after
 * its own re-prompts, a turn limit, or a model request the provider refused for good (4xx other than 408 and 429).
 * Such a dispatch goes straight to `dead`, where it can be inspected and replayed once the cause is fixed.
 *
 * @param error What the attempt threw.
 * @returns Whether it is permanent.
 */
export function isPermanentFailure(error: unknown): boolean {
  if (error instanceof ModelError) {
    return !error.isRetryable && error.status !== undefined && error.status >= 400 && error.status < 500 &&
      error.status !== 408 && error.status !== 429;
  }
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError ||
    error instanceof NotFoundError || error instanceof PolicyDeniedError || error instanceof ResultValidationError ||
    error instanceof BudgetExceededError;
}

const MAX_MESSAGE_LENGTH = 2000;

/**
 * The stored form of an error: its class name and message, cut to a readable length. Errors reach here already
 * redacted by the session.
 *
 * @param error What the attempt threw.
 * @returns The error as plain data.
 */
export function toDispatchError(error: unknown): DispatchError {
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  return {
    name,
    message: message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}...` : message,
  };
}
