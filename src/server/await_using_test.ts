import assert from "node:assert/strict";
import { init } from "../agent/init.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { createApp } from "./app.ts";
import { serve } from "./serve.ts";

Deno.test("await using closes an agent, an app and a server at the end of the block", async () => {
  let agentClosed = false;
  {
    await using agent = await init({ model: "test", sandbox: "memory", store: "memory" });
    const close = agent.close;
    agent.close = async () => {
      agentClosed = true;
      await close();
    };
    const session = await agent.session();
    assert.match((await session.prompt("Hello")).text, /Hello/);
  }
  assert.ok(agentClosed);

  const store = new MemoryStore();
  let url = "";
  let appClosed = false;
  {
    await using app = createApp({ store, agents: { assistant: { model: "test", sandbox: "memory" } } });
    const close = app.close;
    app.close = async (options) => {
      appClosed = true;
      await close(options);
    };
    await using server = await serve({ app, port: 0, handleSignals: false });
    url = server.url;
    const response = await fetch(`${url}/health`);
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  assert.ok(appClosed);
  await assert.rejects(fetch(`${url}/health`));
  await store.close();
});
