/**
 * Bearer-token authentication. With a token configured, every route but `/health` and `/ready` needs it, on any address. Without
 * one, `serve()` refuses to listen beyond loopback, and a request that nevertheless arrives from a non-loopback
 * address (a module served by `deno serve` on `0.0.0.0`, or on Deno Deploy) is refused: deny by default. A request
 * without a token must also be addressed to this machine (`Host`) and, when a browser sent it, come from a page of
 * this machine (`Origin`), so other web sites cannot drive the server through the user's browser.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { HttpError } from "./errors.ts";

/** The WebSocket subprotocol of protocol v1. */
export const WEBSOCKET_PROTOCOL = "flue.v1";
/** Browsers cannot set headers on a WebSocket: they offer the token as a subprotocol `flue.token.<token>`. */
export const WEBSOCKET_TOKEN_PREFIX = "flue.token.";

/**
 * Whether a hostname only accepts connections from this machine.
 *
 * @param hostname A listen hostname or remote address, such as `127.0.0.1`, `::1`, `localhost` or `0.0.0.0`.
 * @returns Whether it is a loopback address.
 */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  if (/^127(\.\d{1,3}){3}$/.test(host)) return true;
  return /^::ffff:127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Checks a token's shape: long enough to resist guessing, and free of characters that break headers.
 *
 * @param token The configured token.
 * @throws {TypeError} When it is too short or has whitespace or control characters.
 */
export function assertValidToken(token: string): void {
  if (typeof token !== "string" || token.length < 16) {
    throw new TypeError("The API token (FLUE_API_TOKEN) must be at least 16 characters: generate a random one");
  }
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new TypeError("The API token (FLUE_API_TOKEN) must be printable ASCII without spaces");
  }
}

/**
 * Refuses a listen address beyond loopback when no token is configured.
 *
 * @param hostname The listen hostname.
 * @param token The configured token, if any.
 * @throws {Error} When `hostname` is not loopback and `token` is missing.
 */
export function assertSafeToListen(hostname: string, token: string | undefined): void {
  if (token === undefined && !isLoopbackHostname(hostname)) {
    throw new Error(
      `Refusing to listen on "${hostname}" without an API token: set FLUE_API_TOKEN (or the token option) so ` +
        `requests need "Authorization: Bearer <token>", or listen on 127.0.0.1`,
    );
  }
}

/** Paths reachable without a token. */
const PUBLIC_PATHS = new Set(["/health", "/ready"]);

/**
 * The authentication middleware.
 *
 * @param token The token requests must carry, or `undefined` for loopback-only access.
 * @param publicPrefixes Path prefixes that authenticate otherwise (verified webhooks).
 * @returns The middleware.
 */
export function authentication(token: string | undefined, publicPrefixes: readonly string[] = []): MiddlewareHandler {
  const expected = token === undefined ? undefined : digest(token);
  return async (c, next) => {
    const path = c.req.path;
    if (PUBLIC_PATHS.has(path) || publicPrefixes.some((prefix) => path.startsWith(prefix))) return await next();
    if (expected === undefined) {
      // `c.env` is Deno.serve's handler info; in-process calls (`app.request`) have none and never left the machine.
      const remote = (c.env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr?.hostname;
      if (remote !== undefined && !isLoopbackHostname(remote)) {
        throw new HttpError(
          401,
          "unauthorized",
          "This server has no API token, so it only answers requests from this machine: set FLUE_API_TOKEN",
        );
      }
      refuseBrowserFromElsewhere(c.req.header("host"), c.req.header("origin"));
      return await next();
    }
    const presented = presentedToken(c.req.header("authorization"), c.req.header("sec-websocket-protocol"));
    if (presented === undefined) {
      throw new HttpError(401, "unauthorized", 'Authentication required: send "Authorization: Bearer <token>"', {
        headers: { "WWW-Authenticate": 'Bearer realm="flue"' },
      });
    }
    if (!timingSafeEqual(digest(presented), expected)) {
      throw new HttpError(401, "unauthorized", "The bearer token is not valid", {
        headers: { "WWW-Authenticate": 'Bearer realm="flue", error="invalid_token"' },
      });
    }
    await next();
  };
}

/**
 * A loopback address is not proof that this machine's user sent the request: any web page in their browser can
 * reach it. Without a token, a page could post a form (a "simple" request, no preflight: CSRF), open a WebSocket
 * (WebSockets ignore CORS), or rebind its own host name to 127.0.0.1 and read the answers (DNS rebinding). Browsers
 * always name the host they think they talk to, and the page's origin on every cross-origin request and WebSocket,
 * so both must be this machine. A reverse proxy on this machine forwarding outside requests is refused the same
 * way: give the server a token.
 */
function refuseBrowserFromElsewhere(host: string | undefined, origin: string | undefined): void {
  if (host !== undefined && !isLocalHostName(hostnameOf(host))) {
    throw new HttpError(
      403,
      "forbidden_host",
      `This server has no API token, so it only answers requests addressed to this machine, not to ${
        JSON.stringify(host.slice(0, 100))
      }: use http://127.0.0.1 or http://localhost, or set FLUE_API_TOKEN`,
    );
  }
  if (origin !== undefined && !isLocalOrigin(origin)) {
    throw new HttpError(
      403,
      "forbidden_origin",
      `This server has no API token, so it refuses requests from web pages of other sites (origin ${
        JSON.stringify(origin.slice(0, 100))
      }): set FLUE_API_TOKEN to call it from a browser`,
    );
  }
}

function isLocalHostName(hostname: string): boolean {
  return isLoopbackHostname(hostname) || hostname.toLowerCase().endsWith(".localhost");
}

function isLocalOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && isLocalHostName(url.hostname);
  } catch {
    return false; // "null" (a sandboxed frame or a file) and anything unparsable
  }
}

function hostnameOf(host: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(host);
  if (bracketed) return bracketed[1];
  return host.includes(":") && host.indexOf(":") === host.lastIndexOf(":") ? host.slice(0, host.indexOf(":")) : host;
}

function presentedToken(authorization: string | undefined, protocols: string | undefined): string | undefined {
  const match = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
  if (match) return match[1];
  for (const protocol of protocols?.split(",") ?? []) {
    const trimmed = protocol.trim();
    if (trimmed.startsWith(WEBSOCKET_TOKEN_PREFIX)) return trimmed.slice(WEBSOCKET_TOKEN_PREFIX.length);
  }
  return undefined;
}

// Comparing fixed-length digests keeps the comparison's time independent of the token's length and content.
function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}
