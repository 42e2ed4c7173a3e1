import assert from "node:assert/strict";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { startTestServer, type TestServer } from "./testdata/test_server.ts";

async function waitForStatus(server: TestServer, dispatchId: string, status: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 500; i++) {
    const record = await (await server.request(`/dispatches/${dispatchId}`)).json();
    if (record.status === status) return record;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`dispatch ${dispatchId} never became ${status}`);
}

Deno.test("POST /agents/:name/:id/dispatch answers 202; the app's worker runs it; GET /dispatches/:id shows it", async () => {
  const server = startTestServer({ agents: { assistant: { model: "test", sandbox: "memory" } }, worker: true });
  try {
    const response = await server.request("/agents/assistant/u1/dispatch", {
      method: "POST",
      json: { message: "Queued hello", session: "inbox" },
    });
    assert.equal(response.status, 202);
    const receipt = await response.json();
    assert.match(receipt.dispatchId, /^dispatch_/);
    assert.equal(receipt.created, true);
    assert.ok(!Number.isNaN(Date.parse(receipt.acceptedAt)));
    assert.equal(response.headers.get("location"), `/dispatches/${receipt.dispatchId}`);
    const record = await waitForStatus(server, receipt.dispatchId, "done");
    assert.deepEqual([record.agent, record.id, record.session], ["assistant", "u1", "inbox"]);
    assert.equal((record.attempts as unknown[]).length, 1);
    assert.ok(!("leaseOwner" in record));
    const history = await (await server.request("/agents/assistant/u1/history?session=inbox")).json();
    assert.equal(history.entries[0].message.content, "Queued hello");
  } finally {
    await server.close();
  }
});

Deno.test("Idempotency-Key: a repeat returns the first dispatch; a different input with it gets 422", async () => {
  const server = startTestServer({ agents: { assistant: { model: "test", sandbox: "memory" } } });
  try {
    const send = (message: string, key = "order-42") =>
      server.request("/agents/assistant/u1/dispatch", {
        method: "POST",
        headers: { "idempotency-key": key },
        json: { message },
      });
    const first = await (await send("Ship it")).json();
    const repeat = await send("Ship it");
    assert.equal(repeat.status, 202);
    const again = await repeat.json();
    assert.equal(again.dispatchId, first.dispatchId);
    assert.equal(again.created, false);
    const conflict = await send("Something else");
    assert.equal(conflict.status, 422);
    assert.equal((await conflict.json()).error.type, "idempotency_key_reused");
    const bad = await send("x", "has spaces in it");
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    const unknown = await server.request("/agents/nobody/u1/dispatch", { method: "POST", json: { message: "x" } });
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
    const listed = await (await server.request("/dispatches?status=accepted")).json();
    assert.deepEqual(listed.dispatches.map((record: { dispatchId: string }) => record.dispatchId), [first.dispatchId]);
  } finally {
    await server.close();
  }
});

Deno.test("a dispatch that fails for good is dead, listed by ?status=dead, and replayed by POST .../replay", async () => {
  let isBroken = true;
  const model = new FunctionModel(() => {
    if (isBroken) throw new TypeError("the tool configuration is wrong");
    return "fixed";
  });
  const server = startTestServer({ agents: { fragile: { model, sandbox: "memory" } }, worker: true });
  try {
    const { dispatchId } = await (await server.request("/agents/fragile/u1/dispatch", {
      method: "POST",
      json: { message: "try" },
    })).json();
    const dead = await waitForStatus(server, dispatchId, "dead");
    assert.equal((dead.error as { name: string }).name, "TypeError");
    const listed = await (await server.request("/dispatches?status=dead")).json();
    assert.deepEqual(listed.dispatches.map((record: { dispatchId: string }) => record.dispatchId), [dispatchId]);
    const byKey = await (await server.request("/dispatches?agent=fragile&id=u1&session=default")).json();
    assert.equal(byKey.dispatches.length, 1);
    const invalid = await server.request("/dispatches?status=zombie");
    assert.equal(invalid.status, 400);
    await invalid.body?.cancel();

    isBroken = false;
    const replayed = await server.request(`/dispatches/${dispatchId}/replay`, { method: "POST" });
    assert.equal(replayed.status, 200);
    assert.equal((await replayed.json()).status, "accepted");
    const done = await waitForStatus(server, dispatchId, "done");
    assert.equal((done.attempts as unknown[]).length, 2);
    const notDead = await server.request(`/dispatches/${dispatchId}/replay`, { method: "POST" });
    assert.equal(notDead.status, 409);
    assert.equal((await notDead.json()).error.type, "dispatch_not_dead");
    const missing = await server.request("/dispatches/nope/replay", { method: "POST" });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await server.close();
  }
});
