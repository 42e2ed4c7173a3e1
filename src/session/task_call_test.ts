import assert from "node:assert/strict";
import { z } from "zod";
import { init } from "../agent/init.ts";
import { AbortError } from "../errors.ts";
import type { FlueEvent } from "../events/event_types.ts";
import type { ModelRequest } from "../model/chat_model.ts";
import { FunctionModel, type FunctionModelReply } from "../model/test_models/function_model.ts";
import { MemoryStore } from "../store/memory_store.ts";

const base = { store: "memory", sandbox: "memory", projectDir: "/nonexistent" } as const;
const HELPER = "You are the helper subagent.";
const subagents = { helper: { description: "Does small jobs", instructions: HELPER } };

function isChild(request: ModelRequest): boolean {
  return request.messages[0].content.includes(HELPER);
}

function lastMessage(request: ModelRequest) {
  return request.messages.at(-1)!;
}

Deno.test("session.task() runs a child session with its own history under a derived name", async () => {
  const store = new MemoryStore();
  const model = new FunctionModel((request) => isChild(request) ? "child answer" : "parent answer");
  const agent = await init({ ...base, store, model, subagents });
  try {
    const session = await agent.session("main");
    const response = await session.task("Summarise the notes", { agent: "helper" });
    assert.equal(response.text, "child answer");
    assert.match(response.taskId, /^task_/);
    assert.equal(response.session, `main/tasks/${response.taskId}`);
    assert.deepEqual(await agent.listSessions(), [response.session]);
    const keys = await store.listSessions({ agent: "default", instanceId: "default" });
    assert.deepEqual(keys.map((key) => key.session), [response.session]);
    const child = await agent.session(response.session);
    assert.deepEqual((await child.history()).map((entry) => entry.message.content), [
      "Summarise the notes",
      "child answer",
    ]);
    assert.deepEqual(await session.history(), [], "the parent's history is the parent's alone");
    const second = await session.task("Again", { agent: "helper" });
    assert.notEqual(second.session, response.session, "every task has a fresh child session");
  } finally {
    await agent.close();
  }
});

Deno.test("a task's child shares the caller's sandbox: its writes are the parent's files", async () => {
  const model = new FunctionModel((request) => {
    if (lastMessage(request).role === "tool") return "wrote it";
    return { toolCalls: [{ name: "write", args: { path: "report.txt", content: "from the child" } }] };
  });
  const agent = await init({ ...base, model, allowWrite: true });
  try {
    const session = await agent.session("main");
    await session.task("Write the report");
    assert.equal(await session.fs.readFile("report.txt"), "from the child");
  } finally {
    await agent.close();
  }
});

Deno.test("session.task() with result returns typed data from the child", async () => {
  const model = new FunctionModel(() => '{"count": 3, "summary": "three notes"}');
  const agent = await init({ ...base, model, subagents });
  try {
    const session = await agent.session();
    const response = await session.task("Count the notes", {
      agent: "helper",
      result: z.object({ count: z.number(), summary: z.string() }),
    });
    assert.deepEqual(response.data, { count: 3, summary: "three notes" });
    assert.equal(response.attempts, 1);
  } finally {
    await agent.close();
  }
});

Deno.test("task_start and task_end belong to the parent operation; the child's events carry the task id", async () => {
  const events: FlueEvent[] = [];
  const model = new FunctionModel((request) => isChild(request) ? "done" : "unused");
  const agent = await init({ ...base, model, subagents, onEvent: (event) => events.push(event) });
  try {
    const session = await agent.session("main");
    const response = await session.task("Do it", { agent: "helper", role: undefined });
    const start = events.find((event) => event.type === "task_start")!;
    const end = events.find((event) => event.type === "task_end")!;
    for (const event of [start, end]) {
      assert.equal(event.operationId, response.operationId);
      assert.equal(event.session, "main");
      assert.equal(event.taskId, response.taskId, "the payload's task id");
    }
    assert.deepEqual(
      { ...start, eventIndex: 0, timestamp: "" },
      {
        type: "task_start",
        taskId: response.taskId,
        prompt: "Do it",
        role: undefined,
        subagent: "helper",
        depth: 1,
        childSession: response.session,
        parentTaskId: undefined,
        agent: "default",
        instanceId: "default",
        session: "main",
        runId: undefined,
        operationId: response.operationId,
        turnId: undefined,
        eventIndex: 0,
        timestamp: "",
      },
    );
    assert.equal(end.type === "task_end" && end.result, "done");
    assert.equal(end.type === "task_end" && end.isError, false);
    const parentOperation = events.filter((event) => event.operationId === response.operationId);
    assert.ok(parentOperation.every((event) => event.type.startsWith("task_") || event.taskId === undefined));
    const childEvents = events.filter((event) => event.session === response.session);
    assert.ok(childEvents.length >= 4);
    assert.ok(childEvents.every((event) => event.taskId === response.taskId));
    assert.ok(childEvents.some((event) => event.type === "operation" && event.operationKind === "prompt"));
    const kinds = events.filter((event) => event.type === "operation").map((
      event,
    ) => [event.session, event.operationKind]);
    assert.deepEqual(kinds, [[response.session, "prompt"], ["main", "task"]]);
  } finally {
    await agent.close();
  }
});

Deno.test("aborting the parent aborts a child blocked in its model call, and nothing keeps running", async () => {
  const events: FlueEvent[] = [];
  let childCalls = 0;
  let childStarted!: () => void;
  const started = new Promise<void>((resolve) => (childStarted = resolve));
  let childSettled = false;
  const model = new FunctionModel((request): Promise<FunctionModelReply> => {
    childCalls++;
    childStarted();
    return new Promise<FunctionModelReply>((_, reject) => {
      request.signal.addEventListener("abort", () => {
        childSettled = true;
        reject(request.signal.reason);
      }, { once: true });
    });
  });
  const agent = await init({ ...base, model, subagents, onEvent: (event) => events.push(event) });
  try {
    const session = await agent.session("main");
    const handle = session.task("Take forever", { agent: "helper" });
    await started;
    handle.abort("user cancelled");
    await assert.rejects(handle, AbortError);
    assert.ok(childSettled, "the child's model call saw the abort");
    const start = events.find((event) => event.type === "task_start")!;
    const taskId = start.type === "task_start" ? start.taskId : "";
    const childTerminal = events.filter((event) => event.taskId === taskId && event.type === "aborted");
    assert.equal(childTerminal.length, 1, "the child operation ends with aborted");
    const end = events.find((event) => event.type === "task_end");
    assert.equal(end?.type === "task_end" && end.isError, true);
    assert.equal(events.at(-1)?.type, "idle");
    const parentEnd = events.filter((event) => event.session === "main" && event.type === "aborted");
    assert.equal(parentEnd.length, 1);

    const count = events.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(events.length, count, "no event after the abort settled");
    assert.equal(childCalls, 1);
  } finally {
    await agent.close();
  }
});

Deno.test("session.abort() reaches a child started by the model's task tool", async () => {
  let childStarted!: () => void;
  const started = new Promise<void>((resolve) => (childStarted = resolve));
  const model = new FunctionModel((request): FunctionModelReply | Promise<FunctionModelReply> => {
    if (!isChild(request)) return { toolCalls: [{ name: "task", args: { prompt: "slow", agent: "helper" } }] };
    childStarted();
    return new Promise<FunctionModelReply>((_, reject) =>
      request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true })
    );
  });
  const agent = await init({ ...base, model, subagents });
  try {
    const session = await agent.session("main");
    const stream = session.stream("Delegate");
    const seen: FlueEvent[] = [];
    const consumed = (async () => {
      for await (const event of stream) seen.push(event);
    })();
    await started;
    assert.equal(session.abort("stop"), true);
    await consumed;
    await assert.rejects(stream.result, AbortError);
    const last = seen.at(-1)!;
    assert.equal(last.type, "aborted");
    assert.equal(last.session, "main");
    assert.equal(last.taskId, undefined);
    const childAborted = seen.filter((event) => event.type === "aborted" && event.taskId !== undefined);
    assert.equal(childAborted.length, 1, "the parent's stream carries the child's events");
  } finally {
    await agent.close();
  }
});

Deno.test("maxTaskDepth: 0 refuses tasks with an error naming the option", async () => {
  const agent = await init({ ...base, model: new FunctionModel(() => "x"), subagents, maxTaskDepth: 0 });
  try {
    const session = await agent.session();
    await assert.rejects(session.task("Anything"), (error: Error) => {
      assert.equal(error.name, "RangeError");
      assert.match(error.message, /over "maxTaskDepth" \(0\)/);
      return true;
    });
  } finally {
    await agent.close();
  }
  const other = await init({ ...base, model: new FunctionModel(() => "x"), subagents });
  try {
    const session = await other.session();
    await assert.rejects(
      session.task("x", { agent: "nobody" }),
      /Unknown subagent "nobody": known subagents are helper/,
    );
    await assert.rejects(session.task("x", { role: "nobody" }), /Unknown role "nobody": the agent has no roles/);
    await assert.rejects(session.task("  "), /The task prompt is empty/);
  } finally {
    await other.close();
  }
});

Deno.test("a task's cwd confines the child's file tools to that directory", async () => {
  const results: string[] = [];
  const model = new FunctionModel((request) => {
    const last = lastMessage(request);
    if (last.role === "tool") results.push(last.content);
    const step = request.messages.filter((message) => message.role === "tool").length;
    const calls = [
      { name: "read", args: { path: "a.txt" } },
      { name: "read", args: { path: "../secret.txt" } },
      { name: "write", args: { path: "b.txt", content: "child wrote" } },
    ];
    return step < calls.length ? { toolCalls: [calls[step]] } : "finished";
  });
  const agent = await init({ ...base, model, allowWrite: true });
  try {
    const session = await agent.session();
    await session.fs.writeFile("sub/a.txt", "inside");
    await session.fs.writeFile("secret.txt", "outside");
    await session.task("Work in sub", { cwd: "sub" });
    assert.match(results[0], /inside/);
    assert.match(results[1], /outside this task's working directory "sub"/);
    assert.doesNotMatch(results[1], /outside\n|^outside/);
    assert.equal(await session.fs.readFile("sub/b.txt"), "child wrote");
    assert.match(model.calls[0].messages[0].content, /This task works in \/workspace\/sub/);
    await assert.rejects(session.task("x", { cwd: "missing" }), /Task cwd "missing" is not a directory/);
    await assert.rejects(session.task("x", { cwd: "../up" }), { name: "PolicyDeniedError" });
  } finally {
    await agent.close();
  }
});

Deno.test("a profile's tools narrow the child's tools and its model and instructions replace the caller's", async () => {
  const childModel = new FunctionModel(() => "read only", { id: "child-model" });
  const agent = await init({
    ...base,
    model: new FunctionModel(() => "parent"),
    instructions: "Parent instructions.",
    allowWrite: true,
    subagents: {
      reader: { description: "Reads", instructions: "Only read.", tools: ["read", "write", "bash"], model: childModel },
      helper: subagents.helper,
    },
  });
  try {
    const session = await agent.session();
    const response = await session.task("Look", { agent: "reader" });
    assert.equal(response.model, "child-model");
    const request = childModel.calls[0];
    const names = request.tools.map((tool) => tool.name);
    assert.deepEqual(names.filter((name) => name !== "read_output"), ["read", "write"], "no bash without allowShell");
    assert.match(request.messages[0].content, /Only read\./);
    assert.doesNotMatch(request.messages[0].content, /Parent instructions\./);
  } finally {
    await agent.close();
  }
});

Deno.test("secrets in a task's prompt and result are redacted from its events", async () => {
  const events: FlueEvent[] = [];
  const model = new FunctionModel(() => "the token is s3cr3t-value");
  const agent = await init({ ...base, model, env: { TOKEN: "s3cr3t-value" }, onEvent: (event) => events.push(event) });
  try {
    const session = await agent.session();
    await session.task("Use s3cr3t-value carefully");
    const text = JSON.stringify(events);
    assert.ok(!text.includes("s3cr3t-value"));
    const start = events.find((event) => event.type === "task_start");
    assert.ok(start?.type === "task_start" && start.prompt.includes("[REDACTED"), JSON.stringify(start));
  } finally {
    await agent.close();
  }
});

Deno.test("init() checks subagent profiles", async () => {
  const model = new FunctionModel(() => "x");
  await assert.rejects(
    init({ ...base, model, subagents: { r: { description: "R", tools: ["reed"] } } }),
    /Invalid subagent "r": field "tools" names the unknown tool "reed"; known tools are read/,
  );
  await assert.rejects(
    init({ ...base, model, subagents: { r: { description: "R", role: "ghost" } } }),
    /Invalid subagent "r": field "role" names the unknown role "ghost"; the agent has no roles/,
  );
  await assert.rejects(
    init({ ...base, model, subagents: { r: {} as never } }),
    /field "description" must be non-empty/,
  );
  await assert.rejects(
    init({ ...base, model, maxTaskDepth: -1 }),
    /"maxTaskDepth" must be a whole number from 0 to 32/,
  );
});

Deno.test("precedence in a task: the task's options beat its role, the role beats the profile", async () => {
  const served: [string, string | undefined][] = [];
  const named = (id: string) =>
    new FunctionModel((request) => {
      served.push([id, request.thinkingLevel]);
      return "ok";
    }, { id });
  const agent = await init({
    ...base,
    model: named("agent"),
    roles: { fast: { description: "Fast", instructions: "Be quick.", model: named("role") } },
    subagents: {
      profiled: { description: "P", model: named("profile"), thinkingLevel: "low" },
      roled: { description: "R", model: named("profile"), role: "fast", thinkingLevel: "low" },
    },
  });
  try {
    const session = await agent.session();
    await session.task("1", { agent: "profiled" });
    await session.task("2", { agent: "roled" });
    await session.task("3", { agent: "profiled", role: "fast" });
    await session.task("4", { agent: "roled", model: named("call"), thinkingLevel: "high" });
    await session.task("5", { role: "fast" });
    assert.deepEqual(served, [
      ["profile", "low"],
      ["role", "low"],
      ["role", "low"],
      ["call", "high"],
      ["role", undefined],
    ]);
  } finally {
    await agent.close();
  }
});
