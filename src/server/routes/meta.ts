/**
 * `GET /health`, `GET /agents` (the manifest) and `GET /openapi.json`.
 *
 * @module
 */

import type { Hono } from "hono";
import { openApiDocument } from "../openapi.ts";
import type { RouteInfo } from "../route_table.ts";
import type { ServerContext } from "../server_context.ts";

/**
 * Adds the health, manifest and OpenAPI routes.
 *
 * @param app The app.
 * @param ctx The shared server state.
 * @param routes Every route the app serves.
 */
export function metaRoutes(app: Hono, ctx: ServerContext, routes: readonly RouteInfo[]): void {
  app.get("/health", (c) => c.json({ ok: true }));

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

  const document = openApiDocument(routes);
  app.get("/openapi.json", (c) => c.json(document));
}
