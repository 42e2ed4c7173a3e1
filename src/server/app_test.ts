import assert from "node:assert/strict";
import { createAgent } from "../agent/create_agent.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { TestModel } from "../model/test_models/test_model.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { startTestServer } from "./testdata/test_server.ts";

const assistant = { model: "test", sandbox: "memory" } as const;

async function errorOf(response: Response): Promise<{ type: string; message: string; details?: unknown }> {
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  const body = await response.json();
  assert.deepEqual(Object.keys(body), ["error"]);
  return body.error;
}

Deno.test("GET /health, GET /agents and GET /openapi.json describe the server", async () => {
  const server = startTestServer({ agents: { assistant }, workflows: { summarize: { run: () => "ok" } } });
  try {
    assert.deepEqual(await (await server.request("/health")).json(), { ok: true });
    const manifest = await (await server.request("/agents")).json();
    assert.deepEqual(manifest.agents.map((agent: { name: string }) => agent.name), ["assistant"]);
    assert.deepEqual(manifest.workflows.map((workflow: { name: string }) => workflow.name), ["summarize"]);
    assert.ok(manifest.routes.some((route: { path: string }) => route.path === "/runs/:id/stream"));
    const openapi = await (await server.request("/openapi.json")).json();
    assert.equal(openapi.openapi, "3.1.0");
    for (const path of ["/agents/{name}/{id}", "/dispatches/{dispatchId}", "/runs/{id}/events", "/workflows/{name}"]) {
      assert.ok(openapi.paths[path], `documents ${path}`);
    }
    assert.ok(openapi.paths["/agents/{name}/{id}"].post.responses["409"]);
    assert.deepEqual(openapi.paths["/health"].get.security, []);
  } finally {
    await server.close();
  }
});

Deno.test("POST /agents/:name/:id answers { result } and stores the session's history", async () => {
  const server = startTestServer({ agents: { assistant } });
  try {
    const response = await server.request("/agents/assistant/user-1", { method: "POST", json: { message: "Hello" } });
    assert.equal(response.status, 200);
    const { result } = await response.json();
    assert.match(result.text, /Test reply to: "Hello"/);
    assert.equal(result.model, "test");
    assert.equal(typeof result.usage.inputTokens, "number");
    const history = await (await server.request("/agents/assistant/user-1/history")).json();
    assert.equal(history.session, "default");
    assert.deepEqual(history.entries.map((entry: { message: { role: string } }) => entry.message.role), [
      "user",
      "assistant",
    ]);
    const other = await (await server.request("/agents/assistant/user-1/history?session=other")).json();
    assert.deepEqual(other.entries, []);
    const paged = await (await server.request("/agents/assistant/user-1/history?after=0&limit=1")).json();
    assert.deepEqual(paged.entries.map((entry: { seq: number }) => entry.seq), [1]);
  } finally {
    await server.close();
  }
});

Deno.test("requests with a bad body get 400, 413 or 415 in the error envelope", async () => {
  const server = startTestServer({ agents: { assistant }, bodyLimit: 1024 });
  try {
    const post = (init: RequestInit & { json?: unknown }) =>
      server.request("/agents/assistant/a", { method: "POST", ...init });
    let response = await post({ body: "{not json", headers: { "content-type": "application/json" } });
    assert.equal(response.status, 400);
    assert.equal((await errorOf(response)).type, "invalid_json");
    response = await post({ json: { message: "" } });
    assert.equal(response.status, 400);
    assert.match((await errorOf(response)).message, /"message" must be a non-empty string/);
    response = await post({ json: ["Hello"] });
    assert.equal((await errorOf(response)).type, "invalid_request");
    response = await post({ json: { message: "Hi", session: "" } });
    assert.match((await errorOf(response)).message, /Invalid session name ""/);
    response = await post({ body: "message=Hello", headers: { "content-type": "application/x-www-form-urlencoded" } });
    assert.equal(response.status, 415);
    assert.equal((await errorOf(response)).type, "unsupported_media_type");
    response = await post({ json: { message: "x".repeat(2000) } });
    assert.equal(response.status, 413);
    assert.deepEqual(await errorOf(response), {
      type: "payload_too_large",
      message: "The request body is larger than the 1024-byte limit: send less, or raise the server's bodyLimit",
      details: { limit: 1024 },
    });
    // Without a Content-Length the body is counted as it arrives.
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode("x".repeat(400)));
        controller.close();
      },
    });
    response = await post({ body: chunks, headers: { "content-type": "application/json" } });
    assert.equal(response.status, 413);
    await response.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("unknown agents, workflows, runs, dispatches and routes get 404; wrong methods get 405", async () => {
  const server = startTestServer({ agents: { assistant } });
  try {
    let response = await server.request("/agents/nobody/a", { method: "POST", json: { message: "Hi" } });
    assert.equal(response.status, 404);
    assert.deepEqual(await errorOf(response), {
      type: "agent_not_found",
      message: 'No agent named "nobody": known agents are assistant',
      details: { kind: "agent", name: "nobody" },
    });
    response = await server.request("/workflows/nothing", { method: "POST" });
    assert.equal((await errorOf(response)).type, "workflow_not_found");
    response = await server.request("/runs/nope");
    assert.equal((await errorOf(response)).type, "run_not_found");
    response = await server.request("/dispatches/nope");
    assert.equal((await errorOf(response)).type, "dispatch_not_found");
    response = await server.request("/nowhere");
    assert.equal(response.status, 404);
    assert.equal((await errorOf(response)).type, "route_not_found");
    response = await server.request("/agents/assistant/a", { method: "DELETE" });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "POST, GET, HEAD");
    assert.equal((await errorOf(response)).type, "method_not_allowed");
    response = await server.request("/runs/x/events", { method: "POST" });
    assert.equal(response.status, 405);
    await response.body?.cancel();
    response = await server.request("/agents/assistant/a");
    assert.equal(response.status, 426);
    assert.equal((await errorOf(response)).type, "websocket_required");
  } finally {
    await server.close();
  }
});

Deno.test("a second prompt to a busy session gets 409 session_busy; other sessions run; /abort cancels", async () => {
  let started!: () => void;
  const isStarted = new Promise<void>((resolve) => (started = resolve));
  const model = new FunctionModel((request) => {
    if (JSON.stringify(request.messages).includes("slow")) {
      started();
      return new Promise((_, reject) => {
        request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true });
      });
    }
    return "quick";
  });
  const server = startTestServer({ agents: { slow: { model, sandbox: "memory" } } });
  try {
    const first = server.request("/agents/slow/a", { method: "POST", json: { message: "slow please" } });
    await isStarted;
    const busy = await server.request("/agents/slow/a", { method: "POST", json: { message: "again" } });
    assert.equal(busy.status, 409);
    const error = await errorOf(busy);
    assert.equal(error.type, "session_busy");
    assert.match(error.message, /POST \/agents\/slow\/a\/abort/);
    const other = await server.request("/agents/slow/a", { method: "POST", json: { message: "hi", session: "s2" } });
    assert.equal((await other.json()).result.text, "quick");
    const aborted = await server.request("/agents/slow/a/abort", { method: "POST", json: {} });
    assert.deepEqual(await aborted.json(), { aborted: true, session: "default" });
    const cancelled = await first;
    assert.equal(cancelled.status, 409);
    assert.equal((await errorOf(cancelled)).type, "aborted");
    const again = await server.request("/agents/slow/a/abort", { method: "POST" });
    assert.deepEqual(await again.json(), { aborted: false, session: "default" });
    const free = await server.request("/agents/slow/a", { method: "POST", json: { message: "now" } });
    assert.equal(free.status, 200);
    await free.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("an unexpected error answers 500 with a generic message and no internals", async () => {
  const secret = "sk-very-secret-value-1234";
  const broken = createAgent(() => {
    throw new Error(`database password ${secret} rejected at /srv/internal/config.ts:12`);
  });
  const server = startTestServer({ agents: { broken }, env: { DB_PASSWORD: secret } });
  const logged: string[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => logged.push(args.join(" "));
  try {
    const response = await server.request("/agents/broken/a", { method: "POST", json: { message: "Hi" } });
    assert.equal(response.status, 500);
    const text = await response.text();
    const requestId = response.headers.get("x-request-id");
    assert.ok(requestId);
    assert.deepEqual(JSON.parse(text), {
      error: {
        type: "internal_error",
        message: "The server failed to handle the request; its log has the details",
        requestId,
      },
    });
    assert.ok(logged.some((line) => line.includes(`[request ${requestId}]`)), "logged with the request id");
    for (const leak of [secret, "/srv/internal", "password", "at "]) assert.ok(!text.includes(leak), leak);
    assert.ok(logged.some((line) => line.includes("[REDACTED:DB_PASSWORD]")), "logged, redacted");
    assert.ok(logged.every((line) => !line.includes(secret)));
  } finally {
    console.error = originalError;
    await server.close();
  }
});

Deno.test("a model still calling tools at maxTurns answers 422", async () => {
  const model = new TestModel({ script: [{ toolCalls: [{ name: "read", args: { path: "a.md" } }] }] });
  const server = startTestServer({ agents: { looping: { model, sandbox: "memory", maxTurns: 1 } } });
  try {
    const response = await server.request("/agents/looping/a", { method: "POST", json: { message: "Hi" } });
    assert.equal(response.status, 422);
    assert.equal((await errorOf(response)).type, "max_turns_exceeded");
  } finally {
    await server.close();
  }
});

Deno.test("GET /ready answers 200 while the store answers and 503 without details when it does not", async () => {
  const store = new MemoryStore();
  const server = startTestServer({ store, token: "a-token-of-sixteen+" });
  const originalError = console.error;
  const logged: string[] = [];
  console.error = (...args: unknown[]) => void logged.push(args.join(" "));
  try {
    const ready = await server.request("/ready");
    assert.equal(ready.status, 200, "needs no token");
    assert.deepEqual(await ready.json(), { ok: true });
    await store.close();
    const down = await server.request("/ready");
    assert.equal(down.status, 503);
    const { error } = await down.json();
    assert.equal(error.type, "store_unavailable");
    assert.doesNotMatch(error.message, /closed|memory/i);
    assert.ok(logged.some((line) => line.includes("GET /ready")), "the cause is in the server's log");
  } finally {
    console.error = originalError;
    await server.close();
  }
});
