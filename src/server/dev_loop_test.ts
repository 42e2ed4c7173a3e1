import assert from "node:assert/strict";
import { z } from "zod";
import type { FlueContext } from "../agent/workflow.ts";
import { Hono } from "hono";
import { MemoryStore } from "../store/memory_store.ts";
import { createApp } from "./app.ts";
import { startTestServer } from "./testdata/test_server.ts";

const assistant = { model: "test", sandbox: "memory" } as const;

/** Captures console.error while `body` runs. */
async function capturingErrors<T>(body: () => Promise<T>): Promise<{ value: T; logged: string }> {
  const original = console.error;
  const lines: string[] = [];
  console.error = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  try {
    return { value: await body(), logged: lines.join("\n") };
  } finally {
    console.error = original;
  }
}

Deno.test("GET /runs lists runs newest first, filters by workflow and status, and pages with a cursor", async () => {
  const workflows = {
    greet: { run: (ctx: FlueContext) => ({ hello: ctx.payload }) },
    fail: {
      run: () => {
        throw new Error("database unreachable");
      },
    },
  };
  const server = startTestServer({ workflows });
  try {
    const ids: string[] = [];
    for (const name of ["greet", "greet", "fail", "greet"]) {
      const response = await server.request(`/workflows/${name}?wait=result`, { method: "POST", json: name });
      await response.body?.cancel();
      ids.push(response.headers.get("x-flue-run-id")!);
    }
    const all = await (await server.request("/runs")).json();
    assert.equal(all.runs.length, 4);
    assert.deepEqual(new Set(all.runs.map((run: { runId: string }) => run.runId)), new Set(ids));
    assert.equal(all.nextCursor, undefined);
    const failed = await (await server.request("/runs?status=failed")).json();
    assert.deepEqual(failed.runs.map((run: { runId: string }) => run.runId), [ids[2]]);
    assert.equal(failed.runs[0].error.message, "database unreachable");
    const greet = await (await server.request("/runs?workflow=greet&status=done,failed")).json();
    assert.equal(greet.runs.length, 3);

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const body = await (await server.request(`/runs?limit=1${cursor ? `&cursor=${cursor}` : ""}`)).json();
      seen.push(...body.runs.map((run: { runId: string }) => run.runId));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(seen, all.runs.map((run: { runId: string }) => run.runId));

    const bad = await server.request("/runs?status=sleeping");
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error.message, /Unknown status "sleeping"/);
    const badCursor = await server.request("/runs?cursor=nope");
    assert.equal(badCursor.status, 400);
    await badCursor.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("GET /agents/:name/:id/sessions lists an instance's stored sessions", async () => {
  const server = startTestServer({ agents: { assistant } });
  try {
    for (const session of ["default", "triage"]) {
      const response = await server.request("/agents/assistant/u1", {
        method: "POST",
        json: { message: "Hello", session },
      });
      await response.body?.cancel();
    }
    const body = await (await server.request("/agents/assistant/u1/sessions")).json();
    assert.deepEqual(body, { agent: "assistant", id: "u1", sessions: ["default", "triage"] });
    assert.deepEqual((await (await server.request("/agents/assistant/other/sessions")).json()).sessions, []);
    assert.equal((await server.request("/agents/missing/u1/sessions")).status, 404);
  } finally {
    await server.close();
  }
});

Deno.test("a 5xx is logged with its stack and request id, and the response carries the request id", async () => {
  const workflows = {
    explode: {
      run: () => {
        throw new Error("database unreachable", { cause: new Error("connection refused") });
      },
    },
  };
  const server = startTestServer({ workflows });
  try {
    const { value: response, logged } = await capturingErrors(() =>
      server.request("/workflows/explode?wait=result", { method: "POST", headers: { "x-request-id": "req-42" } })
    );
    assert.equal(response.status, 500);
    assert.equal(response.headers.get("x-request-id"), "req-42");
    const body = await response.json();
    assert.equal(body.error.type, "workflow_failed");
    assert.equal(body.error.requestId, "req-42");
    assert.match(logged, /500 workflow_failed in POST \/workflows\/explode \[request req-42\]/);
    assert.match(logged, /Error: database unreachable\n\s+at /);
    assert.match(logged, /caused by: Error: connection refused/);
    assert.match(logged, /dev_loop_test\.ts:\d+/);

    const ok = await server.request("/health");
    assert.match(ok.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    await ok.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("the cors option answers preflights before authentication and adds headers to answers", async () => {
  const server = startTestServer({
    agents: { assistant },
    token: "a-token-of-sixteen-chars",
    cors: { origins: ["https://app.example.com"], credentials: true },
  });
  try {
    const preflight = await server.request("/agents/assistant/u1", {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.example.com");
    assert.equal(preflight.headers.get("access-control-allow-credentials"), "true");
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /Authorization/i);
    await preflight.body?.cancel();

    const answer = await server.request("/agents", {
      headers: { origin: "https://app.example.com", authorization: "Bearer a-token-of-sixteen-chars" },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("access-control-allow-origin"), "https://app.example.com");
    assert.match(answer.headers.get("access-control-expose-headers") ?? "", /X-Request-Id/i);
    await answer.body?.cancel();

    const elsewhere = await server.request("/agents", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    assert.equal(elsewhere.headers.get("access-control-allow-origin"), null);
    await elsewhere.body?.cancel();
  } finally {
    await server.close();
  }
  assert.throws(() => startTestServer({ cors: { origins: ["app.example.com"] } }), /scheme:\/\/host/);
  assert.throws(() => startTestServer({ cors: { origins: "*", credentials: true } }), /cannot be combined/);
});

Deno.test("any Hono middleware runs before the Flue routes when the app is wrapped, as docs/server.md shows", async () => {
  const flue = createApp({ store: new MemoryStore(), token: "a-token-of-sixteen-chars" });
  const app = new Hono();
  app.use("*", async (c, next) => {
    await next();
    c.header("x-frame-options", "DENY");
  });
  app.all("*", (c) => flue.fetch(c.req.raw, c.env as Deno.ServeHandlerInfo));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  try {
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/agents`);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("x-frame-options"), "DENY");
    await response.body?.cancel();
  } finally {
    await flue.close();
    await server.shutdown();
  }
});

Deno.test("/openapi.json carries each workflow's payload and result schemas", async () => {
  const summarize = {
    payload: z.object({ text: z.string().min(1), maxWords: z.int().default(50) }),
    result: z.object({ summary: z.string() }),
    run: () => ({ summary: "short" }),
  };
  const server = startTestServer({ workflows: { summarize, plain: { run: () => 1 } } });
  try {
    const document = await (await server.request("/openapi.json")).json();
    const payload = document.components.schemas.SummarizePayload;
    assert.deepEqual(payload.required, ["text"]);
    assert.equal(payload.properties.text.minLength, 1);
    assert.deepEqual(document.components.schemas.SummarizeResult.required, ["summary"]);
    const operation = document.paths["/workflows/summarize"].post;
    assert.deepEqual(operation.requestBody.content["application/json"].schema, {
      $ref: "#/components/schemas/SummarizePayload",
    });
    assert.deepEqual(
      operation.responses["200"].content["application/json"].schema.properties.result,
      { $ref: "#/components/schemas/SummarizeResult" },
    );
    assert.ok(operation.responses["422"]);
    assert.ok(document.paths["/workflows/plain"].post.requestBody.content["application/json"].schema.description);
    assert.ok(document.paths["/runs"].get, "documents GET /runs");
  } finally {
    await server.close();
  }
});

Deno.test("a client that sends fewer bytes than its Content-Length is not logged as an unexpected error", async () => {
  const server = startTestServer({ agents: { assistant } });
  try {
    const { logged } = await capturingErrors(async () => {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      const head = "POST /agents/assistant/u1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        "Content-Length: 100\r\n\r\n";
      await connection.write(new TextEncoder().encode(`${head}{"message":`));
      await connection.closeWrite();
      // Read until the server answers or closes: either way it has handled the short body.
      const buffer = new Uint8Array(4096);
      while ((await connection.read(buffer)) !== null) {
        // drain
      }
      connection.close();
      const after = await server.request("/health");
      await after.body?.cancel();
    });
    assert.doesNotMatch(logged, /unexpected error|internal_error/);
  } finally {
    await server.close();
  }
});
