/**
 * `FlueClientError`: a refusal from a Flue server, carrying its status and the server's error envelope.
 *
 * @module
 */

import type { ErrorEnvelope } from "../server/errors.ts";

/** A request the server refused or failed, with its HTTP status and envelope. */
export class FlueClientError extends Error {
  /** The HTTP status (0 for a failure reported inside an event stream). */
  readonly status: number;
  /** The envelope's `type`. */
  readonly type: string;
  /** The envelope's `details`. */
  readonly details?: unknown;
  /** The whole envelope, as the server sent it. */
  readonly envelope: ErrorEnvelope;

  /**
   * Creates the error from a status and an envelope.
   *
   * @param status The HTTP status.
   * @param envelope The server's envelope.
   * @param options The underlying cause.
   */
  constructor(status: number, envelope: ErrorEnvelope, options?: ErrorOptions) {
    super(envelope.error.message, options);
    this.name = "FlueClientError";
    this.status = status;
    this.type = envelope.error.type;
    this.details = envelope.error.details;
    this.envelope = envelope;
  }
}

/**
 * Reads an error response into a {@linkcode FlueClientError}. A body that is not an envelope (a proxy's HTML page, an
 * empty 502) still gives an error with the status and the start of the body.
 *
 * @param response The response with a status of 400 or more.
 * @returns The error.
 */
export async function errorFromResponse(response: Response): Promise<FlueClientError> {
  const text = await response.text().catch(() => "");
  try {
    const parsed = JSON.parse(text) as Partial<ErrorEnvelope>;
    if (typeof parsed?.error?.type === "string" && typeof parsed.error.message === "string") {
      return new FlueClientError(response.status, parsed as ErrorEnvelope);
    }
  } catch {
    // not JSON: described below
  }
  const excerpt = text.trim().slice(0, 200);
  return new FlueClientError(response.status, {
    error: {
      type: "http_error",
      message: `The server answered ${response.status} ${response.statusText}${excerpt ? `: ${excerpt}` : ""}`,
    },
  });
}
