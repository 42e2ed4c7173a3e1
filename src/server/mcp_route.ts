/**
 * The MCP route: `/mcp/:name/:id` serves an agent instance as a Model Context Protocol server over streamable HTTP
 * (stateless, JSON responses), behind the same bearer token as every other route. See `docs/mcp.md`.
 *
 * @module
 */

import type { Hono } from "hono";
import type { ServerContext } from "./server_context.ts";
import { openSession, target } from "./routes/agents.ts";

/**
 * Adds the MCP route. The MCP SDK is loaded on the route's first request, so servers that never receive one skip it.
 *
 * @param app The app.
 * @param ctx The shared server state.
 */
export function mcpRoutes(app: Hono, ctx: ServerContext): void {
  app.on(["GET", "POST", "DELETE"], "/mcp/:name/:id", async (c) => {
    const { name, id } = target(c, ctx);
    const { handleMcpRequest } = await import("../tools/mcp/agent_mcp_server.ts");
    return await handleMcpRequest(c.req.raw, {
      name,
      async prompt(message, sessionName, signal) {
        // One prompt at a time per session, as for POST /agents/:name/:id: a busy session is a tool error.
        const release = ctx.locks.acquire(name, id, sessionName);
        try {
          const session = await openSession(ctx, name, id, sessionName);
          return (await session.prompt(message, { signal })).text;
        } finally {
          release();
        }
      },
    });
  });
}
