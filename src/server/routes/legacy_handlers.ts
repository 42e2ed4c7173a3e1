/**
 * The route of legacy handler modules: `POST /agents/<name>/<id>` with `{ "payload": {...} }` runs the handler as a
 * recorded workflow run. Agents declared with `createAgent` keep the agent routes.
 *
 * @module
 */

import type { Hono } from "hono";
import { asObject, checkName, readJsonBody } from "../request_body.ts";
import type { ServerContext } from "../server_context.ts";
import { workflowFailure } from "../workflow_runs.ts";

/**
 * Adds the legacy handler route, ahead of the agent routes.
 *
 * @param app The app.
 * @param ctx The shared server state.
 * @param names The handlers' names; each is also a workflow of the app.
 * @throws {TypeError} When a name is not one of the app's workflows.
 */
export function legacyHandlerRoutes(app: Hono, ctx: ServerContext, names: readonly string[]): void {
  if (names.length === 0) return;
  for (const name of names) {
    if (!ctx.workflows.names().includes(name)) {
      throw new TypeError(`Legacy handler "${name}" must also be given as a workflow of the app`);
    }
  }
  app.post("/agents/:name/:id", async (c, next) => {
    const name = c.req.param("name");
    if (!names.includes(name)) return await next();
    const id = checkName(c.req.param("id"), "agent id");
    const body = asObject(await readJsonBody(c, true), '{ "payload": { "message": "Hello" } }');
    const run = await ctx.workflows.start(name, body.payload, id);
    const headers = { "X-Flue-Run-Id": run.runId, Location: `/runs/${encodeURIComponent(run.runId)}` };
    // As PyFlue answers a legacy route called as a webhook: accepted at once, the run followed at /runs/:id.
    if (c.req.header("x-webhook") === "true") {
      run.done.catch(() => {}); // recorded in the run; nobody awaits it here
      return c.json({ status: "accepted", runId: run.runId }, 202, headers);
    }
    try {
      await run.done;
      const record = await ctx.store.getRun(run.runId);
      return c.json({ result: record?.result, runId: run.runId }, 200, headers);
    } catch (error) {
      throw await workflowFailure(ctx.store, run.runId, error, headers);
    }
  });
}
