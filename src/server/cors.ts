/**
 * Cross-origin access for browsers: the `cors` option of `createApp` and the `server.cors` configuration key, over
 * Hono's `cors` middleware.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

/** Which browser origins may call the server. */
export interface CorsOptions {
  /** The origins allowed, such as `["https://app.example.com"]`, or `"*"` for any origin. */
  origins: readonly string[] | "*";
  /** Whether browsers may send credentials (cookies, the Authorization header); not with `"*"`. */
  credentials?: boolean;
  /** How long a browser may cache a preflight answer, in seconds; 600 by default. */
  maxAgeSeconds?: number;
}

const EXPOSED_HEADERS = ["X-Request-Id", "X-Flue-Run-Id", "Location"];

/**
 * The middleware: answers preflight requests (so it must run before authentication) and adds the CORS headers.
 *
 * @example Allow one origin
 * ```ts
 * import { corsMiddleware } from "./cors.ts";
 *
 * const middleware = corsMiddleware({ origins: ["https://app.example.com"] });
 * if (typeof middleware !== "function") throw new Error("unexpected");
 * ```
 *
 * @param options The origins and credentials.
 * @returns The middleware.
 * @throws {TypeError} When the origins are not `"*"` or a list of `scheme://host[:port]` origins, or `"*"` is combined
 * with credentials.
 */
export function corsMiddleware(options: CorsOptions): MiddlewareHandler {
  const { origins, credentials = false, maxAgeSeconds = 600 } = options ?? {};
  if (origins !== "*") {
    if (!Array.isArray(origins) || origins.length === 0) {
      throw new TypeError(`cors.origins must be "*" or a list of origins, got ${JSON.stringify(origins)}`);
    }
    for (const origin of origins) {
      if (typeof origin !== "string" || !/^https?:\/\/[^/\s]+$/.test(origin)) {
        throw new TypeError(
          `cors.origins entry ${JSON.stringify(origin)} is not an origin: write it as scheme://host[:port], such as ` +
            `"https://app.example.com", with no path`,
        );
      }
    }
  } else if (credentials) {
    throw new TypeError(`cors.credentials cannot be combined with origins "*": list the origins that may send them`);
  }
  return cors({
    origin: origins === "*" ? "*" : [...origins],
    credentials,
    maxAge: maxAgeSeconds,
    allowMethods: ["GET", "HEAD", "POST", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "X-Request-Id"],
    exposeHeaders: EXPOSED_HEADERS,
  });
}
