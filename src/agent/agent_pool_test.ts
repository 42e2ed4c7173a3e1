import assert from "node:assert/strict";
import { NotFoundError } from "../errors.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { AgentPool } from "./agent_pool.ts";
import { createAgent } from "./create_agent.ts";

const options = { model: "test", sandbox: "memory" } as const;

Deno.test("AgentPool.getAgent() initialises an instance once for concurrent first calls", async () => {
  let initialisations = 0;
  const pool = new AgentPool({
    agents: {
      assistant: createAgent(async (ctx) => {
        initialisations++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { ...options, instructions: `for ${ctx.id}` };
      }),
    },
    store: new MemoryStore(),
  });
  const agents = await Promise.all([1, 2, 3].map(() => pool.getAgent("assistant", "a")));
  assert.equal(initialisations, 1);
  assert.ok(agents.every((agent) => agent === agents[0]));
  assert.equal(agents[0].name, "assistant");
  assert.equal(agents[0].id, "a");
  assert.notEqual(await pool.getAgent("assistant", "b"), agents[0]);
  await pool.close();
});

Deno.test("AgentPool.getAgent() rejects an unknown agent naming the known ones, and an invalid id", async () => {
  const pool = new AgentPool({ agents: { assistant: options, helper: options }, store: new MemoryStore() });
  await assert.rejects(pool.getAgent("nope", "a"), (error) => {
    assert.ok(error instanceof NotFoundError);
    assert.match(error.message, /No agent named "nope": known agents are assistant, helper/);
    return true;
  });
  await assert.rejects(pool.getAgent("assistant", ""), /Invalid instance id "": use 1 to 256 characters/);
  assert.deepEqual(pool.agentNames(), ["assistant", "helper"]);
  await pool.close();
});

Deno.test("AgentPool shares its store: history written through one instance is read by a later one", async () => {
  const store = new MemoryStore();
  const pool = new AgentPool({ agents: { assistant: options }, store, maxInstances: 1 });
  const first = await pool.getAgent("assistant", "a");
  await (await first.session("s")).prompt("Hello");
  await pool.getAgent("assistant", "b"); // evicts "a", which is idle
  const again = await pool.getAgent("assistant", "a");
  assert.notEqual(again, first);
  const history = await (await again.session("s")).history();
  assert.equal(history[0].message.content, "Hello");
  await pool.close();
});

Deno.test("AgentPool keeps a busy instance over its bound and closes idle ones least recently used first", async () => {
  let release!: () => void;
  const blocked = new Promise<void>((resolve) => (release = resolve));
  const model = new FunctionModel(async () => {
    await blocked;
    return "done";
  });
  const pool = new AgentPool({
    agents: { slow: { model, sandbox: "memory" } },
    store: new MemoryStore(),
    maxInstances: 1,
  });
  const busy = await pool.getAgent("slow", "busy");
  const call = (await busy.session()).prompt("wait");
  await new Promise((resolve) => setTimeout(resolve, 5));
  await pool.getAgent("slow", "other");
  assert.equal(pool.size, 2, "the busy instance is not evicted");
  assert.equal(await pool.getAgent("slow", "busy"), busy);
  release();
  assert.equal((await call).text, "done");
  await pool.getAgent("slow", "third");
  assert.ok(pool.size <= 2);
  await pool.close();
});

Deno.test("AgentPool closes an instance after it has been idle for idleMs", async () => {
  const pool = new AgentPool({ agents: { assistant: options }, store: new MemoryStore(), idleMs: 20 });
  const first = await pool.getAgent("assistant", "a");
  for (let i = 0; i < 100 && pool.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(pool.size, 0);
  assert.notEqual(await pool.getAgent("assistant", "a"), first);
  await pool.close();
});

Deno.test("AgentPool retries an initialisation that failed, and refuses use after close()", async () => {
  let attempts = 0;
  const pool = new AgentPool({
    agents: {
      flaky: createAgent(() => {
        if (++attempts === 1) throw new Error("not yet");
        return options;
      }),
    },
    store: new MemoryStore(),
  });
  await assert.rejects(pool.getAgent("flaky", "a"), /not yet/);
  assert.equal((await pool.getAgent("flaky", "a")).id, "a");
  await pool.close();
  await assert.rejects(pool.getAgent("flaky", "a"), /closed/);
});
