/**
 * `serve(options)`: serves a project (or a ready app) with `Deno.serve`, runs its dispatch worker, and shuts down
 * gracefully on SIGTERM or SIGINT: live streams end, running work gets a grace period, the worker drains.
 *
 * @module
 */

import { addSignalListener, removeSignalListener } from "./_signals.ts";
import type { FlueApp } from "./app.ts";
import { assertSafeToListen, assertValidToken } from "./auth.ts";
import { createProjectApp, envToken, type ProjectAppOptions } from "./project_app.ts";

/** Options of {@linkcode serve}. */
export interface ServeOptions extends ProjectAppOptions {
  /** The project directory; the current directory by default. Ignored when `app` is given. */
  dir?: string;
  /** A ready app to serve instead of a project. Its token decides whether a non-loopback hostname is allowed. */
  app?: FlueApp;
  /** The listen hostname; `127.0.0.1` by default. Anything beyond loopback needs a token. */
  hostname?: string;
  /** The port; 2024 by default, 0 for any free one. */
  port?: number;
  /** Shuts the server down when aborted. */
  signal?: AbortSignal;
  /** Shut down on SIGTERM and SIGINT; true by default. */
  handleSignals?: boolean;
  /** How long running work may take to finish on shutdown, in milliseconds; 10 000 by default. */
  graceMs?: number;
  /** Called once the server listens. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Called after each request is answered (`flue dev` prints a line per request). */
  onRequest?: (request: AnsweredRequest) => void;
}

/** A request as {@linkcode ServeOptions.onRequest} reports it. */
export interface AnsweredRequest {
  /** The method. */
  method: string;
  /** The path and query. */
  path: string;
  /** The response status. */
  status: number;
  /** Milliseconds until the response started (a stream goes on after it). */
  durationMs: number;
}

/** A running server. */
export interface FlueServer {
  /** The address it listens on (the real port when `port` was 0). */
  readonly addr: Deno.NetAddr;
  /** Its base URL, such as `http://127.0.0.1:2024`. */
  readonly url: string;
  /** The app it serves. */
  readonly app: FlueApp;
  /** Settles once the server has shut down. */
  readonly finished: Promise<void>;
  /**
   * Shuts down: stops accepting connections, ends streams, drains running work and the worker, closes the app.
   * Calling it again returns the same promise.
   */
  shutdown(): Promise<void>;
  /** `shutdown()`, for `await using server = await serve(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts the server.
 *
 * @example Serve a project on a random loopback port, then stop it
 * ```ts ignore
 * import { serve } from "flue";
 *
 * const server = await serve({ dir: ".", port: 0 });
 * console.log(`listening on ${server.url}`);
 * await server.shutdown();
 * ```
 *
 * @param options The project or app, address, token and shutdown settings.
 * @returns The running server.
 * @throws {Error} When the hostname is beyond loopback and no token is configured.
 */
export async function serve(options: ServeOptions = {}): Promise<FlueServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const token = options.app ? undefined : options.token ?? envToken();
  if (token !== undefined) assertValidToken(token);
  assertSafeToListen(hostname, options.app ? (options.app.requiresToken ? "set" : undefined) : token);
  const {
    dir,
    app: givenApp,
    hostname: _hostname,
    port,
    signal,
    handleSignals,
    graceMs: givenGraceMs,
    onListen,
    onRequest,
    ...appOptions
  } = options;
  const app = givenApp ??
    await createProjectApp(dir ?? Deno.cwd(), {
      ...appOptions,
      token,
      worker: appOptions.worker ?? true,
      closeOnSignals: false,
    });
  const graceMs = givenGraceMs ?? 10_000;
  const listening = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port: port ?? 2024,
      onListen: (addr) => listening.resolve(addr),
    }, onRequest ? reportingRequests(app, onRequest) : app.fetch);
  } catch (error) {
    await app.close({ graceMs });
    throw error;
  }
  const addr = await listening.promise;
  onListen?.(addr);

  const signals: Deno.Signal[] = handleSignals === false ? [] : ["SIGTERM", "SIGINT"];
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      for (const signal of signals) removeSignalListener(signal, onSignal);
      // The app ends streams and sockets first, so the server's wait for open requests can finish.
      await Promise.all([app.close({ graceMs }), server.shutdown()]);
    })();
    return stopping;
  };
  const onSignal = () => void shutdown();
  for (const signal of signals) addSignalListener(signal, onSignal);
  signal?.addEventListener("abort", onSignal, { once: true });
  if (signal?.aborted) onSignal();

  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    addr,
    url: `http://${host}:${addr.port}`,
    app,
    finished: server.finished.then(() => stopping),
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}

function reportingRequests(
  app: FlueApp,
  onRequest: (request: AnsweredRequest) => void,
): Deno.ServeHandler<Deno.NetAddr> {
  return async (request, info) => {
    const started = performance.now();
    const response = await app.fetch(request, info);
    const url = new URL(request.url);
    onRequest({
      method: request.method,
      path: `${url.pathname}${url.search}`,
      status: response.status,
      durationMs: performance.now() - started,
    });
    return response;
  };
}
