/**
 * The `FlueClient` of the commands that take `--url`: the token from `FLUE_API_TOKEN`, a usage error for a bad URL,
 * and a clear message when nothing answers there.
 *
 * @module
 */

import { FlueClient } from "../client/flue_client.ts";
import { FlueClientError } from "../client/client_error.ts";
import { envToken } from "../server/project_app.ts";
import { UsageError } from "./usage_error.ts";

/**
 * Makes a client for `--url`.
 *
 * @param url The flag's value.
 * @returns The client, with the bearer token from `FLUE_API_TOKEN` when set.
 * @throws {UsageError} When the URL is not an http(s) URL.
 */
export function clientForUrl(url: string): FlueClient {
  try {
    return new FlueClient({ baseUrl: url, token: envToken() });
  } catch (error) {
    throw new UsageError(`--url "${url}" is not a server URL: use one such as http://127.0.0.1:2024`, {
      cause: error,
    });
  }
}

/**
 * Turns a failed connection into an error that says what to check; other errors pass through.
 *
 * @param error What a client call threw.
 * @param url The server's URL.
 * @returns The error to throw.
 */
export function explainClientError(error: unknown, url: string): unknown {
  if (error instanceof FlueClientError || !(error instanceof TypeError)) return error;
  return new Error(
    `Could not reach a Flue server at "${url}" (${error.message}): is "flue serve" running there?`,
    { cause: error },
  );
}
