/**
 * Run routes: a run's record, its stored events, a live SSE stream with `Last-Event-ID` resume, and cancellation.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import type { RunRecord, RunStatus } from "../../store/store.ts";
import { HttpError } from "../errors.ts";
import { followRun } from "../run_follower.ts";
import type { ServerContext } from "../server_context.ts";
import { resumePosition, sseResponse } from "../sse.ts";
import { integerParam } from "./_query.ts";

const MAX_PAGE = 1000;
const EVENT_TYPE = /^[a-z][a-z_]{0,63}$/;
const RUN_STATUSES: readonly RunStatus[] = ["running", "done", "failed", "aborted"];

/**
 * Adds the run routes.
 *
 * @param app The app.
 * @param ctx The shared server state.
 */
export function runRoutes(app: Hono, ctx: ServerContext): void {
  app.get("/runs", async (c) => {
    const limit = integerParam(c.req.query("limit"), "limit", 50, 1, MAX_PAGE);
    const workflow = c.req.query("workflow") || undefined;
    const status = runStatuses(c.req.query("status"));
    const before = readCursor(c.req.query("cursor"));
    // One more than asked tells whether another page follows.
    const runs = await ctx.store.listRuns({ workflow, status, before, limit: limit + 1 });
    const page = runs.slice(0, limit);
    const last = page.at(-1);
    return c.json({
      runs: page,
      ...(runs.length > limit && last ? { nextCursor: writeCursor(last) } : {}),
    });
  });

  app.get("/runs/:id", async (c) => c.json(await findRun(c, ctx)));

  app.get("/runs/:id/events", async (c) => {
    const run = await findRun(c, ctx);
    const after = integerParam(c.req.query("after"), "after", -1, -1);
    const limit = integerParam(c.req.query("limit"), "limit", 100, 1, MAX_PAGE);
    const types = eventTypes(c.req.query("types"));
    // One more than asked tells whether another page follows.
    const events = await ctx.store.listRunEvents(run.runId, { after, limit: limit + 1, types });
    const page = events.slice(0, limit);
    return c.json({
      runId: run.runId,
      events: page,
      nextAfter: page.at(-1)?.eventIndex ?? after,
      hasMore: events.length > limit,
    });
  });

  app.get("/runs/:id/stream", async (c) => {
    const run = await findRun(c, ctx);
    const after = resumePosition(c.req.header("last-event-id"), c.req.query("after"));
    if (after === undefined) {
      throw new HttpError(400, "invalid_query", "Last-Event-ID (or ?after=) must be a whole number from -1 up");
    }
    const headers = { "X-Flue-Run-Id": run.runId };
    return sseResponse(c, { heartbeatMs: ctx.heartbeatMs, shutdown: ctx.shutdown, headers }, async (sink) => {
      const options = { after, pollMs: ctx.pollMs, signal: sink.signal };
      for await (const event of followRun(ctx.store, ctx.hub, run.runId, options)) {
        await sink.send(event.type, event, event.eventIndex);
      }
    });
  });

  app.post("/runs/:id/abort", async (c) => {
    const run = await findRun(c, ctx);
    return c.json({ aborted: ctx.workflows.abort(run.runId, "aborted by POST /runs/:id/abort"), runId: run.runId });
  });
}

async function findRun(c: Context, ctx: ServerContext): Promise<RunRecord> {
  const runId = c.req.param("id") ?? "";
  // deno-lint-ignore no-control-regex -- control characters are never part of a run id
  if (/[\u0000-\u001f\u007f]/.test(runId)) throw invalidRunId(runId);
  const run = runId.length <= 512 ? await ctx.store.getRun(runId) : undefined;
  if (!run) {
    throw new HttpError(404, "run_not_found", `No run with id "${runId}"`, { details: { kind: "run", name: runId } });
  }
  return run;
}

function eventTypes(text: string | undefined): string[] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const types = text.split(",").map((type) => type.trim()).filter((type) => type !== "");
  const invalid = types.find((type) => !EVENT_TYPE.test(type));
  if (invalid !== undefined) {
    throw new HttpError(
      400,
      "invalid_query",
      `Invalid event type ${
        JSON.stringify(invalid)
      } in "types": list event types separated by commas, such as types=log,run_end`,
      { details: { parameter: "types" } },
    );
  }
  return types;
}

function runStatuses(text: string | undefined): RunStatus[] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const list = text.split(",").map((entry) => entry.trim());
  const unknown = list.find((entry) => !RUN_STATUSES.includes(entry as RunStatus));
  if (unknown !== undefined) {
    throw new HttpError(
      400,
      "invalid_query",
      `Unknown status ${JSON.stringify(unknown)}: use ${RUN_STATUSES.join(", ")}, separated by commas`,
      { details: { parameter: "status" } },
    );
  }
  return list as RunStatus[];
}

// The cursor is the position of the last run of a page; encoded so that clients treat it as opaque.
function writeCursor(run: RunRecord): string {
  const bytes = new TextEncoder().encode(JSON.stringify([run.startedAt, run.runId]));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function readCursor(text: string | undefined): { startedAt: string; runId: string } | undefined {
  if (text === undefined || text === "") return undefined;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    const value = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0))));
    if (Array.isArray(value) && typeof value[0] === "string" && typeof value[1] === "string") {
      return { startedAt: value[0], runId: value[1] };
    }
  } catch {
    // reported below
  }
  throw new HttpError(400, "invalid_query", `Invalid "cursor": pass the nextCursor of the previous page unchanged`, {
    details: { parameter: "cursor" },
  });
}

function invalidRunId(runId: string): HttpError {
  return new HttpError(
    400,
    "invalid_request",
    `Invalid run id ${JSON.stringify(runId)}: control characters are not allowed`,
  );
}
