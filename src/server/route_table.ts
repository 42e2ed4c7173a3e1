/**
 * The server's routes in one table: the manifest (`GET /agents`), the OpenAPI document and the 405 answers are all
 * built from it, so they cannot drift from each other.
 *
 * @module
 */

/** One route of the server. */
export interface RouteInfo {
  /** The HTTP method; WebSocket routes are `GET` with `websocket: true`. */
  method: "GET" | "POST";
  /** The path in Hono syntax, such as `/agents/:name/:id`. */
  path: string;
  /** What it does. */
  summary: string;
  /** Whether it upgrades to a WebSocket. */
  websocket?: boolean;
  /** Whether it answers with server-sent events (always, or with `Accept: text/event-stream`). */
  sse?: "always" | "accept";
  /** Whether it needs no token. */
  isPublic?: boolean;
}

/** Every route, in the order they are documented. */
export const ROUTES: readonly RouteInfo[] = [
  { method: "GET", path: "/health", summary: "Liveness check; needs no token", isPublic: true },
  {
    method: "GET",
    path: "/ready",
    summary: "Readiness check: 200 when the store answers, else 503; needs no token",
    isPublic: true,
  },
  { method: "GET", path: "/agents", summary: "Manifest: agents, workflows and routes" },
  { method: "GET", path: "/openapi.json", summary: "This API as an OpenAPI 3.1 document" },
  {
    method: "POST",
    path: "/agents/:name/:id",
    summary: "Prompt an agent instance: { message, session? } -> { result }, or SSE events",
    sse: "accept",
  },
  {
    method: "GET",
    path: "/agents/:name/:id",
    summary: "WebSocket, protocol v1 (prompt, abort, ping)",
    websocket: true,
  },
  {
    method: "POST",
    path: "/agents/:name/:id/dispatch",
    summary: "Queue a durable input: { message, session? } -> 202 { dispatchId, acceptedAt }; honours Idempotency-Key",
  },
  {
    method: "POST",
    path: "/agents/:name/:id/abort",
    summary: "Cancel what a session runs: { session? } -> { aborted }",
  },
  { method: "GET", path: "/agents/:name/:id/history", summary: "A session's stored entries: ?session=&after=&limit=" },
  { method: "GET", path: "/agents/:name/:id/sessions", summary: "An agent instance's stored sessions" },
  { method: "GET", path: "/dispatches", summary: "List dispatches: ?status=dead&agent=&id=&session=&limit=" },
  { method: "GET", path: "/dispatches/:dispatchId", summary: "A dispatch's state and attempts" },
  { method: "POST", path: "/dispatches/:dispatchId/replay", summary: "Put a dead dispatch back in the queue" },
  {
    method: "POST",
    path: "/workflows/:name",
    summary: "Start a run: 202 { runId }; ?wait=result -> { result, runId }; or SSE run events",
    sse: "accept",
  },
  { method: "GET", path: "/workflows/:name", summary: "WebSocket, protocol v1 (run, abort, ping)", websocket: true },
  { method: "GET", path: "/runs", summary: "List runs, newest first: ?workflow=&status=&limit=&cursor=" },
  { method: "GET", path: "/runs/:id", summary: "A run's record" },
  { method: "GET", path: "/runs/:id/events", summary: "A run's stored events: ?after=&limit=&types=" },
  {
    method: "GET",
    path: "/runs/:id/stream",
    summary: "A run's events as SSE, live until run_end; resumes from Last-Event-ID",
    sse: "always",
  },
  { method: "POST", path: "/runs/:id/abort", summary: "Cancel a run executing in this server" },
  {
    method: "POST",
    path: "/mcp/:name/:id",
    summary: "An agent instance as a Model Context Protocol server (streamable HTTP, stateless): one prompt tool",
  },
];

/**
 * The methods each path answers, for `405` and its `Allow` header.
 *
 * @param routes The routes.
 * @returns Methods by path.
 */
export function methodsByPath(routes: readonly RouteInfo[]): Map<string, string[]> {
  const methods = new Map<string, string[]>();
  for (const route of routes) {
    const list = methods.get(route.path) ?? [];
    if (!list.includes(route.method)) list.push(route.method);
    methods.set(route.path, list);
  }
  return methods;
}
