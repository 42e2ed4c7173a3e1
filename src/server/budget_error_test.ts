import assert from "node:assert/strict";
import { startTestServer } from "./testdata/test_server.ts";

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
