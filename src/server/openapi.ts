/**
 * The OpenAPI 3.1 document served at `/openapi.json`, built from the route table.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import type { RouteInfo } from "./route_table.ts";

type Schema = Record<string, unknown>;

const ERROR_REF = { $ref: "#/components/schemas/Error" };
const PROMPT_BODY: Schema = {
  type: "object",
  required: ["message"],
  properties: {
    message: { type: "string", minLength: 1 },
    session: { type: "string", minLength: 1, maxLength: 256, default: "default" },
  },
};

// Statuses each kind of route can answer besides its success, so clients can see every documented outcome.
const COMMON_ERRORS: Record<string, string> = {
  "401": "Missing or invalid bearer token",
  "500": "Unexpected server error (no internals in the body)",
};
const BODY_ERRORS: Record<string, string> = {
  "400": "Malformed body or parameter",
  "413": "Body larger than the limit",
  "415": "Body is not JSON",
};

interface Operation {
  requestBody?: Schema;
  success: [status: string, description: string];
  errors?: Record<string, string>;
  query?: [name: string, description: string][];
  headers?: [name: string, description: string][];
}

const OPERATIONS: Record<string, Operation> = {
  "GET /health": { success: ["200", "{ ok: true }"] },
  "GET /agents": { success: ["200", "{ agents, workflows, routes }"] },
  "GET /openapi.json": { success: ["200", "This document"] },
  "POST /agents/:name/:id": {
    requestBody: PROMPT_BODY,
    success: [
      "200",
      "{ result: { text, usage, model, operationId } }, or an event stream with Accept: text/event-stream",
    ],
    errors: {
      ...BODY_ERRORS,
      "404": "Unknown agent",
      "409": "session_busy: a prompt already runs in this session, or aborted",
      "422": "Result validation failed",
    },
  },
  "GET /agents/:name/:id": {
    success: ["101", "WebSocket protocol v1"],
    errors: { "404": "Unknown agent", "426": "Not a WebSocket request" },
  },
  "POST /agents/:name/:id/dispatch": {
    requestBody: PROMPT_BODY,
    success: ["202", "{ dispatchId, acceptedAt, created }"],
    errors: { ...BODY_ERRORS, "404": "Unknown agent" },
    headers: [["Idempotency-Key", "Repeating a key returns the first dispatch instead of queueing another"]],
  },
  "POST /agents/:name/:id/abort": {
    requestBody: { type: "object", properties: { session: { type: "string", default: "default" } } },
    success: ["200", "{ aborted, session }"],
    errors: { ...BODY_ERRORS, "404": "Unknown agent" },
  },
  "GET /agents/:name/:id/history": {
    success: ["200", "{ agent, id, session, entries, nextAfter, hasMore }"],
    errors: { "400": "Bad parameter", "404": "Unknown agent" },
    query: [["session", "Session name (default)"], ["after", "Entries after this seq"], ["limit", "At most this many"]],
  },
  "GET /dispatches": {
    success: ["200", "{ dispatches }"],
    errors: { "400": "Bad parameter" },
    query: [
      ["status", "accepted, running, failed, done, dead (comma-separated)"],
      ["agent", "Agent name"],
      [
        "id",
        "Instance id (with agent)",
      ],
      ["session", "Session name (with agent and id)"],
      ["limit", "At most this many (100)"],
    ],
  },
  "GET /dispatches/:dispatchId": { success: ["200", "The dispatch record"], errors: { "404": "Unknown dispatch" } },
  "POST /dispatches/:dispatchId/replay": {
    success: ["200", "The dispatch, accepted again"],
    errors: { "404": "No dead dispatch with that id" },
  },
  "POST /workflows/:name": {
    requestBody: { description: "The payload: any JSON value" },
    success: ["202", "{ runId }; with ?wait=result 200 { result, runId }; or an event stream"],
    errors: { ...BODY_ERRORS, "404": "Unknown workflow", "500": "workflow_failed (with runId) or unexpected error" },
    query: [["wait", "result: answer when the run ends"], ["id", "Instance id (default)"]],
  },
  "GET /workflows/:name": {
    success: ["101", "WebSocket protocol v1"],
    errors: { "404": "Unknown workflow", "426": "Not a WebSocket request" },
  },
  "GET /runs/:id": { success: ["200", "The run record"], errors: { "404": "Unknown run" } },
  "GET /runs/:id/events": {
    success: ["200", "{ runId, events, nextAfter, hasMore }"],
    errors: { "400": "Bad parameter", "404": "Unknown run" },
    query: [["after", "Events after this eventIndex"], ["limit", "1 to 1000 (100)"], [
      "types",
      "Comma-separated event types",
    ]],
  },
  "GET /runs/:id/stream": {
    success: ["200", "text/event-stream: id = eventIndex, event = type; ends after run_end"],
    errors: { "400": "Bad Last-Event-ID", "404": "Unknown run" },
    query: [["after", "Resume after this eventIndex (Last-Event-ID wins)"]],
    headers: [["Last-Event-ID", "Resume after this eventIndex"]],
  },
  "POST /runs/:id/abort": { success: ["200", "{ aborted, runId }"], errors: { "404": "Unknown run" } },
  "POST /webhooks/:name": {
    success: ["202", "Verified and dispatched"],
    errors: { "401": "Bad signature", "404": "Unknown webhook" },
  },
};

/**
 * Builds the OpenAPI document.
 *
 * @param routes The routes to describe.
 * @returns The document.
 */
export function openApiDocument(routes: readonly RouteInfo[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const openApiPath = route.path.replace(/:([A-Za-z]+)/g, "{$1}");
    const operation = OPERATIONS[`${route.method} ${route.path}`] ?? { success: ["200", "OK"] };
    const parameters = [
      ...[...route.path.matchAll(/:([A-Za-z]+)/g)].map((match) => ({
        name: match[1],
        in: "path",
        required: true,
        schema: { type: "string" },
      })),
      ...(operation.query ?? []).map(([name, description]) => ({
        name,
        in: "query",
        description,
        schema: { type: "string" },
      })),
      ...(operation.headers ?? []).map(([name, description]) => ({
        name,
        in: "header",
        description,
        schema: { type: "string" },
      })),
    ];
    const responses: Record<string, unknown> = {
      [operation.success[0]]: { description: operation.success[1] },
    };
    const errors = { ...(route.isPublic ? {} : COMMON_ERRORS), ...operation.errors };
    for (const [status, description] of Object.entries(errors)) {
      responses[status] = { description, content: { "application/json": { schema: ERROR_REF } } };
    }
    paths[openApiPath] ??= {};
    paths[openApiPath][route.method.toLowerCase()] = {
      summary: route.summary,
      ...(parameters.length ? { parameters } : {}),
      ...(operation.requestBody
        ? { requestBody: { required: false, content: { "application/json": { schema: operation.requestBody } } } }
        : {}),
      ...(route.isPublic ? { security: [] } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Flue server", version: denoJson.version },
    paths,
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["type", "message"],
              properties: { type: { type: "string" }, message: { type: "string" }, details: {} },
            },
          },
        },
      },
    },
  };
}
