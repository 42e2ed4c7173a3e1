import assert from "node:assert/strict";
import { z } from "zod";
import { AbortError, PayloadValidationError } from "../errors.ts";
import type { FlueEvent } from "../events/event_types.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { createAgent } from "./create_agent.ts";
import { type FlueContext, runWorkflow, type WorkflowModule } from "./workflow.ts";

const defaults = { model: "test", sandbox: "memory" } as const;

Deno.test("runWorkflow() records the run and every event of its agents, in order", async () => {
  const store = new MemoryStore();
  const helper = createAgent((ctx) => ({ instructions: `Instance ${ctx.id}` }));
  const module = {
    async run(ctx: FlueContext<unknown>) {
      ctx.log.info("starting", { step: 1 });
      const agent = await ctx.init(helper);
      const session = await agent.session();
      const response = await session.prompt("Summarise", { result: z.object({ summary: z.string() }) });
      return { summary: response.data.summary, payload: ctx.payload };
    },
  };
  const seen: FlueEvent[] = [];
  const { runId, result } = await runWorkflow(module, {
    name: "summarize",
    payload: { text: "hi" },
    store,
    defaults,
    onEvent: (event) => seen.push(event),
  });
  assert.match(runId, /^workflow:summarize:run_/);
  assert.deepEqual((result as { payload: unknown }).payload, { text: "hi" });
  const run = await store.getRun(runId);
  assert.equal(run?.status, "done");
  const events = await store.listRunEvents(runId);
  assert.deepEqual(events.map((event) => event.eventIndex), events.map((_, index) => index));
  const types = events.map((event) => event.type);
  assert.equal(types[0], "run_start");
  assert.equal(types.at(-1), "run_end");
  for (const type of ["log", "operation_start", "turn_start", "text_delta", "turn", "operation"]) {
    assert.ok(types.includes(type as FlueEvent["type"]), `run log has ${type}`);
  }
  assert.ok(events.every((event) => event.runId === runId));
  assert.deepEqual(seen.map((event) => event.eventIndex), events.map((event) => event.eventIndex));
  const logs = await store.listRunEvents(runId, { types: ["log"] });
  assert.equal(logs.length, 1);
});

Deno.test("runWorkflow() records a failed run and rethrows the workflow's error", async () => {
  const store = new MemoryStore();
  let runId = "";
  await assert.rejects(
    runWorkflow({ run: () => Promise.reject(new TypeError("payload.text is required")) }, {
      name: "w",
      store,
      onEvent: (event) => (runId = event.runId ?? runId),
    }),
    /payload.text is required/,
  );
  const run = await store.getRun(runId);
  assert.equal(run?.status, "failed");
  assert.deepEqual(run?.error, { name: "TypeError", message: "payload.text is required" });
  const last = (await store.listRunEvents(runId)).at(-1);
  assert.equal(last?.type, "run_end");
});

Deno.test("runWorkflow() rejects a module without run(ctx)", async () => {
  // deno-lint-ignore no-explicit-any
  await assert.rejects(runWorkflow({} as any, { name: "w", store: new MemoryStore() }), /must export a function run/);
});

Deno.test("aborting a run cancels its agents' model calls", async () => {
  const store = new MemoryStore();
  const model = new FunctionModel((request) =>
    new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason)))
  );
  const slow = createAgent(() => ({ model }));
  const controller = new AbortController();
  const running = runWorkflow({
    async run(ctx: FlueContext<unknown>) {
      const session = await (await ctx.init(slow)).session();
      return await session.prompt("wait", { signal: ctx.signal });
    },
  }, { name: "slow", store, defaults, signal: controller.signal });
  await new Promise((resolve) => setTimeout(resolve, 20));
  controller.abort("stop");
  await assert.rejects(running, AbortError);
});

Deno.test("createAgent() options override configuration defaults, and overrides win over both", async () => {
  const store = new MemoryStore();
  const seen: string[] = [];
  const agent = createAgent(() => ({ model: "test", instructions: "declared" }));
  await runWorkflow({
    async run(ctx: FlueContext<unknown>) {
      const instance = await ctx.init(agent);
      seen.push(instance.model.id);
      return null;
    },
  }, {
    name: "w",
    store,
    defaults: { model: "openai:gpt-5.5", sandbox: "memory" },
    overrides: { model: new FunctionModel(() => "x", { id: "override" }) },
  });
  assert.deepEqual(seen, ["override"]);
});

Deno.test("runWorkflow() redacts ctx.env values from the run's events, logs included", async () => {
  const store = new MemoryStore();
  const secret = "wf-secret-7c1d9e";
  const module = {
    run(ctx: FlueContext<unknown>) {
      ctx.log.info(`token is ${ctx.env.DEPLOY_TOKEN}`);
      return { echoed: ctx.env.DEPLOY_TOKEN };
    },
  };
  const { runId } = await runWorkflow(module, { name: "leaky", store, env: { DEPLOY_TOKEN: secret }, defaults });
  const stored = JSON.stringify(await store.listRunEvents(runId));
  assert.ok(!stored.includes(secret), "the secret reached the run log");
  assert.match(stored, /REDACTED/);
  assert.ok(!JSON.stringify(await store.getRun(runId)).includes(secret), "the secret reached the run record");
});

Deno.test("runWorkflow() checks the payload against the schema a workflow exports before recording a run", async () => {
  const store = new MemoryStore();
  let ran = 0;
  const module = {
    payload: z.object({ title: z.string().min(1), count: z.coerce.number().default(1) }),
    run(ctx: FlueContext<{ title: string; count: number }>) {
      ran++;
      return { title: ctx.payload.title, count: ctx.payload.count };
    },
  };
  const seen: FlueEvent[] = [];
  const bad = await runWorkflow(module as WorkflowModule, {
    name: "typed",
    store,
    payload: { title: "" },
    onEvent: (event) => seen.push(event),
  }).catch((error) => error);
  assert.ok(bad instanceof PayloadValidationError);
  assert.equal(bad.workflow, "typed");
  assert.deepEqual(bad.issues.map((issue: { path: unknown[] }) => issue.path), [["title"]]);
  assert.match(bad.message, /Invalid payload for workflow "typed": title: /);
  assert.equal(ran, 0);
  assert.deepEqual(seen, [], "no run was started");
  const { result } = await runWorkflow(module as WorkflowModule, { name: "typed", store, payload: { title: "x" } });
  assert.deepEqual(result, { title: "x", count: 1 });
});
