/**
 * Agent routes: prompt (JSON or SSE), WebSocket, abort and history.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import { NotFoundError } from "../../errors.ts";
import type { Session } from "../../session/session_types.ts";
import { logServerError, toHttpError } from "../errors.ts";
import { asObject, checkName, readJsonBody, readPromptInput } from "../request_body.ts";
import type { ServerContext } from "../server_context.ts";
import { sseResponse } from "../sse.ts";
import { upgradeToWebSocket } from "../websocket.ts";
import { integerParam } from "./_query.ts";

/**
 * Adds the agent routes.
 *
 * @param app The app.
 * @param ctx The shared server state.
 */
export function agentRoutes(app: Hono, ctx: ServerContext): void {
  app.post("/agents/:name/:id", async (c) => {
    const { name, id } = target(c, ctx);
    const { message, session: sessionName } = readPromptInput(await readJsonBody(c, true));
    const release = ctx.locks.acquire(name, id, sessionName);
    let session: Session;
    try {
      session = await openSession(ctx, name, id, sessionName);
    } catch (error) {
      release();
      throw error;
    }
    if (wantsEventStream(c)) return streamPrompt(c, ctx, session, message, release);
    try {
      const response = await session.prompt(message);
      return c.json({ result: response });
    } finally {
      release();
    }
  });

  app.get("/agents/:name/:id", (c) => {
    const { name, id } = target(c, ctx);
    return upgradeToWebSocket(c, ctx, { kind: "agent", name, id });
  });

  app.post("/agents/:name/:id/abort", async (c) => {
    const { name, id } = target(c, ctx);
    const body = await readJsonBody(c, false);
    const input = body === undefined ? {} : asObject(body, '{ "session": "default" }');
    const sessionName = input.session === undefined ? "default" : checkName(input.session, "session name");
    // Only an open instance can be running anything; opening one just to abort it would do nothing.
    const agent = ctx.agents.peek(name, id);
    const aborted = agent ? (await agent.session(sessionName)).abort("aborted by POST /abort") : false;
    return c.json({ aborted, session: sessionName });
  });

  app.get("/agents/:name/:id/sessions", async (c) => {
    const { name, id } = target(c, ctx);
    const keys = await ctx.store.listSessions({ agent: name, instanceId: id });
    return c.json({ agent: name, id, sessions: keys.map((key) => key.session) });
  });

  app.get("/agents/:name/:id/history", async (c) => {
    const { name, id } = target(c, ctx);
    const sessionName = checkName(c.req.query("session") ?? "default", "session name");
    const after = integerParam(c.req.query("after"), "after", -1, -1);
    const limit = integerParam(c.req.query("limit"), "limit", 1000, 1, 10_000);
    const entries = await ctx.store.load({ agent: name, instanceId: id, session: sessionName }, { afterSeq: after });
    const page = entries.slice(0, limit);
    return c.json({
      agent: name,
      id,
      session: sessionName,
      entries: page,
      nextAfter: page.at(-1)?.seq ?? after,
      hasMore: entries.length > page.length,
    });
  });
}

/**
 * Reads the agent name and instance id of an `/agents/:name/:id...` route.
 *
 * @param c The request context.
 * @param ctx The shared server state.
 * @returns The name of a served agent and a valid instance id.
 */
export function target(c: Context, ctx: ServerContext): { name: string; id: string } {
  const name = c.req.param("name") ?? "";
  if (!ctx.agents.has(name)) {
    const known = ctx.agents.agentNames();
    throw new NotFoundError(
      "agent",
      name,
      `No agent named "${name}": ${known.length ? `known agents are ${known.join(", ")}` : "the server has no agents"}`,
    );
  }
  return { name, id: checkName(c.req.param("id"), "instance id") };
}

/**
 * Opens an agent instance's session.
 *
 * @param ctx The shared server state.
 * @param name The agent's name.
 * @param id The instance id.
 * @param sessionName The session name.
 * @returns The session.
 */
export async function openSession(ctx: ServerContext, name: string, id: string, sessionName: string): Promise<Session> {
  const agent = await ctx.agents.getAgent(name, id);
  return await agent.session(sessionName);
}

function wantsEventStream(c: Context): boolean {
  return (c.req.header("accept") ?? "").toLowerCase().includes("text/event-stream");
}

// A client that disconnects does not cancel the prompt: the events keep being consumed (so the stream does not
// abort the operation) and the answer lands in the session's history. Cancelling is explicit: POST .../abort.
function streamPrompt(
  c: Context,
  ctx: ServerContext,
  session: Session,
  message: string,
  release: () => void,
): Response {
  const events = session.stream(message);
  return sseResponse(c, { heartbeatMs: ctx.heartbeatMs, shutdown: ctx.shutdown }, async (sink) => {
    try {
      for await (const event of events) await sink.send(event.type, event, event.eventIndex);
      await sink.send("result", { result: await events.result });
    } catch (error) {
      const httpError = toHttpError(error);
      if (httpError.status >= 500) {
        const requestId = (c.get("requestId") as string | undefined) ?? crypto.randomUUID();
        logServerError(`POST ${c.req.path} (stream)`, httpError, ctx.redactor, requestId);
        await sink.send("failed", { error: { ...httpError.envelope.error, requestId } });
      } else {
        await sink.send("failed", httpError.envelope);
      }
    } finally {
      release();
    }
  });
}
