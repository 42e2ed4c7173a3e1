/**
 * Request bodies: capped in size (413), JSON only (415), parsed with a clear 400 when malformed.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { HttpError, invalidRequest, payloadTooLarge } from "./errors.ts";

/** The default cap on request bodies and WebSocket messages: 1 MiB. */
export const DEFAULT_BODY_LIMIT: number = 1024 * 1024;

/**
 * Caps request bodies, answering 413 with the error envelope. Bodies without a length are counted as they arrive.
 *
 * @param limit The most bytes a body may have.
 * @returns The middleware.
 */
export function bodySizeLimit(limit: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: limit,
    onError: () => {
      throw payloadTooLarge(limit);
    },
  });
}

/**
 * Reads a JSON body.
 *
 * @param c The request context.
 * @param required Whether an empty body is an error; otherwise it reads as `undefined`.
 * @returns The parsed value.
 */
export async function readJsonBody(c: Context, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await c.req.text();
  } catch (error) {
    if (error instanceof HttpError || error instanceof HTTPException) throw error;
    // The client closed the connection before sending the bytes its Content-Length promised: its fault, not ours.
    throw new HttpError(
      400,
      "incomplete_body",
      "The request body ended before it was complete: send as many bytes as Content-Length says",
      { cause: error },
    );
  }
  if (text.trim() === "") {
    if (required) throw invalidRequest("The request needs a JSON body");
    return undefined;
  }
  const contentType = c.req.header("content-type") ?? "";
  const mediaType = contentType.split(";")[0].trim().toLowerCase();
  if (mediaType !== "application/json" && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) {
    throw new HttpError(
      415,
      "unsupported_media_type",
      `Unsupported content type "${contentType}": send the body as JSON with "Content-Type: application/json"`,
    );
  }
  const depth = nestingDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    throw new HttpError(
      400,
      "invalid_json",
      `The body nests ${depth} levels deep; the limit is ${MAX_JSON_DEPTH} levels of arrays and objects`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, "invalid_json", `The body is not valid JSON: ${(error as Error).message}`);
  }
}

/** The deepest nesting of arrays and objects a JSON request body may have. */
export const MAX_JSON_DEPTH: number = 100;

/**
 * The deepest nesting of arrays and objects in JSON text, outside strings. Checked before parsing: a body deep enough
 * to overflow the stack when it is later stored or serialised would otherwise pass the size cap.
 *
 * @param text The JSON text (need not be valid).
 * @returns The number of levels.
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index++; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > deepest) deepest = depth;
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Checks that a body is a JSON object.
 *
 * @param body The parsed body.
 * @param example An example of a valid body, for the message.
 * @returns The object.
 */
export function asObject(body: unknown, example: string): Record<string, unknown> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw invalidRequest(`The body must be a JSON object, such as ${example}`);
  }
  return body as Record<string, unknown>;
}

const MAX_NAME_LENGTH = 256;

/**
 * Checks a session name or instance id from a request.
 *
 * @param value The value given.
 * @param what What it is, such as `session name`.
 * @returns The value.
 */
export function checkName(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "" || value.length > MAX_NAME_LENGTH) {
    throw invalidRequest(`Invalid ${what} ${JSON.stringify(value)}: use 1 to ${MAX_NAME_LENGTH} characters`);
  }
  // Control characters are refused here rather than by a store, and never reach a log line where a newline could
  // forge an entry.
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw invalidRequest(`Invalid ${what} ${JSON.stringify(value)}: control characters are not allowed`);
  }
  return value;
}

/**
 * Reads `{ message, session? }`, the input of a prompt over HTTP, WebSocket or dispatch.
 *
 * @param body The parsed body.
 * @returns The message and the session name (`default` when omitted).
 */
export function readPromptInput(body: unknown): { message: string; session: string } {
  const input = asObject(body, '{ "message": "Hello", "session": "default" }');
  if (typeof input.message !== "string" || input.message.trim() === "") {
    throw invalidRequest('"message" must be a non-empty string, such as { "message": "Hello" }');
  }
  return {
    message: input.message,
    session: input.session === undefined ? "default" : checkName(input.session, "session name"),
  };
}
