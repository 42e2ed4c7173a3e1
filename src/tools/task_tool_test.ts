import assert from "node:assert/strict";
import { init } from "../agent/init.ts";
import type { FlueEvent } from "../events/event_types.ts";
import type { ModelRequest } from "../model/chat_model.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { createTaskTool } from "./task_tool.ts";

const base = { store: "memory", sandbox: "memory", projectDir: "/nonexistent" } as const;
const subagents = { helper: { description: "Does small jobs", instructions: "You are the helper." } };

function taskTool(request: ModelRequest) {
  return request.tools.find((tool) => tool.name === "task");
}

Deno.test("the task tool is offered only when the agent has subagents or roles to delegate to", async () => {
  const model = new FunctionModel(() => "ok");
  const plain = await init({ ...base, model });
  const delegating = await init({
    ...base,
    model,
    subagents,
    roles: { critic: { description: "Finds flaws", instructions: "Be harsh." } },
  });
  const noDepth = await init({ ...base, model, subagents, maxTaskDepth: 0 });
  try {
    await (await plain.session()).prompt("hi");
    await (await delegating.session()).prompt("hi");
    await (await noDepth.session()).prompt("hi");
    assert.equal(taskTool(model.calls[0]), undefined);
    const tool = taskTool(model.calls[1])!;
    assert.match(tool.description, /- helper: Does small jobs/);
    assert.match(tool.description, /- critic: Finds flaws/);
    const properties = tool.parameters.properties as Record<string, { enum?: string[] }>;
    assert.deepEqual(properties.agent.enum, ["helper"]);
    assert.deepEqual(properties.role.enum, ["critic"]);
    assert.deepEqual(tool.parameters.required, ["prompt"]);
    assert.equal(taskTool(model.calls[2]), undefined, "maxTaskDepth: 0 offers no task tool");
  } finally {
    await plain.close();
    await delegating.close();
    await noDepth.close();
  }
});

Deno.test("the model delegates with the task tool and reads the subagent's answer", async () => {
  const events: FlueEvent[] = [];
  const model = new FunctionModel((request) => {
    const system = request.messages[0].content;
    if (system.includes("You are the helper.")) {
      assert.match(system, /## Role: critic\n\nBe harsh\./);
      return `helper saw: ${request.messages.at(-1)!.content}`;
    }
    const last = request.messages.at(-1)!;
    if (last.role === "tool") return `parent got: ${last.content}`;
    return { toolCalls: [{ name: "task", args: { prompt: "check the logs", agent: "helper", role: "critic" } }] };
  });
  const agent = await init({
    ...base,
    model,
    subagents,
    roles: { critic: { description: "Finds flaws", instructions: "Be harsh." } },
    onEvent: (event) => events.push(event),
  });
  try {
    const session = await agent.session("main");
    const response = await session.prompt("Please delegate");
    assert.equal(response.text, "parent got: helper saw: check the logs");
    const start = events.find((event) => event.type === "task_start");
    assert.ok(start?.type === "task_start");
    assert.equal(start.operationId, response.operationId, "task events belong to the prompt operation");
    assert.equal(start.role, "critic");
    assert.equal(start.subagent, "helper");
    const toolEnd = events.find((event) => event.type === "tool_end" && event.toolName === "task");
    assert.equal(toolEnd?.operationId, response.operationId);
    const history = await session.history();
    assert.deepEqual(history.map((entry) => entry.message.role), ["user", "assistant", "tool", "assistant"]);
  } finally {
    await agent.close();
  }
});

Deno.test("maxTaskDepth stops a model that always delegates, with an error naming the option", async () => {
  const events: FlueEvent[] = [];
  // Delegates whenever it has no tool result to answer with; then passes the result up.
  const model = new FunctionModel((request) => {
    const last = request.messages.at(-1)!;
    if (last.role === "tool") return `up: ${last.content}`;
    return { toolCalls: [{ name: "task", args: { prompt: "go deeper", agent: "helper" } }] };
  });
  const agent = await init({ ...base, model, subagents, maxTaskDepth: 3, onEvent: (event) => events.push(event) });
  try {
    const session = await agent.session("root");
    const response = await session.prompt("start");
    assert.match(response.text, /over "maxTaskDepth" \(3\)/);
    assert.equal(response.text.split("up: ").length - 1, 4, "each level passed the error up once");
    const starts = events.filter((event) => event.type === "task_start");
    assert.deepEqual(starts.map((event) => event.type === "task_start" && event.depth), [1, 2, 3]);
    assert.equal(starts[0].type === "task_start" && starts[0].parentTaskId, undefined);
    for (let depth = 1; depth < starts.length; depth++) {
      const parent = starts[depth - 1].type === "task_start" ? starts[depth - 1].taskId : "";
      assert.equal(starts[depth].type === "task_start" && starts[depth].parentTaskId, parent);
    }
    const sessions = await agent.listSessions();
    assert.equal(sessions.length, 4, "the root and three nested children");
    const deepest = sessions.reduce((a, b) => (a.length > b.length ? a : b));
    assert.equal(deepest.split("/tasks/").length, 4);
    const failed = events.filter((event) => event.type === "tool_end" && event.isError);
    assert.equal(failed.length, 1);
  } finally {
    await agent.close();
  }
});

Deno.test("the task tool refuses a subagent the agent does not declare", async () => {
  const model = new FunctionModel((request) => {
    const last = request.messages.at(-1)!;
    if (last.role === "tool") return last.content;
    return { toolCalls: [{ name: "task", args: { prompt: "x", agent: "stranger" } }] };
  });
  const agent = await init({ ...base, model, subagents });
  try {
    const response = await (await agent.session()).prompt("go");
    assert.match(response.text, /invalid arguments for "task": agent/);
    assert.deepEqual(await agent.listSessions(), ["default"]);
  } finally {
    await agent.close();
  }
});

Deno.test("createTaskTool() shares one input schema between tools with the same choices", () => {
  const options = { subagents: [{ name: "a", description: "A" }], roles: [], run: () => Promise.resolve("") };
  assert.equal(createTaskTool(options).input, createTaskTool(options).input);
  const roleOnly = createTaskTool({ subagents: [], roles: [{ name: "r", description: "R" }], run: options.run });
  assert.equal(roleOnly.input.safeParse({ prompt: "x", agent: "a" }).success, false);
  assert.equal(roleOnly.input.safeParse({ prompt: "x", role: "r" }).success, true);
});

Deno.test("session.stream() carries the child's events and ends with the parent's own terminal event", async () => {
  const model = new FunctionModel((request) => {
    if (request.messages[0].content.includes("You are the helper.")) return "child done";
    const last = request.messages.at(-1)!;
    if (last.role === "tool") return "parent done";
    return { toolCalls: [{ name: "task", args: { prompt: "sub-job", agent: "helper" } }] };
  });
  const agent = await init({ ...base, model, subagents });
  try {
    const session = await agent.session("main");
    const stream = session.stream("go");
    const seen: FlueEvent[] = [];
    for await (const event of stream) seen.push(event);
    assert.equal((await stream.result).text, "parent done");
    const start = seen.find((event) => event.type === "task_start");
    const taskId = start?.type === "task_start" ? start.taskId : "";
    const child = seen.filter((event) => event.taskId === taskId && event.session !== "main");
    assert.ok(child.some((event) => event.type === "operation"), "the child's terminal event is in the stream");
    assert.ok(child.some((event) => event.type === "text_delta"));
    const last = seen.at(-1)!;
    assert.equal(last.type, "operation");
    assert.equal(last.session, "main");
    assert.ok(seen.findIndex((event) => event.type === "task_end") < seen.length - 1);
  } finally {
    await agent.close();
  }
});
