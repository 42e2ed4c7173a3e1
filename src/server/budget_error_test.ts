import assert from "node:assert/strict";
import { startTestServer } from "./testdata/test_server.ts";
import { FlueClient } from "../client/flue_client.ts";
import { FlueClientError } from "../client/client_error.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { createApp } from "./app.ts";

Deno.test("an agent whose budget is passed answers 422 budget_exceeded with the budget, limit and spending", async () => {
  const server = startTestServer({
    agents: { frugal: { model: "test", sandbox: "memory", maxTokens: 1 }, roomy: { model: "test", sandbox: "memory" } },
  });
  try {
    const response = await server.request("/agents/frugal/a", { method: "POST", json: { message: "Hi" } });
    assert.equal(response.status, 422);
    const { error } = await response.json();
    assert.equal(error.type, "budget_exceeded");
    assert.match(error.message, /"maxTokens" budget/);
    assert.equal(error.details.budget, "maxTokens");
    assert.equal(error.details.limit, 1);
    assert.ok(error.details.spent > 1);
    const ok = await server.request("/agents/roomy/a", { method: "POST", json: { message: "Hi" } });
    assert.equal(ok.status, 200);
    const { result } = await ok.json();
    assert.equal(typeof result.usage.totalTokens, "number");
  } finally {
    await server.close();
  }
});

Deno.test("FlueClient rejects a prompt that passed its budget with type budget_exceeded and the details", async () => {
  const app = createApp({
    store: new MemoryStore(),
    agents: { frugal: { model: "test", sandbox: "memory", maxTokens: 1 } },
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  try {
    const client = new FlueClient({ baseUrl: `http://127.0.0.1:${server.addr.port}` });
    const error = await client.prompt("frugal", "a", "Hi").then(() => assert.fail("expected an error"), (e) => e);
    assert.ok(error instanceof FlueClientError, String(error));
    assert.equal(error.status, 422);
    assert.equal(error.type, "budget_exceeded");
    assert.deepEqual(Object.keys(error.details as object), ["budget", "limit", "spent"]);
  } finally {
    await app.close({ graceMs: 1000 });
    await server.shutdown();
  }
});
