/**
 * Turns what the `openai` SDK throws into a `ModelError` that says what happened and whether a retry may help.
 *
 * @module
 */

import OpenAI from "openai";
import { ModelError } from "../../errors.ts";
import { describesContextOverflow } from "../context_overflow.ts";
import { MalformedReplyError } from "./_openai_reply.ts";
import { isRetryableStatus, parseRetryAfterMs } from "../retry.ts";

/** Where a request went, for messages. */
export interface FailureContext {
  /** The provider name. */
  provider: string;
  /** The provider's model name. */
  model: string;
  /** The base URL. */
  baseURL: string;
  /** The environment variable the key came from, if any. */
  apiKeyEnv?: string;
}

/** A mapped failure and the wait the server asked for. */
export interface MappedFailure {
  /** The error to throw. */
  error: ModelError;
  /** The server's `retry-after`, in milliseconds. */
  retryAfterMs?: number;
}

const MAX_DETAIL_LENGTH = 500;

/**
 * Maps an SDK or parsing failure to a `ModelError`.
 *
 * @param failure What the attempt threw.
 * @param context The provider, model and URL.
 * @returns The error and any requested wait.
 */
export function toModelError(failure: unknown, context: FailureContext): MappedFailure {
  const where = `provider "${context.provider}"`;
  const options = { cause: failure, provider: context.provider };
  if (failure instanceof OpenAI.APIConnectionTimeoutError) {
    return { error: timeoutError(context, undefined, failure) };
  }
  if (failure instanceof OpenAI.APIConnectionError) {
    const reason = failure.cause instanceof Error ? failure.cause.message : failure.message;
    return {
      error: new ModelError(`Could not reach ${where} at ${context.baseURL}: ${clip(reason)}`, {
        ...options,
        isRetryable: true,
      }),
    };
  }
  if (failure instanceof OpenAI.APIError) {
    const detail = clip(detailOf(failure));
    const status = failure.status;
    if (status === undefined) {
      return {
        error: new ModelError(`The ${where} reported an error in the middle of the reply: ${detail}`, {
          ...options,
          isRetryable: true,
        }),
      };
    }
    const retryAfterMs = parseRetryAfterMs(failure.headers);
    return {
      error: statusError(status, detail, failure.code ?? undefined, retryAfterMs, context, failure),
      retryAfterMs,
    };
  }
  if (failure instanceof MalformedReplyError || failure instanceof SyntaxError) {
    return {
      error: new ModelError(`The ${where} sent a malformed reply: ${clip(failure.message)}`, {
        ...options,
        isRetryable: true,
      }),
    };
  }
  const message = failure instanceof Error ? failure.message : String(failure);
  return { error: new ModelError(`The request to ${where} failed: ${clip(message)}`, options) };
}

/**
 * The error for a request that took longer than `timeoutMs`; retryable.
 *
 * @param context The provider, model and URL.
 * @param timeoutMs The limit, when known.
 * @param cause What ended the request.
 * @returns The error.
 */
export function timeoutError(context: FailureContext, timeoutMs: number | undefined, cause?: unknown): ModelError {
  const limit = timeoutMs === undefined ? "in time" : `within ${timeoutMs} ms`;
  return new ModelError(
    `The provider "${context.provider}" did not answer ${limit} for model "${context.model}": ` +
      `it may be overloaded; raise timeoutMs if the model is just slow`,
    { cause, isRetryable: true, provider: context.provider },
  );
}

function statusError(
  status: number,
  detail: string,
  code: string | undefined,
  retryAfterMs: number | undefined,
  context: FailureContext,
  cause: unknown,
): ModelError {
  const where = `provider "${context.provider}"`;
  let isRetryable = isRetryableStatus(status);
  let message: string;
  switch (status) {
    case 401:
      message = context.apiKeyEnv
        ? `The ${where} rejected the API key from ${context.apiKeyEnv} (401): check that ${context.apiKeyEnv} holds a ` +
          `valid key for ${context.baseURL}`
        : `The ${where} rejected the API key (401): check the key configured for ${context.baseURL}`;
      break;
    case 403:
      message = `The ${where} denied access to model "${context.model}" (403): check the key's permissions`;
      break;
    case 404:
      message = `The ${where} has no model "${context.model}" or no endpoint at ${context.baseURL} (404): ` +
        `check the model name and the base URL`;
      break;
    case 429:
      if (code === "insufficient_quota") {
        // A 429 for an exhausted quota does not clear by waiting.
        isRetryable = false;
        message = `The ${where} refused the request because the account is out of quota (429): check billing`;
      } else {
        const wait = retryAfterMs === undefined ? "" : `, asked to retry after ${Math.ceil(retryAfterMs / 1000)} s`;
        message = `The ${where} rate-limited the request (429${wait})`;
      }
      break;
    case 400:
    case 422:
      message = `The ${where} rejected the request for model "${context.model}" (${status})`;
      break;
    default:
      message = status >= 500
        ? `The ${where} failed with status ${status}`
        : `The ${where} answered with status ${status}`;
  }
  const isContextOverflow = describesContextOverflow(status, code, detail);
  if (isContextOverflow) {
    message = `The ${where} refused the request as too long for model "${context.model}" (${status})`;
  }
  return new ModelError(detail ? `${message}: ${detail}` : message, {
    cause,
    status,
    isRetryable,
    provider: context.provider,
    isContextOverflow,
  });
}

function detailOf(failure: InstanceType<typeof OpenAI.APIError>): string {
  const body = failure.error as { message?: unknown } | undefined;
  if (body && typeof body.message === "string") return body.message;
  // The SDK's own message starts with the status; without a body it says only that.
  return failure.message.replace(/^\d{3}\s*/, "").replace(/^status code \(no body\)$/, "");
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_DETAIL_LENGTH ? `${oneLine.slice(0, MAX_DETAIL_LENGTH)}…` : oneLine;
}
