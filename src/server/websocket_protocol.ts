/**
 * WebSocket protocol v1: the frames a client and the server exchange on `GET /agents/:name/:id` and
 * `GET /workflows/:name`. Every frame is a JSON text message with a `type`; frames about one request carry its
 * `requestId`.
 *
 * @module
 */

import type { FlueEvent } from "../events/event_types.ts";
import type { ErrorBody } from "./errors.ts";

/** The protocol version. */
export const PROTOCOL_VERSION = 1;

/** Frames a client sends. `version`, when present, must be 1. */
export type ClientFrame =
  | { type: "prompt"; requestId: string; message: string; session?: string; version?: 1 }
  | { type: "run"; requestId: string; payload?: unknown; version?: 1 }
  | { type: "abort"; requestId: string; version?: 1 }
  | { type: "ping"; requestId?: string; version?: 1 };

/** Frames the server sends. */
export type ServerFrame =
  | { type: "ready"; version: 1; target: "agent" | "workflow"; name: string; id: string }
  | { type: "started"; requestId: string; runId?: string }
  | { type: "event"; requestId: string; event: FlueEvent; runId?: string }
  | { type: "result"; requestId: string; result: unknown; runId?: string }
  | { type: "error"; requestId?: string; error: ErrorBody; runId?: string }
  | { type: "pong"; requestId?: string };
