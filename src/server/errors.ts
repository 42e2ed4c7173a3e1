/**
 * The server's one error envelope, `{ "error": { "type", "message", "details"? } }`, and the mapping from Flue's
 * errors to HTTP statuses. Unexpected errors become a generic 500: their text and stack stay in the server's log, which
 * records every 5xx with the request id that the response carries (`X-Request-Id`, and `requestId` in the body).
 *
 * @module
 */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  AbortError,
  BudgetExceededError,
  ModelError,
  NotFoundError,
  PayloadValidationError,
  PolicyDeniedError,
  ResultValidationError,
} from "../errors.ts";
import type { Redactor } from "../telemetry/redactor.ts";

/** The body of every error response and of WebSocket `error` frames. */
export interface ErrorEnvelope {
  /** What went wrong. */
  error: ErrorBody;
}

/** The `error` member of {@linkcode ErrorEnvelope}. */
export interface ErrorBody {
  /** A stable, snake_case name clients branch on, such as `session_busy`. */
  type: string;
  /** A sentence for people. */
  message: string;
  /** Structured facts, such as validation issues. */
  details?: unknown;
  /** The request's id (also the `X-Request-Id` header), on 5xx answers: the server's log line names it. */
  requestId?: string;
}

/** An error with its HTTP status and envelope type; thrown by handlers, turned into a response by the app. */
export class HttpError extends Error {
  /** The HTTP status. */
  readonly status: ContentfulStatusCode;
  /** The envelope's `type`. */
  readonly type: string;
  /** The envelope's `details`. */
  readonly details?: unknown;
  /** Extra response headers, such as `Allow` or `WWW-Authenticate`. */
  readonly headers?: Readonly<Record<string, string>>;

  /**
   * Creates the error.
   *
   * @param status The HTTP status.
   * @param type The envelope's `type`.
   * @param message The envelope's `message`.
   * @param options Details, headers and standard error options.
   */
  constructor(
    status: ContentfulStatusCode,
    type: string,
    message: string,
    options?: ErrorOptions & { details?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options);
    this.name = "HttpError";
    this.status = status;
    this.type = type;
    this.details = options?.details;
    this.headers = options?.headers;
  }

  /** The envelope. */
  get envelope(): ErrorEnvelope {
    return {
      error: {
        type: this.type,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

const INTERNAL_MESSAGE = "The server failed to handle the request; its log has the details";

/**
 * Maps any error to the HTTP error a client sees. Flue's own errors keep their message (it was written for users and
 * has secrets redacted); anything else becomes a generic `internal_error`.
 *
 * @param error What was thrown.
 * @returns The HTTP error.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 413) return payloadTooLarge();
    if (error.status >= 500) return new HttpError(500, "internal_error", INTERNAL_MESSAGE, { cause: error });
    return new HttpError(error.status, statusType(error.status), error.message || "The request was refused");
  }
  if (error instanceof NotFoundError) {
    return new HttpError(404, `${snakeCase(error.kind)}_not_found`, error.message, {
      details: { kind: error.kind, name: error.lookedUp },
    });
  }
  if (error instanceof ResultValidationError) {
    return new HttpError(422, "result_validation_failed", error.message, {
      details: { issues: error.issues, attempts: error.attempts },
    });
  }
  if (error instanceof PayloadValidationError) {
    return new HttpError(422, "invalid_payload", error.message, {
      details: { workflow: error.workflow, issues: error.issues },
    });
  }
  if (error instanceof PolicyDeniedError) {
    return new HttpError(403, "policy_denied", error.message, {
      details: { denied: error.denied, option: error.option },
    });
  }
  if (error instanceof AbortError) return new HttpError(409, "aborted", error.message);
  if (error instanceof ModelError) {
    return new HttpError(502, "model_error", error.message, {
      details: { status: error.status, isRetryable: error.isRetryable, provider: error.provider },
    });
  }
  if (error instanceof Error && error.name === "SandboxUnavailableError") {
    return new HttpError(503, "sandbox_unavailable", error.message);
  }
  if (error instanceof Error && error.name === "MaxTurnsError") {
    return new HttpError(422, "max_turns_exceeded", error.message);
  }
  if (error instanceof BudgetExceededError) {
    return new HttpError(422, "budget_exceeded", error.message, {
      details: { budget: error.budget, limit: error.limit, spent: error.spent },
    });
  }
  return new HttpError(500, "internal_error", INTERNAL_MESSAGE, { cause: error });
}

/**
 * The response for an error, logging unexpected ones (redacted) on the server.
 *
 * @param c The request context.
 * @param error What was thrown.
 * @param redactor Removes secret values from the log line.
 * @returns The JSON error response.
 */
export function errorResponse(c: Context, error: unknown, redactor: Redactor): Response {
  const httpError = toHttpError(error);
  if (httpError.status < 500) return c.json(httpError.envelope, httpError.status, httpError.headers);
  const requestId = (c.get("requestId") as string | undefined) ?? crypto.randomUUID();
  logServerError(`${c.req.method} ${c.req.path}`, httpError, redactor, requestId);
  const envelope = { error: { ...httpError.envelope.error, requestId } };
  return c.json(envelope, httpError.status, { ...httpError.headers, "X-Request-Id": requestId });
}

/**
 * Logs a 5xx answer for operators: status, type, request id, and the stack of what caused it (the workflow's or the
 * handler's own error, with its causes), with secret values removed.
 *
 * @param where What was being handled, such as `POST /workflows/triage`.
 * @param httpError The error answered.
 * @param redactor Removes secret values.
 * @param requestId The request's id.
 */
export function logServerError(where: string, httpError: HttpError, redactor: Redactor, requestId: string): void {
  const cause = httpError.cause ?? httpError;
  console.error(
    `flue server: ${httpError.status} ${httpError.type} in ${where} [request ${requestId}]: ${
      redactor.redactText(describeWithCauses(cause))
    }`,
  );
}

/**
 * An error's stack (or name and message) followed by its cause chain.
 *
 * @param error Anything thrown.
 * @returns The text, several lines.
 */
export function describeWithCauses(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    const text = current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current);
    lines.push(depth === 0 ? text : `caused by: ${text}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join("\n");
}

/**
 * Logs an unexpected error for operators: name, message and stack, with secret values removed.
 *
 * @param where What was being handled, such as `POST /agents/a/1`.
 * @param error What was thrown.
 * @param redactor Removes secret values.
 */
export function logUnexpected(where: string, error: unknown, redactor: Redactor): void {
  console.error(`flue server: unexpected error in ${where}: ${redactor.redactText(describeWithCauses(error))}`);
}

/**
 * The 413 error.
 *
 * @param limit The limit in bytes, when known.
 * @returns The error.
 */
export function payloadTooLarge(limit?: number): HttpError {
  return new HttpError(
    413,
    "payload_too_large",
    limit === undefined
      ? "The request body is too large"
      : `The request body is larger than the ${limit}-byte limit: send less, or raise the server's bodyLimit`,
    { details: limit === undefined ? undefined : { limit } },
  );
}

/**
 * A 400 error for a request that is malformed.
 *
 * @param message What is wrong and how to fix it.
 * @param details Structured facts.
 * @returns The error.
 */
export function invalidRequest(message: string, details?: unknown): HttpError {
  return new HttpError(400, "invalid_request", message, { details });
}

function statusType(status: number): string {
  switch (status) {
    case 400:
      return "invalid_request";
    case 401:
      return "unauthorized";
    case 404:
      return "route_not_found";
    case 405:
      return "method_not_allowed";
    case 415:
      return "unsupported_media_type";
    default:
      return "request_refused";
  }
}

function snakeCase(text: string): string {
  return text.replace(/[^A-Za-z0-9]+/g, "_").replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}
