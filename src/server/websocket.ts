/**
 * WebSocket protocol v1 (see `websocket_protocol.ts` and docs/server.md). A bad frame gets an `error` frame and the
 * socket stays open. Closing the socket stops the frames, not the work: a prompt or run in progress finishes and is
 * stored; a client cancels with an `abort` frame.
 *
 * `Deno.upgradeWebSocket` is used directly rather than `hono/deno`'s deprecated helper, because the server must choose
 * the subprotocol itself: it answers `flue.v1` and never echoes a `flue.token.*` entry back.
 *
 * @module
 */

import type { Context } from "hono";
import type { FlueEvent } from "../events/event_types.ts";
import type { Session } from "../session/session_types.ts";
import { WEBSOCKET_PROTOCOL } from "./auth.ts";
import { HttpError, logUnexpected, payloadTooLarge, toHttpError } from "./errors.ts";
import { readPromptInput } from "./request_body.ts";
import { openSession } from "./routes/agents.ts";
import type { ServerContext } from "./server_context.ts";
import { workflowFailure } from "./workflow_runs.ts";
import { PROTOCOL_VERSION, type ServerFrame } from "./websocket_protocol.ts";

/** What a socket talks to. */
export interface SocketTarget {
  /** An agent instance or a workflow. */
  kind: "agent" | "workflow";
  /** The agent's or workflow's name. */
  name: string;
  /** The agent instance id, or the instance id workflow runs get. */
  id: string;
}

const MAX_REQUEST_ID_LENGTH = 128;

/**
 * Upgrades the request and speaks protocol v1 on the socket.
 *
 * @param c The request context.
 * @param ctx The shared server state.
 * @param target The agent instance or workflow.
 * @returns The 101 response.
 */
export function upgradeToWebSocket(c: Context, ctx: ServerContext, target: SocketTarget): Response {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new HttpError(
      426,
      "websocket_required",
      `GET ${c.req.path} opens a WebSocket: connect with a WebSocket client (protocol "${WEBSOCKET_PROTOCOL}")`,
      { headers: { Upgrade: "websocket" } },
    );
  }
  const offered = (c.req.header("sec-websocket-protocol") ?? "").split(",").map((entry) => entry.trim());
  let upgraded: { socket: WebSocket; response: Response };
  try {
    upgraded = Deno.upgradeWebSocket(
      c.req.raw,
      offered.includes(WEBSOCKET_PROTOCOL) ? { protocol: WEBSOCKET_PROTOCOL } : {},
    );
  } catch (error) {
    throw new HttpError(400, "invalid_request", `Invalid WebSocket handshake: ${(error as Error).message}`);
  }
  const { socket, response } = upgraded;
  new ProtocolConnection(socket, ctx, target);
  return response;
}

class ProtocolConnection {
  readonly #socket: WebSocket;
  readonly #ctx: ServerContext;
  readonly #target: SocketTarget;
  readonly #inFlight = new Map<string, (reason: unknown) => void>();

  constructor(socket: WebSocket, ctx: ServerContext, target: SocketTarget) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#target = target;
    const closeOnShutdown = () => {
      if (socket.readyState === WebSocket.OPEN) socket.close(1001, "server shutting down");
    };
    ctx.shutdown.addEventListener("abort", closeOnShutdown, { once: true });
    socket.onopen = () => {
      this.#send({ type: "ready", version: PROTOCOL_VERSION, target: target.kind, name: target.name, id: target.id });
    };
    socket.onclose = () => ctx.shutdown.removeEventListener("abort", closeOnShutdown);
    socket.onmessage = (message) => {
      this.#receive(message.data).catch((error) => this.#sendError(undefined, error));
    };
  }

  #send(frame: ServerFrame): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(frame));
  }

  #sendError(requestId: string | undefined, error: unknown, runId?: string): void {
    const httpError = toHttpError(error);
    if (httpError.type === "internal_error") {
      logUnexpected(`WebSocket ${this.#target.kind} ${this.#target.name}`, error, this.#ctx.redactor);
    }
    this.#send({
      type: "error",
      ...(requestId === undefined ? {} : { requestId }),
      error: httpError.envelope.error,
      ...(runId === undefined ? {} : { runId }),
    });
  }

  async #receive(data: unknown): Promise<void> {
    const frame = this.#parse(data);
    const requestId = frame.requestId as string | undefined;
    switch (frame.type) {
      case "ping":
        return this.#send({ type: "pong", ...(requestId === undefined ? {} : { requestId }) });
      case "abort": {
        const abort = this.#inFlight.get(this.#requestId(frame));
        if (!abort) {
          throw new HttpError(404, "request_not_found", `No request ${JSON.stringify(requestId)} is in progress`);
        }
        return abort("aborted by the client");
      }
      case "prompt":
        if (this.#target.kind !== "agent") {
          throw invalidFrame(`This socket runs workflow "${this.#target.name}": send "run"`);
        }
        return await this.#prompt(this.#requestId(frame), frame);
      case "run":
        if (this.#target.kind !== "workflow") {
          throw invalidFrame(`This socket talks to agent "${this.#target.name}": send "prompt"`);
        }
        return await this.#run(this.#requestId(frame), frame.payload);
      default:
        throw invalidFrame(`Unknown frame type ${JSON.stringify(frame.type)}: use prompt, run, abort or ping`);
    }
  }

  #parse(data: unknown): Record<string, unknown> {
    if (typeof data !== "string") throw invalidFrame("Send text frames holding JSON");
    if (data.length > this.#ctx.bodyLimit) throw payloadTooLarge(this.#ctx.bodyLimit);
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch (error) {
      throw new HttpError(400, "invalid_json", `The frame is not valid JSON: ${(error as Error).message}`);
    }
    if (
      frame === null || typeof frame !== "object" || Array.isArray(frame) ||
      typeof (frame as { type?: unknown }).type !== "string"
    ) {
      throw invalidFrame('A frame is a JSON object with a "type", such as { "type": "ping" }');
    }
    const { version } = frame as { version?: unknown };
    if (version !== undefined && version !== PROTOCOL_VERSION) {
      throw new HttpError(
        400,
        "unsupported_version",
        `Protocol version ${JSON.stringify(version)} is not supported: use 1`,
      );
    }
    return frame as Record<string, unknown>;
  }

  #requestId(frame: Record<string, unknown>): string {
    const { requestId } = frame;
    if (typeof requestId !== "string" || requestId === "" || requestId.length > MAX_REQUEST_ID_LENGTH) {
      throw invalidFrame(`"requestId" must be a string of 1 to ${MAX_REQUEST_ID_LENGTH} characters`);
    }
    if (frame.type !== "abort" && this.#inFlight.has(requestId)) {
      throw invalidFrame(`Request ${JSON.stringify(requestId)} is already in progress: use a new requestId`);
    }
    return requestId;
  }

  async #prompt(requestId: string, frame: Record<string, unknown>): Promise<void> {
    let release: (() => void) | undefined;
    try {
      const { message, session: sessionName } = readPromptInput(frame);
      release = this.#ctx.locks.acquire(this.#target.name, this.#target.id, sessionName);
      const session: Session = await openSession(this.#ctx, this.#target.name, this.#target.id, sessionName);
      const events = session.stream(message);
      this.#inFlight.set(requestId, (reason) => events.abort(reason));
      this.#send({ type: "started", requestId });
      for await (const event of events) this.#send({ type: "event", requestId, event });
      this.#send({ type: "result", requestId, result: await events.result });
    } catch (error) {
      this.#sendError(requestId, error);
    } finally {
      this.#inFlight.delete(requestId);
      release?.();
    }
  }

  async #run(requestId: string, payload: unknown): Promise<void> {
    let runId: string | undefined;
    const controller = new AbortController();
    this.#inFlight.set(requestId, (reason) => controller.abort(reason));
    // Events are held back until "started" (which carries the run id) is sent, then forwarded as they happen.
    const held: FlueEvent[] = [];
    let isLive = false;
    try {
      const run = await this.#ctx.workflows.start(this.#target.name, payload, this.#target.id, {
        signal: controller.signal,
        onEvent: (event) => {
          if (isLive) this.#send({ type: "event", requestId, runId: event.runId, event });
          else held.push(event);
        },
      });
      runId = run.runId;
      this.#send({ type: "started", requestId, runId });
      for (const event of held) this.#send({ type: "event", requestId, runId, event });
      isLive = true;
      const { result } = await run.done;
      this.#send({ type: "result", requestId, runId, result });
    } catch (error) {
      this.#sendError(
        requestId,
        runId === undefined ? error : await workflowFailure(this.#ctx.store, runId, error),
        runId,
      );
    } finally {
      this.#inFlight.delete(requestId);
    }
  }
}

function invalidFrame(message: string): HttpError {
  return new HttpError(400, "invalid_message", message);
}
