/**
 * Dispatch routes: durable admission (`POST /agents/:name/:id/dispatch`), a dispatch's state, the dead-letter list
 * and replay.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import { dispatch } from "../../agent/dispatch.ts";
import type { DispatchQuery, DispatchRecord, DispatchStatus } from "../../store/dispatch_queue.ts";
import { HttpError, invalidRequest } from "../errors.ts";
import { checkName, readJsonBody, readPromptInput } from "../request_body.ts";
import type { ServerContext } from "../server_context.ts";
import { integerParam } from "./_query.ts";
import { target } from "./agents.ts";

const STATUSES: readonly DispatchStatus[] = ["accepted", "running", "failed", "done", "dead"];

/**
 * Adds the dispatch routes.
 *
 * @param app The app.
 * @param ctx The shared server state.
 */
export function dispatchRoutes(app: Hono, ctx: ServerContext): void {
  app.post("/agents/:name/:id/dispatch", async (c) => {
    const { name, id } = target(c, ctx);
    const { message, session } = readPromptInput(await readJsonBody(c, true));
    const idempotencyKey = c.req.header("idempotency-key");
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
      throw invalidRequest("The Idempotency-Key header must be 1 to 255 printable characters without spaces");
    }
    const receipt = await dispatch(ctx.store, { agent: name, id, session, message, idempotencyKey }).catch((error) => {
      // The body was checked above, so a refusal here is a repeated key with a different input.
      if (error instanceof TypeError) throw new HttpError(422, "idempotency_key_reused", error.message);
      throw error;
    });
    ctx.onDispatch();
    return c.json(
      {
        dispatchId: receipt.dispatchId,
        acceptedAt: receipt.acceptedAt,
        created: receipt.created,
        status: receipt.status,
      },
      202,
      { Location: `/dispatches/${encodeURIComponent(receipt.dispatchId)}` },
    );
  });

  app.get("/dispatches", async (c) => {
    const query: DispatchQuery = { limit: integerParam(c.req.query("limit"), "limit", 100, 1, 1000) };
    const status = c.req.query("status");
    if (status) query.status = statuses(status);
    const agent = c.req.query("agent");
    if (agent !== undefined) {
      const instanceId = checkName(c.req.query("id"), "instance id (id, needed with agent)");
      const session = checkName(c.req.query("session") ?? "default", "session name");
      query.key = { agent, instanceId, session };
    }
    const records = await ctx.store.listDispatches(query);
    return c.json({ dispatches: records.map(publicRecord) });
  });

  app.get("/dispatches/:dispatchId", async (c) => c.json(publicRecord(await findDispatch(c, ctx))));

  app.post("/dispatches/:dispatchId/replay", async (c) => {
    const dispatchId = checkName(c.req.param("dispatchId"), "dispatch id");
    const record = await ctx.store.replayDispatch(dispatchId);
    if (!record) {
      const existing = await ctx.store.getDispatch(dispatchId);
      if (!existing) throw notFound(dispatchId);
      throw new HttpError(
        409,
        "dispatch_not_dead",
        `Dispatch "${dispatchId}" is ${existing.status}: only a dead dispatch can be replayed`,
        { details: { status: existing.status } },
      );
    }
    ctx.onDispatch();
    return c.json(publicRecord(record));
  });
}

async function findDispatch(c: Context, ctx: ServerContext): Promise<DispatchRecord> {
  const dispatchId = checkName(c.req.param("dispatchId") ?? "", "dispatch id");
  const record = await ctx.store.getDispatch(dispatchId);
  if (!record) throw notFound(dispatchId);
  return record;
}

function notFound(dispatchId: string): HttpError {
  return new HttpError(404, "dispatch_not_found", `No dispatch with id "${dispatchId}"`, {
    details: { kind: "dispatch", name: dispatchId },
  });
}

function statuses(text: string): DispatchStatus[] {
  const list = text.split(",").map((entry) => entry.trim());
  const unknown = list.find((entry) => !STATUSES.includes(entry as DispatchStatus));
  if (unknown !== undefined) {
    throw new HttpError(400, "invalid_query", `Unknown status ${JSON.stringify(unknown)}: use ${STATUSES.join(", ")}`, {
      details: { parameter: "status" },
    });
  }
  return list as DispatchStatus[];
}

// Lease bookkeeping is the worker's business; clients see the state, attempts, result and error.
function publicRecord(record: DispatchRecord): Record<string, unknown> {
  const { leaseOwner: _owner, leaseExpiresAt: _expires, key, ...rest } = record;
  return { ...rest, agent: key.agent, id: key.instanceId, session: key.session };
}
