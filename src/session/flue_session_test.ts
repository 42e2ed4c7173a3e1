import assert from "node:assert/strict";
import { z } from "zod";
import { init } from "../agent/init.ts";
import { AbortError, ResultValidationError } from "../errors.ts";
import type { FlueEvent } from "../events/event_types.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";
import type { ModelRequest } from "../model/chat_model.ts";
import { TestModel } from "../model/test_models/test_model.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { defineTool } from "../tools/tool.ts";

const base = { store: "memory", sandbox: "memory" } as const;

function lastUserText(request: ModelRequest): string {
  const users = request.messages.filter((message) => message.role === "user");
  return users.at(-1)?.content ?? "";
}

Deno.test("session.prompt() answers and persists the user and assistant messages", async () => {
  const store = new MemoryStore();
  const agent = await init({ model: new TestModel({ script: ["Hello there"] }), store, sandbox: "memory" });
  try {
    const session = await agent.session("greet");
    const response = await session.prompt("Hi");
    assert.equal(response.text, "Hello there");
    assert.match(response.operationId, /^op_/);
    const history = await session.history();
    assert.deepEqual(history.map((entry) => [entry.seq, entry.message.role, entry.message.content]), [
      [0, "user", "Hi"],
      [1, "assistant", "Hello there"],
    ]);
  } finally {
    await agent.close();
  }
});

Deno.test("a new agent resumes a session's full history by its id", async () => {
  const store = new MemoryStore();
  const first = await init({ model: new TestModel({ script: ["one"] }), store, sandbox: "memory", name: "a", id: "x" });
  await (await first.session("s")).prompt("first");
  await first.close();
  const seen: ModelRequest[] = [];
  const model = new FunctionModel((request) => {
    seen.push(request);
    return "two";
  });
  const second = await init({ model, store, sandbox: "memory", name: "a", id: "x" });
  try {
    await (await second.session("s")).prompt("second");
    assert.deepEqual(
      seen[0].messages.filter((message) => message.role !== "system").map((message) => message.content),
      ["first", "one", "second"],
    );
  } finally {
    await second.close();
  }
});

Deno.test("two agents with the same instance id never share history", async () => {
  const store = new MemoryStore();
  const a = await init({ model: new TestModel({ script: ["from a"] }), store, sandbox: "memory", name: "a", id: "1" });
  const b = await init({ model: new TestModel({ script: ["from b"] }), store, sandbox: "memory", name: "b", id: "1" });
  try {
    await (await a.session()).prompt("to a");
    await (await b.session()).prompt("to b");
    const historyA = await (await a.session()).history();
    const historyB = await (await b.session()).history();
    assert.deepEqual(historyA.map((entry) => entry.message.content), ["to a", "from a"]);
    assert.deepEqual(historyB.map((entry) => entry.message.content), ["to b", "from b"]);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("ids containing ':' and '_' never collide", async () => {
  const store = new MemoryStore();
  const one = await init({
    model: new TestModel({ script: ["r1"] }),
    store,
    sandbox: "memory",
    name: "a",
    id: "x:y_z",
  });
  const two = await init({
    model: new TestModel({ script: ["r2"] }),
    store,
    sandbox: "memory",
    name: "a",
    id: "x_y:z",
  });
  try {
    await (await one.session("s:t")).prompt("p1");
    await (await two.session("s:t")).prompt("p2");
    assert.deepEqual((await (await one.session("s:t")).history()).map((entry) => entry.message.content), ["p1", "r1"]);
    assert.deepEqual((await (await two.session("s:t")).history()).map((entry) => entry.message.content), ["p2", "r2"]);
  } finally {
    await one.close();
    await two.close();
  }
});

Deno.test("two prompts on one session run one after the other, never interleaved", async () => {
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const model = new FunctionModel(async (request) => {
    const text = lastUserText(request);
    order.push(`start ${text}`);
    if (text === "first") await gate;
    order.push(`end ${text}`);
    return `reply to ${text}`;
  });
  const agent = await init({ ...base, model });
  try {
    const session = await agent.session();
    const first = session.prompt("first");
    const second = session.prompt("second");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(order, ["start first"]);
    release();
    assert.equal((await first).text, "reply to first");
    assert.equal((await second).text, "reply to second");
    assert.deepEqual(order, ["start first", "end first", "start second", "end second"]);
    const contents = (await session.history()).map((entry) => entry.message.content);
    assert.deepEqual(contents, ["first", "reply to first", "second", "reply to second"]);
  } finally {
    await agent.close();
  }
});

Deno.test("session.stream() yields text deltas before the terminal event, in order", async () => {
  const agent = await init({ ...base, model: new TestModel({ script: ["alpha beta gamma delta epsilon"] }) });
  try {
    const session = await agent.session();
    const events: FlueEvent[] = [];
    const stream = session.stream("go");
    for await (const event of stream) events.push(event);
    const types = events.map((event) => event.type);
    assert.equal(types[0], "operation_start");
    assert.equal(types.at(-1), "operation");
    assert.ok(types.filter((type) => type === "text_delta").length >= 2, `several deltas in ${types}`);
    assert.ok(types.indexOf("text_delta") < types.indexOf("turn"));
    const text = events.flatMap((event) => event.type === "text_delta" ? [event.text] : []).join("");
    assert.equal(text, "alpha beta gamma delta epsilon");
    for (let i = 1; i < events.length; i++) assert.ok(events[i].eventIndex > events[i - 1].eventIndex);
    for (const event of events) {
      assert.equal(event.agent, "default");
      assert.equal(event.session, "default");
      assert.equal(event.operationId, events[0].operationId);
    }
    assert.equal((await stream.result).text, text);
  } finally {
    await agent.close();
  }
});

Deno.test("tool calls run, several per turn, and their results reach the model", async () => {
  const double = defineTool({
    name: "double",
    description: "Doubles a number",
    input: z.object({ n: z.number() }),
    run: ({ n }) => String(n * 2),
  });
  const events: FlueEvent[] = [];
  const model = new TestModel({
    script: [{ toolCalls: [{ name: "double", args: { n: 2 } }, { name: "double", args: { n: 5 } }] }, "4 and 10"],
  });
  const agent = await init({ ...base, model, tools: [double], onEvent: (event) => events.push(event) });
  try {
    const response = await (await agent.session()).prompt("double 2 and 5");
    assert.equal(response.text, "4 and 10");
    const toolMessages = model.calls[1].messages.filter((message) => message.role === "tool");
    assert.deepEqual(toolMessages.map((message) => message.content), ["4", "10"]);
    assert.equal(events.filter((event) => event.type === "tool_end").length, 2);
    assert.equal(events.filter((event) => event.type === "turn").length, 2);
    assert.equal(events.at(-1)?.type, "idle", "the session reports idle once nothing is queued");
  } finally {
    await agent.close();
  }
});

Deno.test("invalid tool arguments come back to the model as a tool error and the run goes on", async () => {
  const double = defineTool({
    name: "double",
    description: "Doubles a number",
    input: z.object({ n: z.number() }),
    run: ({ n }) => String(n * 2),
  });
  const model = new TestModel({ script: [{ toolCalls: [{ name: "double", args: { n: "two" } }] }, "done"] });
  const agent = await init({ ...base, model, tools: [double] });
  try {
    assert.equal((await (await agent.session()).prompt("x")).text, "done");
    const toolMessage = model.calls[1].messages.find((message) => message.role === "tool");
    assert.ok(toolMessage && toolMessage.role === "tool" && toolMessage.isError);
    assert.match(toolMessage.content, /invalid arguments for "double": n:/);
  } finally {
    await agent.close();
  }
});

Deno.test("a typed prompt returns schema-valid data from the test model", async () => {
  const agent = await init({ ...base, model: "test" });
  try {
    const schema = z.object({ title: z.string(), score: z.number().min(0).max(10), tags: z.array(z.string()) });
    const response = await (await agent.session()).prompt("Rate this", { result: schema });
    assert.deepEqual(schema.parse(response.data), response.data);
    assert.equal(response.attempts, 1);
  } finally {
    await agent.close();
  }
});

Deno.test("a typed prompt re-prompts with the issues and accepts the corrected reply", async () => {
  const feedback: string[] = [];
  const model = new FunctionModel((request, { callIndex }) => {
    if (callIndex > 0) feedback.push(lastUserText(request));
    return callIndex === 0 ? '{"count": "three"}' : '{"count": 3}';
  });
  const agent = await init({ ...base, model });
  try {
    const session = await agent.session();
    const response = await session.prompt("How many?", { result: z.object({ count: z.number() }) });
    assert.deepEqual(response.data, { count: 3 });
    assert.equal(response.attempts, 2);
    assert.match(feedback[0], /count/);
    const sources = (await session.history()).map((entry) => entry.source);
    assert.deepEqual(sources, ["prompt", "prompt", "retry", "retry"]);
  } finally {
    await agent.close();
  }
});

Deno.test("a typed prompt gives up with ResultValidationError after typedRetries", async () => {
  const model = new FunctionModel(() => "not json at all");
  const agent = await init({ ...base, model, typedRetries: 2 });
  try {
    const session = await agent.session();
    const error = await session.prompt("x", { result: z.object({ a: z.string() }) }).then(
      () => assert.fail("expected a failure"),
      (error) => error,
    );
    assert.ok(error instanceof ResultValidationError);
    assert.equal(error.attempts, 3);
    assert.equal(error.rawText, "not json at all");
  } finally {
    await agent.close();
  }
});

Deno.test("handle.abort() cancels a running prompt with AbortError and one terminal 'aborted' event", async () => {
  const events: FlueEvent[] = [];
  const model = new FunctionModel((request) =>
    new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason)))
  );
  const agent = await init({ ...base, model, onEvent: (event) => events.push(event) });
  try {
    const handle = (await agent.session()).prompt("wait");
    await new Promise((resolve) => setTimeout(resolve, 10));
    handle.abort("user changed their mind");
    await assert.rejects(handle, AbortError);
    assert.ok(handle.signal.aborted);
    const terminal = events.filter((event) => ["operation", "error", "aborted"].includes(event.type));
    assert.equal(terminal.length, 1);
    assert.equal(terminal[0].type, "aborted");
  } finally {
    await agent.close();
  }
});

Deno.test("session.abort() cancels the running prompt and the queued one", async () => {
  const model = new FunctionModel((request) =>
    new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason)))
  );
  const agent = await init({ ...base, model });
  try {
    const session = await agent.session();
    const running = session.prompt("one");
    const queued = session.prompt("two");
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(session.abort(), true);
    await assert.rejects(running, AbortError);
    await assert.rejects(queued, AbortError);
    assert.equal(session.abort(), false);
    assert.deepEqual(await session.history(), []);
  } finally {
    await agent.close();
  }
});

Deno.test("a failed turn leaves the history written before it intact", async () => {
  const store = new MemoryStore();
  const model = new TestModel({ script: ["fine", { error: new Error("provider exploded") }] });
  const events: FlueEvent[] = [];
  const agent = await init({ model, store, sandbox: "memory", onEvent: (event) => events.push(event) });
  try {
    const session = await agent.session();
    await session.prompt("first");
    await assert.rejects(session.prompt("second"), /provider exploded/);
    assert.deepEqual((await session.history()).map((entry) => entry.message.content), ["first", "fine"]);
    const last = events.filter((event) => event.type !== "idle").at(-1)!;
    assert.equal(last.type, "error");
  } finally {
    await agent.close();
  }
});

Deno.test("maxTurns bounds a model that keeps calling tools", async () => {
  const ping = defineTool({ name: "ping", description: "Ping", input: z.object({}), run: () => "pong" });
  const model = new FunctionModel(() => ({ toolCalls: [{ name: "ping", args: {} }] }));
  const agent = await init({ ...base, model, tools: [ping], maxTurns: 3 });
  try {
    await assert.rejects((await agent.session()).prompt("loop"), /after 3 turns/);
    assert.equal(model.calls.length, 3);
  } finally {
    await agent.close();
  }
});

Deno.test("secret values never reach events, history or the model through tool output", async () => {
  const secret = "s3cr3t-value-123";
  const leak = defineTool({ name: "leak", description: "Leaks", input: z.object({}), run: () => `token=${secret}` });
  const events: FlueEvent[] = [];
  const model = new TestModel({ script: [{ toolCalls: [{ name: "leak", args: {} }] }, "ok"] });
  const agent = await init({
    ...base,
    model,
    tools: [leak],
    env: { API_TOKEN: secret },
    onEvent: (event) => events.push(event),
  });
  try {
    const session = await agent.session();
    await session.prompt("leak it");
    assert.ok(!JSON.stringify(events).includes(secret));
    assert.ok(!JSON.stringify(await session.history()).includes(secret));
    assert.ok(!JSON.stringify(model.calls.map((call) => call.messages)).includes(secret));
    assert.ok(JSON.stringify(events).includes("[REDACTED:API_TOKEN]"));
  } finally {
    await agent.close();
  }
});

Deno.test("init() rejects a misspelt option instead of silently denying", async () => {
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    init({ model: "test", allowWrites: true } as any),
    /Unknown agent option "allowWrites": known options are .*allowWrite/,
  );
});

Deno.test("a secret in a tool's thrown error never reaches the model's next request", async () => {
  const secret = "s3cr3t-in-error-456";
  const failing = defineTool({
    name: "failing",
    description: "Fails",
    input: z.object({}),
    run: () => {
      throw new Error(`could not authenticate with ${secret}`);
    },
  });
  const model = new TestModel({ script: [{ toolCalls: [{ name: "failing", args: {} }] }, "gave up"] });
  const agent = await init({ ...base, model, tools: [failing], env: { TOKEN: secret } });
  try {
    await (await agent.session()).prompt("try");
    const toolMessage = model.calls[1].messages.find((message) => message.role === "tool");
    assert.ok(toolMessage && !toolMessage.content.includes(secret));
    assert.match(toolMessage.content, /\[REDACTED:TOKEN\]/);
  } finally {
    await agent.close();
  }
});

Deno.test("two agent objects on one session of one store take turns and see each other's history", async () => {
  const store = new MemoryStore();
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const seen: string[][] = [];
  const model = new FunctionModel(async (request) => {
    const text = lastUserText(request);
    seen.push(request.messages.filter((message) => message.role !== "system").map((message) => message.content));
    order.push(`start ${text}`);
    if (text === "first") await gate;
    order.push(`end ${text}`);
    return `reply to ${text}`;
  });
  const one = await init({ model, store, sandbox: "memory", name: "a", id: "x" });
  const two = await init({ model, store, sandbox: "memory", name: "a", id: "x" });
  try {
    const first = (await one.session("s")).prompt("first");
    const second = (await two.session("s")).prompt("second");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(order, ["start first"]);
    release();
    await first;
    await second;
    assert.deepEqual(order, ["start first", "end first", "start second", "end second"]);
    assert.deepEqual(seen[1], ["first", "reply to first", "second"]);
    const contents = (await store.load({ agent: "a", instanceId: "x", session: "s" })).map((entry) =>
      entry.message.content
    );
    assert.deepEqual(contents, ["first", "reply to first", "second", "reply to second"]);
  } finally {
    await one.close();
    await two.close();
  }
});

Deno.test("init() refuses a custom tool that takes a built-in name, or two tools with one name", async () => {
  const shadow = defineTool({ name: "read", description: "Not the real read", input: z.object({}), run: () => "x" });
  await assert.rejects(init({ ...base, model: "test", tools: [shadow] }), /Tool name "read" is reserved/);
  const ping = defineTool({ name: "ping", description: "Ping", input: z.object({}), run: () => "pong" });
  await assert.rejects(init({ ...base, model: "test", tools: [ping, ping] }), /Tool name "ping" is used twice/);
});

Deno.test("await using a session cancels what it runs at the end of the block and keeps its history", async () => {
  const started = Promise.withResolvers<void>();
  const model = new FunctionModel(async (request) => {
    if (lastUserText(request) === "slow") {
      started.resolve();
      await new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason)));
    }
    return `reply to ${lastUserText(request)}`;
  });
  const agent = await init({ ...base, model });
  try {
    let slow: Promise<unknown> | undefined;
    {
      await using session = await agent.session("scoped");
      assert.equal((await session.prompt("fast")).text, "reply to fast");
      slow = session.prompt("slow").then(() => "finished", (error) => error);
      await started.promise;
    }
    const outcome = await slow;
    assert.ok(outcome instanceof AbortError, `the running prompt was cancelled, got ${outcome}`);
    const again = await agent.session("scoped");
    const texts = (await again.history()).map((entry) => JSON.stringify(entry));
    assert.ok(texts.some((text) => text.includes("reply to fast")), "the stored history stays");
  } finally {
    await agent.close();
  }
});
