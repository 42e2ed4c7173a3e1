/**
 * `GET /health`, `GET /ready`, `GET /agents` (the manifest) and `GET /openapi.json`.
 *
 * @module
 */

import type { Hono } from "hono";
import { HttpError, logUnexpected } from "../errors.ts";
import { openApiDocument } from "../openapi.ts";
import type { RouteInfo } from "../route_table.ts";
import type { ServerContext } from "../server_context.ts";

const READINESS_PROBE_RUN_ID = "flue:readiness-probe";

/**
 * Adds the health, readiness, manifest and OpenAPI routes.
 *
 * @param app The app.
 * @param ctx The shared server state.
 * @param routes Every route the app serves.
 */
export function metaRoutes(app: Hono, ctx: ServerContext, routes: readonly RouteInfo[]): void {
  app.get("/health", (c) => c.json({ ok: true }));

  // For load balancers: a server whose database is down or unreachable stops getting traffic. The answer names no
  // detail of the failure (it needs no token); the server's log has it.
  app.get("/ready", async (c) => {
    try {
      await ctx.store.getRun(READINESS_PROBE_RUN_ID);
    } catch (error) {
      logUnexpected("GET /ready", error, ctx.redactor);
      throw new HttpError(503, "store_unavailable", "The server's store does not answer: see the server's log");
    }
    return c.json({ ok: true });
  });

  app.get("/agents", (c) =>
    c.json({
      agents: ctx.agents.agentNames().map((name) => ({
        name,
        prompt: `/agents/${name}/{id}`,
        websocket: `/agents/${name}/{id}`,
        dispatch: `/agents/${name}/{id}/dispatch`,
      })),
      workflows: ctx.workflows.names().map((name) => ({
        name,
        run: `/workflows/${name}`,
        websocket: `/workflows/${name}`,
      })),
      routes: routes.map(({ method, path, summary, websocket, sse }) => ({
        method,
        path,
        summary,
        ...(websocket ? { websocket } : {}),
        ...(sse ? { sse } : {}),
      })),
    }));

  const workflows = new Map(ctx.workflows.names().map((name) => [name, ctx.workflows.module(name)!]));
  const document = openApiDocument(routes, workflows);
  app.get("/openapi.json", (c) => c.json(document));
}
