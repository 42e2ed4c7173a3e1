/**
 * Workflow routes: start a run (202 with its id, `?wait=result`, or SSE) and the workflow WebSocket.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import { HttpError, invalidRequest } from "../errors.ts";
import { checkName, readJsonBody } from "../request_body.ts";
import { followRun } from "../run_follower.ts";
import type { ServerContext } from "../server_context.ts";
import { sseResponse } from "../sse.ts";
import { upgradeToWebSocket } from "../websocket.ts";
import { workflowFailure } from "../workflow_runs.ts";

/**
 * Adds the workflow routes.
 *
 * @param app The app.
 * @param ctx The shared server state.
 */
export function workflowRoutes(app: Hono, ctx: ServerContext): void {
  app.post("/workflows/:name", async (c) => {
    const name = knownWorkflow(c, ctx);
    const id = checkName(c.req.query("id") ?? "default", "instance id");
    const wait = c.req.query("wait");
    if (wait !== undefined && wait !== "result") {
      throw invalidRequest(`Invalid "wait" ${JSON.stringify(wait)}: use ?wait=result, or leave it out for 202`);
    }
    const payload = await readJsonBody(c, false);
    const run = await ctx.workflows.start(name, payload, id);
    const headers = { "X-Flue-Run-Id": run.runId, Location: `/runs/${encodeURIComponent(run.runId)}` };
    if ((c.req.header("accept") ?? "").toLowerCase().includes("text/event-stream")) {
      return sseResponse(c, { heartbeatMs: ctx.heartbeatMs, shutdown: ctx.shutdown, headers }, async (sink) => {
        const options = { after: -1, pollMs: ctx.pollMs, signal: sink.signal };
        for await (const event of followRun(ctx.store, ctx.hub, run.runId, options)) {
          await sink.send(event.type, event, event.eventIndex);
        }
      });
    }
    if (wait === undefined) {
      run.done.catch(() => {}); // recorded in the run; nobody awaits it here
      return c.json({ runId: run.runId }, 202, headers);
    }
    try {
      await run.done;
      // The stored record's result, which is redacted of the run's secrets like its events, not the raw return value.
      const record = await ctx.store.getRun(run.runId);
      return c.json({ result: record?.result, runId: run.runId }, 200, headers);
    } catch (error) {
      throw await workflowFailure(ctx.store, run.runId, error, headers);
    }
  });

  app.get("/workflows/:name", (c) => {
    const name = knownWorkflow(c, ctx);
    const id = checkName(c.req.query("id") ?? "default", "instance id");
    return upgradeToWebSocket(c, ctx, { kind: "workflow", name, id });
  });
}

function knownWorkflow(c: Context, ctx: ServerContext): string {
  const name = c.req.param("name") ?? "";
  const known = ctx.workflows.names();
  if (!known.includes(name)) {
    throw new HttpError(
      404,
      "workflow_not_found",
      `No workflow named "${name}": ${
        known.length ? `known workflows are ${known.join(", ")}` : "the server has none"
      }`,
      { details: { kind: "workflow", name } },
    );
  }
  return name;
}
