import assert from "node:assert/strict";
import { MemoryStore } from "../store/memory_store.ts";
import { createApp } from "./app.ts";
import { assertSafeToListen, isLoopbackHostname } from "./auth.ts";
import { startTestServer } from "./testdata/test_server.ts";

const token = "test-token-0123456789abcdef";
const agents = { assistant: { model: "test", sandbox: "memory" } } as const;

Deno.test("with a token, every route but /health needs it, also on loopback", async () => {
  const server = startTestServer({ agents, token });
  try {
    assert.equal((await server.request("/health")).status, 200);
    for (const path of ["/agents", "/openapi.json", "/runs/x", "/dispatches/x", "/agents/assistant/a/history"]) {
      const response = await server.request(path);
      assert.equal(response.status, 401, path);
      assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="flue"');
      assert.equal((await response.json()).error.type, "unauthorized");
    }
    const wrong = await server.request("/agents", { headers: { authorization: "Bearer wrong-token-0123456789abc" } });
    assert.equal(wrong.status, 401);
    assert.match((await wrong.json()).error.message, /not valid/);
    const basic = await server.request("/agents", { headers: { authorization: `Basic ${btoa(`user:${token}`)}` } });
    assert.equal(basic.status, 401);
    await basic.body?.cancel();
    const ok = await server.request("/agents", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const prompt = await server.request("/agents/assistant/a", {
      method: "POST",
      headers: { authorization: `bearer ${token}` },
      json: { message: "Hi" },
    });
    assert.equal(prompt.status, 200);
    await prompt.body?.cancel();
    // Authentication comes before routing, so unknown paths do not reveal what exists.
    assert.equal((await server.request("/secret-route")).status, 401);
  } finally {
    await server.close();
  }
});

Deno.test("without a token, requests from beyond loopback are refused and loopback ones served", async () => {
  const app = createApp({ agents, store: new MemoryStore() });
  try {
    const remote = { remoteAddr: { transport: "tcp", hostname: "203.0.113.7", port: 5000 } } as Deno.ServeHandlerInfo;
    const local = { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 5000 } } as Deno.ServeHandlerInfo;
    const refused = await app.fetch(new Request("http://server/agents"), remote);
    assert.equal(refused.status, 401);
    assert.match((await refused.json()).error.message, /only answers requests from this machine: set FLUE_API_TOKEN/);
    assert.equal((await app.fetch(new Request("http://server/health"), remote)).status, 200);
    const served = await app.fetch(new Request("http://server/agents"), local);
    assert.equal(served.status, 200);
    await served.body?.cancel();
  } finally {
    await app.close();
  }
});

Deno.test("a server on all interfaces without a token refuses a client on a non-loopback address", async () => {
  const address = Deno.networkInterfaces().find((entry) =>
    entry.family === "IPv4" && !isLoopbackHostname(entry.address)
  );
  if (!address) return; // no non-loopback interface on this machine
  const app = createApp({ agents, store: new MemoryStore() });
  const server = Deno.serve({ hostname: "0.0.0.0", port: 0, onListen() {} }, app.fetch);
  try {
    const response = await fetch(`http://${address.address}:${server.addr.port}/agents`);
    assert.equal(response.status, 401);
    await response.body?.cancel();
    const local = await fetch(`http://127.0.0.1:${server.addr.port}/agents`);
    assert.equal(local.status, 200);
    await local.body?.cancel();
  } finally {
    await app.close();
    await server.shutdown();
  }
});

Deno.test("isLoopbackHostname() and assertSafeToListen() tell loopback from the rest", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"]) {
    assert.ok(isLoopbackHostname(host), host);
    assertSafeToListen(host, undefined);
  }
  for (const host of ["0.0.0.0", "::", "192.168.1.2", "example.com", "127.0.0.1.nip.io"]) {
    assert.ok(!isLoopbackHostname(host), host);
    assert.throws(() => assertSafeToListen(host, undefined), /Refusing to listen on ".+" without an API token/);
    assertSafeToListen(host, token);
  }
});

Deno.test("createApp() refuses a weak token", () => {
  assert.throws(() => createApp({ store: new MemoryStore(), token: "short" }), /at least 16 characters/);
  assert.throws(() => createApp({ store: new MemoryStore(), token: "has a space in it, sadly" }), /without spaces/);
});
