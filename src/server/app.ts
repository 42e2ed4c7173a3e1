/**
 * `createApp(options)`: the Hono app serving agents, workflows, runs and dispatches over HTTP, SSE and WebSocket.
 *
 * @module
 */

import { Hono } from "hono";
import { requestId } from "hono/request-id";
import type { AgentOptions } from "../agent/agent_options.ts";
import { type AgentDeclaration, AgentPool } from "../agent/agent_pool.ts";
import { DispatchWorker, type DispatchWorkerOptions } from "../agent/dispatch_worker.ts";
import type { WorkflowModule } from "../agent/workflow.ts";
import type { Store } from "../store/store.ts";
import { Redactor } from "../telemetry/redactor.ts";
import { closeOnSignals } from "./_signals.ts";
import { assertValidToken, authentication } from "./auth.ts";
import { errorResponse, HttpError } from "./errors.ts";
import { corsMiddleware, type CorsOptions } from "./cors.ts";
import { bodySizeLimit, DEFAULT_BODY_LIMIT } from "./request_body.ts";
import { methodsByPath, type RouteInfo, ROUTES } from "./route_table.ts";
import { agentRoutes } from "./routes/agents.ts";
import { legacyHandlerRoutes } from "./routes/legacy_handlers.ts";
import { dispatchRoutes } from "./routes/dispatches.ts";
import { metaRoutes } from "./routes/meta.ts";
import { runRoutes } from "./routes/runs.ts";
import { workflowRoutes } from "./routes/workflows.ts";
import { mcpRoutes } from "./mcp_route.ts";
import { RunHub } from "./run_hub.ts";
import type { ServerContext } from "./server_context.ts";
import { SessionLocks } from "./session_locks.ts";
import { WorkflowRunner } from "./workflow_runs.ts";
import { UI_PUBLIC_PATHS, uiRoutes } from "./ui/ui_routes.ts";

/** What a webhook mount receives: the server's store and agents, and a way to wake the dispatch worker. */
export interface WebhookMountContext {
  /** The store dispatches are admitted to. */
  store: Store;
  /** The agents the server knows. */
  agents: AgentPool;
  /** Tells the dispatch worker that work arrived. */
  onDispatch(): void;
}

/** Options of {@linkcode createApp}. */
export interface CreateAppOptions {
  /** The agents served at `/agents/:name/:id`, by name: `createAgent(...)` declarations or options objects. */
  agents?: Readonly<Record<string, AgentDeclaration>>;
  /** The workflows served at `/workflows/:name`, by name: modules exporting `run(ctx)`. */
  workflows?: Readonly<Record<string, WorkflowModule>>;
  /** Where sessions, runs and dispatches are kept. The app does not close it. */
  store: Store;
  /** Agent options applied under each agent's own, such as the project's configuration. */
  defaults?: Partial<AgentOptions>;
  /** Values handed to `createAgent` initialisers and workflows as `ctx.env`; redacted from logs. */
  env?: Readonly<Record<string, string>>;
  /**
   * The bearer token every route but `/health` requires. Without one, only requests from this machine are answered.
   * `serve()` reads `FLUE_API_TOKEN` when this is omitted.
   */
  token?: string;
  /** The largest request body or WebSocket message in bytes; 1 MiB by default. */
  bodyLimit?: number;
  /** Milliseconds between SSE heartbeat comments; 15 000 by default. */
  heartbeatMs?: number;
  /** Milliseconds between store reads when following a run of another process; 250 by default. */
  pollMs?: number;
  /** How many agent instances stay open (idle ones beyond it are closed); 64 by default. */
  maxInstances?: number;
  /** How long an idle agent instance stays open, in milliseconds; 10 minutes by default. */
  idleMs?: number;
  /**
   * Verified webhooks, mounted at `/webhooks`. They authenticate by signature, so the bearer token does not apply
   * to them.
   */
  webhooks?: (context: WebhookMountContext) => MountableApp;
  /**
   * Run a dispatch worker in this app: it handles `/dispatch` inputs with the app's agents, wakes at each dispatch,
   * and drains on `close()` and on SIGTERM or SIGINT (which also close the app; see `closeOnSignals`). `true`, or
   * worker settings; off by default (`serve()` turns it on).
   */
  worker?: boolean | Omit<DispatchWorkerOptions, "store" | "agents">;
  /** Called when a dispatch is admitted or replayed (after the app's own worker, if any, is woken). */
  onDispatch?: () => void;
  /**
   * Names of `workflows` that are legacy handler modules (deprecated): each is also served at
   * `POST /agents/<name>/<id>` with `{ "payload": {...} }`. `createProjectApp` fills it in.
   */
  legacyHandlers?: readonly string[];
  /**
   * Cross-origin access for browsers: the origins allowed (`"*"` for any) and whether credentials may be sent.
   * Applied before authentication, so preflight (`OPTIONS`) requests are answered without a token. Off by default.
   */
  cors?: CorsOptions;
  /**
   * Serve the development UI at `/` (`flue dev` turns it on; `flue serve --ui`). Its pages and scripts need no token;
   * the API calls they make do. Off by default.
   */
  ui?: boolean;
  /**
   * With a worker, close the app on SIGTERM and SIGINT, so `deno serve` (which stops its listener on those signals
   * and waits for the event loop) exits within the grace period. `true` by default; `serve()` turns it off, as it
   * handles the signals itself.
   */
  closeOnSignals?: boolean;
}

/** Options of {@linkcode FlueAppExtras.close}. */
export interface CloseAppOptions {
  /**
   * How long running prompts, dispatches and workflows may take to finish before they are cancelled, in
   * milliseconds; 10 000 by default.
   */
  graceMs?: number;
}

/** What `createApp` adds to the Hono app: what a server needs to run and stop it. */
export interface FlueAppExtras {
  /** The agent instances, shared with a dispatch worker. */
  readonly agents: AgentPool;
  /** The store. */
  readonly store: Store;
  /** The routes served, as listed by the manifest. */
  readonly routes: readonly RouteInfo[];
  /** Whether requests need the bearer token. */
  readonly requiresToken: boolean;
  /** The app's dispatch worker, when `worker` was set. */
  readonly worker?: DispatchWorker;
  /**
   * Stops the app: ends live streams and sockets at once, lets running prompts, dispatches and workflows finish
   * within the grace period (then cancels them), and closes the agent instances. The store stays open. Calling it
   * again returns the same promise.
   *
   * @param options The grace period.
   */
  close(options?: CloseAppOptions): Promise<void>;
  /** `close()` with the default grace period, for `await using app = createApp(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The app `createApp` returns. At run time it is a Hono app; its type names only what Flue promises: `fetch` for
 * `Deno.serve`, `deno serve` (`export default { fetch }`) or mounting (`parent.mount("/flue", app.fetch)`), and
 * `request` for in-process calls.
 */
export interface FlueApp extends FlueAppExtras {
  /**
   * Answers a request.
   *
   * @param request The request.
   * @param info `Deno.serve`'s connection info; without a token, requests from non-loopback addresses are refused.
   * @returns The response.
   */
  fetch(request: Request, info?: Deno.ServeHandlerInfo): Response | Promise<Response>;
  /**
   * Answers a request made in process, such as `app.request("/agents")`.
   *
   * @param input A path, URL or request.
   * @param init Request options.
   * @returns The response.
   */
  request(input: string | URL | Request, init?: RequestInit): Response | Promise<Response>;
}

/** Something with a `fetch` handler, such as a Hono app; what the `webhooks` option mounts. */
export interface MountableApp {
  /**
   * Answers a request.
   *
   * @param request The request.
   * @param env Platform bindings, passed through.
   * @returns The response.
   */
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
}

const WEBHOOK_ROUTE: RouteInfo = {
  method: "POST",
  path: "/webhooks/:name",
  summary: "Verified webhook (GitHub, Slack, HMAC, Discord, Telegram, Teams), then dispatch",
  isPublic: true,
};

/**
 * Builds the server app.
 *
 * @example Serve two agents on a random loopback port
 * ```ts
 * import { createApp } from "./app.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 *
 * const app = createApp({ agents: { assistant: { model: "test", sandbox: "memory" } }, store: new MemoryStore() });
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/agents/assistant/a`, {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ message: "Hello" }),
 * });
 * const { result } = await response.json();
 * if (typeof result.text !== "string") throw new Error("unexpected");
 * await app.close();
 * await server.shutdown();
 * ```
 *
 * @param options Agents, workflows, the store, the token and limits.
 * @returns The app.
 */
export function createApp(options: CreateAppOptions): FlueApp {
  if (options === null || typeof options !== "object" || options.store === null || typeof options.store !== "object") {
    throw new TypeError("createApp() needs { store }: the Store that keeps sessions, runs and dispatches");
  }
  if (options.token !== undefined) assertValidToken(options.token);
  const bodyLimit = positive(options.bodyLimit ?? DEFAULT_BODY_LIMIT, "bodyLimit");
  const shutdown = new AbortController();
  const hub = new RunHub();
  const agents = new AgentPool({
    agents: options.agents ?? {},
    store: options.store,
    defaults: options.defaults,
    env: options.env,
    maxInstances: options.maxInstances,
    idleMs: options.idleMs,
  });
  const workflows = new WorkflowRunner({
    workflows: new Map(Object.entries(options.workflows ?? {})),
    store: options.store,
    hub,
    defaults: options.defaults,
    env: options.env,
  });
  const worker = options.worker
    ? new DispatchWorker({ ...(options.worker === true ? {} : options.worker), store: options.store, agents })
    : undefined;
  const locks = new SessionLocks();
  const ctx: ServerContext = {
    store: options.store,
    agents,
    workflows,
    hub,
    locks,
    redactor: new Redactor({ ...options.defaults?.env, ...options.env, FLUE_API_TOKEN: options.token }),
    bodyLimit,
    heartbeatMs: positive(options.heartbeatMs ?? 15_000, "heartbeatMs"),
    pollMs: positive(options.pollMs ?? 250, "pollMs"),
    shutdown: shutdown.signal,
    onDispatch: () => {
      worker?.wake();
      options.onDispatch?.();
    },
  };
  const routes = options.webhooks ? [...ROUTES, WEBHOOK_ROUTE] : ROUTES;

  const app = new Hono();
  app.onError((error, c) => errorResponse(c, error, ctx.redactor));
  app.use("*", requestId());
  if (options.cors) app.use("*", corsMiddleware(options.cors));
  app.notFound((c) => {
    throw new HttpError(404, "route_not_found", `No route for ${c.req.method} ${c.req.path}: GET /agents lists them`);
  });
  const authenticate = authentication(options.token, options.webhooks ? ["/webhooks/"] : []);
  const isPublicPage = publicPathMatcher(options.ui ? UI_PUBLIC_PATHS : []);
  app.use("*", (c, next) => isPublicPage(c.req.path) ? next() : authenticate(c, next));
  app.use("*", async (c, next) => {
    if (c.req.method === "POST" || c.req.method === "PUT" || c.req.method === "PATCH") {
      return await bodySizeLimit(bodyLimit)(c, next);
    }
    await next();
  });
  metaRoutes(app, ctx, routes);
  legacyHandlerRoutes(app, ctx, options.legacyHandlers ?? []);
  agentRoutes(app, ctx);
  dispatchRoutes(app, ctx);
  workflowRoutes(app, ctx);
  runRoutes(app, ctx);
  if (options.ui) uiRoutes(app);
  mcpRoutes(app, ctx);
  if (options.webhooks) {
    const webhooks = options.webhooks({ store: options.store, agents, onDispatch: ctx.onDispatch });
    // A Hono sub-app joins this app's routing, so its errors get the same envelope; anything else is mounted.
    if (webhooks instanceof Hono) app.route("/webhooks", webhooks);
    else app.mount("/webhooks", (request, env) => webhooks.fetch(request, env));
  }
  // Registered last, so they only answer a known path asked with a method it does not serve.
  for (const [path, methods] of methodsByPath(routes)) {
    const allow = [...methods, ...(methods.includes("GET") ? ["HEAD"] : [])].join(", ");
    app.all(path, (c) => {
      throw new HttpError(405, "method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}: use ${allow}`, {
        headers: { Allow: allow },
      });
    });
  }

  let closing: Promise<void> | undefined;
  const close = async (graceMs: number) => {
    shutdown.abort();
    // One grace period for everything: the worker's own (longer) drain deadline would outlast the server's.
    await Promise.all([worker?.stop({ drainMs: graceMs }), workflows.drain(graceMs), locks.whenIdle(graceMs)]);
    await agents.close();
  };
  const extras: FlueAppExtras = {
    agents,
    store: options.store,
    routes,
    requiresToken: options.token !== undefined,
    worker,
    close(closeOptions = {}) {
      closing ??= close(positive(closeOptions.graceMs ?? 10_000, "graceMs"));
      return closing;
    },
    // Read `close` at call time: `createProjectApp` wraps it to close its store as well.
    [Symbol.asyncDispose]: () => (app as unknown as FlueAppExtras).close(),
  };
  if (worker) worker.start();
  if (worker && options.closeOnSignals !== false) closeOnSignals(app as unknown as FlueAppExtras, shutdown.signal);
  return Object.assign(app, extras) as FlueApp;
}

function publicPathMatcher(paths: readonly string[]): (path: string) => boolean {
  const exact = new Set(paths.filter((path) => !path.endsWith("/*")));
  const prefixes = paths.filter((path) => path.endsWith("/*")).map((path) => path.slice(0, -1));
  return (path) => exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix));
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`createApp() option "${name}" must be a positive whole number, got ${JSON.stringify(value)}`);
  }
  return value;
}
