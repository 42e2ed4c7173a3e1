/**
 * Turns what the AI SDK throws into the errors Flue callers branch on: a provider failure becomes a `ModelError` with
 * its status and whether a retry may help; errors of Flue's own models and tools pass through unchanged.
 *
 * @module
 */

import { AISDKError, APICallError, RetryError } from "ai";
import { ModelError } from "../../errors.ts";

const MAX_DETAIL_LENGTH = 500;

/**
 * Maps an error from a `streamText` run.
 *
 * @param error What the run reported.
 * @param provider The provider name, for the message.
 * @returns The error to throw.
 */
export function toFlueError(error: unknown, provider: string): unknown {
  if (RetryError.isInstance(error)) {
    const last = toFlueError(error.lastError, provider);
    if (!(last instanceof ModelError)) return last;
    return new ModelError(`${last.message} (gave up after ${error.errors.length} attempts)`, {
      cause: error,
      status: last.status,
      isRetryable: last.isRetryable,
      provider,
    });
  }
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const what = status === undefined ? `could not be reached at ${error.url}` : `answered ${status}`;
    return new ModelError(`The provider "${provider}" ${what}: ${clip(error.message)}`, {
      cause: error,
      status,
      isRetryable: error.isRetryable,
      provider,
    });
  }
  if (AISDKError.isInstance(error)) {
    return new ModelError(`The provider "${provider}" failed: ${clip(error.message)}`, { cause: error, provider });
  }
  return error;
}

function clip(text: string): string {
  return text.length > MAX_DETAIL_LENGTH ? `${text.slice(0, MAX_DETAIL_LENGTH)}...` : text;
}
