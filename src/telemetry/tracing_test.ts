import assert from "node:assert/strict";
import { context, SpanStatusCode, trace } from "@opentelemetry/api";
import denoJson from "../../deno.json" with { type: "json" };
import { createAgent, type FlueContext, init, MemoryStore, runWorkflow } from "../../mod.ts";
import { FunctionModel } from "../../testing.ts";
import { EventBus } from "../events/event_bus.ts";
import type { EventContext } from "../events/event_bus.ts";
import type { EventPayload } from "../events/event_types.ts";
import { startTracing } from "./tracing.ts";
import { AsyncContextManager } from "./testdata/async_context_manager.ts";
import { idOf, only, parentId, spanRecorder } from "./testdata/span_recorder.ts";

// Without OTEL_DENO there is no context manager, and context.active() is always the root context.
context.setGlobalContextManager(new AsyncContextManager());

Deno.test("an operation started inside the caller's active span is that span's child", async () => {
  const recorder = spanRecorder();
  const agent = await init({
    model: "test",
    store: "memory",
    sandbox: "memory",
    telemetry: { tracer: recorder.tracer },
  });
  const session = await agent.session();
  await recorder.tracer.startActiveSpan("handle request", async (outer) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    await session.prompt("hello");
    outer.end();
  });
  await session.prompt("outside any span");
  await agent.close();
  const outer = only(recorder.spans(), "handle request");
  const [inside, outside] = recorder.spans().filter((span) => span.name === "invoke_agent default");
  assert.equal(parentId(inside), idOf(outer));
  assert.equal(inside.spanContext().traceId, outer.spanContext().traceId);
  assert.equal(parentId(outside), undefined);
});

Deno.test("a workflow run is one trace: invoke_workflow, then its agents' operations and the workflow's own spans", async () => {
  const recorder = spanRecorder();
  const helper = createAgent(() => ({ name: "helper", model: "test", sandbox: "memory" }));
  const module = {
    async run(ctx: FlueContext<unknown>) {
      ctx.log.info("starting");
      const agent = await ctx.init(helper);
      const session = await agent.session();
      await session.prompt("first");
      // The workflow's own span is a child of the run, and an operation inside it is the span's child.
      await recorder.tracer.startActiveSpan("step two", async (step) => {
        await session.prompt("second");
        step.end();
      });
      return { ok: true };
    },
  };
  await recorder.tracer.startActiveSpan("request", async (request) => {
    await runWorkflow(module, {
      name: "summarize",
      store: new MemoryStore(),
      payload: { text: "hi" },
      telemetry: { tracer: recorder.tracer },
    });
    request.end();
  });
  const spans = recorder.spans();
  const request = only(spans, "request");
  const run = only(spans, "invoke_workflow summarize");
  assert.equal(parentId(run), idOf(request));
  assert.equal(run.attributes["gen_ai.operation.name"], "invoke_workflow");
  assert.equal(run.attributes["gen_ai.workflow.name"], "summarize");
  assert.equal(run.attributes["flue.workflow.payload"], undefined);
  assert.deepEqual(run.events.map((event) => [event.name, event.attributes?.["log.level"]]), [["log", "info"]]);
  const [first, second] = spans.filter((span) => span.name === "invoke_agent helper");
  assert.equal(parentId(first), idOf(run));
  const step = only(spans, "step two");
  assert.equal(parentId(step), idOf(run));
  assert.equal(parentId(second), idOf(step));
  assert.ok(spans.every((span) => span.spanContext().traceId === request.spanContext().traceId));
  assert.equal(recorder.open(), 0);
});

Deno.test("a failed workflow run ends its span with the error", async () => {
  const recorder = spanRecorder();
  await assert.rejects(
    runWorkflow({ run: () => Promise.reject(new TypeError("payload.text is required")) }, {
      name: "broken",
      store: new MemoryStore(),
      telemetry: { tracer: recorder.tracer },
    }),
    TypeError,
  );
  const run = only(recorder.spans(), "invoke_workflow broken");
  assert.equal(run.status.code, SpanStatusCode.ERROR);
  assert.equal(run.attributes["error.type"], "TypeError");
  assert.equal(run.status.message, "payload.text is required");
});

// Emitted through the bus directly, as the task contract specifies, so concurrent task calls are covered exactly.
Deno.test("tasks are children of the task tool call that started them, and their operations children of the task", () => {
  const recorder = spanRecorder();
  const bus = new EventBus();
  const tracing = startTracing(bus, { tracer: recorder.tracer })!;
  const base: EventContext = { agent: "lead", instanceId: "i", session: "s" };
  const emit = (payload: EventPayload, extra: Partial<EventContext> = {}) => bus.emit(payload, { ...base, ...extra });
  const parentOp = { operationId: "op_parent" };
  emit({ type: "operation_start", operationKind: "prompt" }, parentOp);
  emit({ type: "tool_start", toolName: "task", toolCallId: "call_a", args: { prompt: " Review a.ts" } }, parentOp);
  emit({ type: "tool_start", toolName: "task", toolCallId: "call_b", args: { prompt: "Review b.ts" } }, parentOp);
  // The second call's task starts first: the prompt, not the order, tells which call it belongs to.
  const task = { depth: 1, childSession: "s/tasks/x" };
  emit({ type: "task_start", taskId: "task_b", prompt: "Review b.ts", role: "reviewer", ...task }, parentOp);
  emit({ type: "task_start", taskId: "task_a", prompt: "Review a.ts", ...task }, parentOp);
  const childB = { operationId: "op_b", taskId: "task_b", session: "s/tasks/task_b" };
  emit({ type: "operation_start", operationKind: "prompt" }, childB);
  emit({ type: "turn_start", turnId: "turn_b", model: "test" }, childB);
  emit({ type: "operation", operationKind: "prompt", durationMs: 1 }, childB);
  emit({ type: "task_end", taskId: "task_b", isError: false, result: "fine", durationMs: 1 }, parentOp);
  const childA = { operationId: "op_a", taskId: "task_a", session: "s/tasks/task_a" };
  emit({ type: "operation_start", operationKind: "prompt" }, childA);
  emit({ type: "aborted", operationKind: "prompt", reason: "stop" }, childA);
  emit({ type: "task_end", taskId: "task_a", isError: true, durationMs: 1 }, parentOp);
  emit(
    { type: "tool_end", toolName: "task", toolCallId: "call_a", isError: true, result: "x", durationMs: 1 },
    parentOp,
  );
  emit(
    { type: "tool_end", toolName: "task", toolCallId: "call_b", isError: false, result: "y", durationMs: 1 },
    parentOp,
  );
  // A task started outside any tool call (session.task) belongs to the operation.
  emit({ type: "task_start", taskId: "task_c", prompt: "Direct", ...task }, parentOp);
  emit({ type: "operation", operationKind: "prompt", durationMs: 1 }, parentOp);
  tracing.stop();

  const spans = recorder.spans();
  const find = (name: string, key: string, value: string) =>
    spans.find((span) => span.name === name && span.attributes[key] === value)!;
  const callA = find("execute_tool task", "gen_ai.tool.call.id", "call_a");
  const callB = find("execute_tool task", "gen_ai.tool.call.id", "call_b");
  const taskA = find("task", "flue.task.id", "task_a");
  const taskB = only(spans, "task reviewer");
  assert.equal(parentId(taskA), idOf(callA));
  assert.equal(parentId(taskB), idOf(callB));
  assert.equal(taskB.attributes["flue.task.role"], "reviewer");
  assert.equal(parentId(find("invoke_agent lead", "flue.operation.id", "op_b")), idOf(taskB));
  assert.equal(parentId(find("invoke_agent lead", "flue.operation.id", "op_a")), idOf(taskA));
  assert.equal(parentId(only(spans, "chat test")), idOf(find("invoke_agent lead", "flue.operation.id", "op_b")));
  assert.equal(taskA.attributes["error.type"], "task_error");
  const parent = find("invoke_agent lead", "flue.operation.id", "op_parent");
  const taskC = find("task", "flue.task.id", "task_c");
  assert.equal(parentId(taskC), idOf(parent));
  // The operation ended while task_c was open: the task was ended with it, marked unfinished.
  assert.equal(taskC.attributes["error.type"], "unfinished");
  assert.equal(recorder.open(), 0);
});

Deno.test("the default tracer is the global @flue/cli tracer; telemetry false makes no spans", async () => {
  const recorder = spanRecorder();
  assert.equal(trace.setGlobalTracerProvider(recorder.provider), true);
  try {
    const traced = await init({ model: "test", store: "memory", sandbox: "memory" });
    await (await traced.session()).prompt("traced");
    await traced.close();
    const untraced = await init({ model: "test", store: "memory", sandbox: "memory", telemetry: false });
    await (await untraced.session()).prompt("not traced");
    await untraced.close();
  } finally {
    trace.disable();
  }
  const spans = recorder.spans();
  assert.deepEqual(spans.map((span) => span.name), ["chat test", "invoke_agent default"]);
  assert.deepEqual(spans[0].instrumentationScope, {
    name: "@flue/cli",
    version: denoJson.version,
    schemaUrl: undefined,
  });
});

Deno.test("a bad telemetry option is refused with a message that says what to pass", async () => {
  const base = { model: "test", store: "memory", sandbox: "memory" } as const;
  await assert.rejects(
    init({ ...base, telemetry: "on" as never }),
    {
      name: "TypeError",
      message: `Option "telemetry" must be false or an object such as { tracer, recordContent }, got "on"`,
    },
  );
  await assert.rejects(
    init({ ...base, telemetry: { tracer: {} as never } }),
    /Option "telemetry.tracer" must be an OpenTelemetry Tracer \(with startSpan\).*got an object/,
  );
  await assert.rejects(
    init({ ...base, telemetry: { recordContnt: true } as never }),
    /Unknown telemetry option "recordContnt": known options are tracer, recordContent/,
  );
  await assert.rejects(
    runWorkflow({ run: () => 1 }, {
      name: "w",
      store: new MemoryStore(),
      telemetry: { recordContent: "yes" as never },
    }),
    /Option "telemetry.recordContent" must be true or false, got "yes"/,
  );
});

Deno.test("session.task() and the model's task tool make task spans under the right parents", async () => {
  const recorder = spanRecorder();
  const HELPER = "You are the helper subagent.";
  const model = new FunctionModel((request) => {
    if (request.messages[0].content.includes(HELPER)) return `child did: ${request.messages.at(-1)!.content}`;
    if (request.messages.at(-1)!.role === "tool") return "both done";
    return {
      toolCalls: [
        { name: "task", args: { prompt: "Check a.ts", agent: "helper" } },
        { name: "task", args: { prompt: "Check b.ts", agent: "helper" } },
      ],
    };
  });
  const agent = await init({
    name: "lead",
    model,
    store: "memory",
    sandbox: "memory",
    subagents: { helper: { description: "Checks files", instructions: HELPER } },
    telemetry: { tracer: recorder.tracer },
  });
  try {
    const session = await agent.session("main");
    await session.prompt("Check both files");
    await session.task("Direct job", { agent: "helper" });
  } finally {
    await agent.close();
  }
  const spans = recorder.spans();
  const byId = new Map(spans.map((span) => [idOf(span), span]));
  const tasks = spans.filter((span) => span.name === "task helper");
  assert.equal(tasks.length, 3);
  for (const task of tasks) {
    const children = spans.filter((span) => parentId(span) === idOf(task));
    assert.deepEqual(children.map((span) => span.name), ["invoke_agent lead"], "a task's child operation is its child");
    assert.equal(task.attributes["flue.task.subagent"], "helper");
    assert.equal(task.attributes["flue.task.depth"], 1);
  }
  const toolCalls = spans.filter((span) => span.name === "execute_tool task").map(idOf);
  assert.equal(toolCalls.length, 2);
  const viaTool = tasks.filter((task) => toolCalls.includes(parentId(task)!));
  assert.equal(viaTool.length, 2, "each tool-started task is a child of a task tool call");
  assert.notEqual(parentId(viaTool[0]), parentId(viaTool[1]), "each call has its own task");
  const direct = tasks.find((task) => !viaTool.includes(task))!;
  const directParent = byId.get(parentId(direct)!)!;
  assert.equal(directParent.name, "invoke_agent lead");
  assert.equal(directParent.attributes["flue.operation.kind"], "task");
  assert.equal(recorder.open(), 0);
});
