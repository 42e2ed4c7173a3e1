/**
 * The OpenAPI 3.1 document served at `/openapi.json`, built from the route table.
 *
 * @module
 */

import { z } from "zod";
import denoJson from "../../deno.json" with { type: "json" };
import type { WorkflowModule } from "../agent/workflow.ts";
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
  "GET /agents/:name/:id/sessions": {
    success: ["200", "{ agent, id, sessions: [name] }"],
    errors: { "400": "Bad parameter", "404": "Unknown agent" },
  },
  "GET /runs": {
    success: ["200", "{ runs, nextCursor? }: runs newest first; pass nextCursor as ?cursor= for the next page"],
    errors: { "400": "Bad parameter" },
    query: [
      ["workflow", "Only runs of this workflow"],
      ["status", "running, done, failed, aborted (comma-separated)"],
      ["limit", "1 to 1000 (50)"],
      ["cursor", "The nextCursor of the previous page"],
    ],
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
 * @param workflows The served workflows: each gets its own `/workflows/<name>` path with its payload and result
 * schemas (from the module's `payload` and `result` exports), under `components.schemas`.
 * @returns The document.
 */
export function openApiDocument(
  routes: readonly RouteInfo[],
  workflows: ReadonlyMap<string, WorkflowModule> = new Map(),
): Record<string, unknown> {
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
  const workflowSchemas: Record<string, Schema> = {};
  const generic = paths["/workflows/{name}"]?.post as Schema | undefined;
  for (const [name, module] of [...workflows].sort(([left], [right]) => left < right ? -1 : 1)) {
    const schemas = workflowPath(name, module, generic);
    Object.assign(workflowSchemas, schemas.components);
    paths[`/workflows/${name}`] = { post: schemas.operation };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Flue server", version: denoJson.version },
    paths,
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        ...workflowSchemas,
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

// A workflow's own path: the generic operation with its payload as the request body and its result in the 200 answer.
function workflowPath(
  name: string,
  module: WorkflowModule,
  generic: Schema | undefined,
): { operation: Schema; components: Record<string, Schema> } {
  const components: Record<string, Schema> = {};
  const base = componentName(name);
  const payload = jsonSchemaOf(module.payload, "input");
  const result = jsonSchemaOf(module.result, "output");
  if (payload) components[`${base}Payload`] = payload;
  if (result) components[`${base}Result`] = result;
  const resultRef = result ? { $ref: `#/components/schemas/${base}Result` } : {};
  const responses = { ...(generic?.responses as Record<string, unknown> | undefined) };
  responses["200"] = {
    description: "With ?wait=result: the run's result and id",
    content: {
      "application/json": {
        schema: { type: "object", required: ["result", "runId"], properties: { result: resultRef, runId: STRING } },
      },
    },
  };
  responses["202"] = {
    description: "The run started: its id (also in X-Flue-Run-Id)",
    content: { "application/json": { schema: { type: "object", required: ["runId"], properties: { runId: STRING } } } },
  };
  if (payload) responses["422"] = { description: "invalid_payload: the payload does not match its schema" };
  const operation: Schema = {
    ...generic,
    operationId: `runWorkflow_${base}`,
    summary: `Run the ${name} workflow`,
    parameters: (generic?.parameters as Schema[] | undefined)?.filter((parameter) => parameter.in !== "path"),
    requestBody: {
      required: payload !== undefined,
      content: {
        "application/json": {
          schema: payload ? { $ref: `#/components/schemas/${base}Payload` } : { description: "Any JSON value" },
        },
      },
    },
    responses,
  };
  return { operation, components };
}

const STRING = { type: "string" };

function jsonSchemaOf(schema: unknown, io: "input" | "output"): Schema | undefined {
  if (typeof schema !== "object" || schema === null || !("_zod" in schema)) return undefined;
  try {
    const json = z.toJSONSchema(schema as z.ZodType, { io, unrepresentable: "any" }) as Schema;
    delete json.$schema; // OpenAPI 3.1 documents are JSON Schema 2020-12 already
    return json;
  } catch {
    return { description: "A schema with no JSON form" };
  }
}

function componentName(name: string): string {
  return name.split(/[^A-Za-z0-9]+/).filter(Boolean).map((part) => part[0].toUpperCase() + part.slice(1)).join("") ||
    "Workflow";
}
