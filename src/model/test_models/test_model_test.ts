import assert from "node:assert/strict";
import { z } from "zod";
import { AbortError } from "../../errors.ts";
import type { ModelRequest, ToolSchema } from "../chat_model.ts";
import type { Message } from "../message.ts";
import { TestModel } from "./test_model.ts";
import { createModel } from "../create_model.ts";

function request(messages: Message[], extra: Partial<ModelRequest> = {}): ModelRequest {
  return { messages, tools: [], signal: new AbortController().signal, ...extra };
}

function toolSchema(name: string, input: z.ZodType): ToolSchema {
  return {
    name,
    description: `The ${name} tool`,
    parameters: z.toJSONSchema(input, { target: "draft-7", io: "input" }),
  };
}

const user = (content: string): Message => ({ role: "user", content });

Deno.test("TestModel answers script steps in order, with generated tool call ids", async () => {
  const model = new TestModel({
    script: [
      "First reply",
      {
        toolCalls: [{ name: "read", args: { path: "a.md" } }, { name: "grep", args: "{not json", id: "mine" }, {
          name: "ls",
        }],
      },
      { text: "Both", toolCalls: [{ name: "read" }] },
    ],
  });
  assert.equal(model.stepsRemaining, 3);
  const first = await model.complete(request([user("one")]));
  assert.deepEqual(first, {
    text: "First reply",
    toolCalls: [],
    usage: { inputTokens: 1, outputTokens: 3, totalTokens: 4 },
    stopReason: "stop",
    model: "test",
  });
  const second = await model.complete(request([user("two")]));
  assert.deepEqual(second.toolCalls, [
    { id: "call_1", name: "read", arguments: '{"path":"a.md"}' },
    { id: "mine", name: "grep", arguments: "{not json" },
    { id: "call_2", name: "ls", arguments: "{}" },
  ]);
  assert.equal(second.text, "");
  assert.equal(second.stopReason, "tool_calls");
  const third = await model.complete(request([user("three")]));
  assert.equal(third.text, "Both");
  assert.deepEqual(third.toolCalls, [{ id: "call_3", name: "read", arguments: "{}" }]);
  assert.equal(model.stepsRemaining, 0);
  assert.deepEqual(model.calls.map((call) => call.messages[0].content), ["one", "two", "three"]);
});

Deno.test("TestModel throws when its script runs out, saying how many steps there were", async () => {
  const model = new TestModel({ script: ["a", "b"] });
  await model.complete(request([user("1")]));
  await model.complete(request([user("2")]));
  await assert.rejects(model.complete(request([user("3")])), {
    name: "Error",
    message: "TestModel script has 2 step(s), all used, and call 3 asked for another: add a step to the script",
  });
  assert.equal(model.calls.length, 3);
});

Deno.test("TestModel throws a scripted error and moves on to the next step", async () => {
  const failure = new Error("provider down");
  const model = new TestModel({ script: [{ error: failure }, "recovered"] });
  await assert.rejects(model.complete(request([user("x")])), (error) => error === failure);
  assert.equal((await model.complete(request([user("x")]))).text, "recovered");
});

Deno.test("TestModel rejects a malformed script step, naming it", () => {
  assert.throws(() => new TestModel({ script: ["ok", 42 as unknown as string] }), {
    name: "TypeError",
    message: "Invalid TestModel script step 2: expected a string or { text, toolCalls }, got number 42",
  });
  assert.throws(
    () => new TestModel({ script: [{ toolCalls: [{ name: "" }] }] }),
    /Invalid TestModel script step 1, tool call 1: "name" must be a non-empty string/,
  );
  assert.throws(() => new TestModel({ script: [{ error: "boom" as unknown as Error }] }), /"error" must be an Error/);
});

Deno.test("TestModel without a script echoes the start of the newest user message", async () => {
  const model = new TestModel();
  assert.equal(model.stepsRemaining, Infinity);
  const long = "word ".repeat(30);
  const reply = await model.complete(request([{ role: "system", content: "Be brief" }, user("old"), user(long)]));
  assert.equal(reply.text, `Test reply to: "${long.slice(0, 80)}"`);
});

Deno.test("TestModel without a script calls the tools the prompt names, with schema-valid arguments", async () => {
  const weatherInput = z.object({ city: z.string(), days: z.int().min(1).max(7), unit: z.enum(["c", "f"]).optional() });
  const writeInput = z.object({ path: z.string(), content: z.string().min(1), overwrite: z.boolean() });
  const bashInput = z.object({ command: z.string() });
  const tools = [toolSchema("bash", bashInput), toolSchema("write", writeInput), toolSchema("weather", weatherInput)];
  const model = new TestModel();
  const reply = await model.complete(
    request([user('Check the Weather for "Lisbon", then write a note about it.')], { tools }),
  );
  assert.equal(reply.text, "");
  assert.equal(reply.stopReason, "tool_calls");
  assert.deepEqual(reply.toolCalls.map((call) => [call.id, call.name]), [["call_1", "weather"], ["call_2", "write"]]);
  const weatherArgs = weatherInput.parse(JSON.parse(reply.toolCalls[0].arguments));
  assert.equal(weatherArgs.city, "Lisbon");
  const writeArgs = writeInput.parse(JSON.parse(reply.toolCalls[1].arguments));
  assert.equal(writeArgs.path, "example.txt");
});

Deno.test("TestModel without a script summarises tool results and then stops calling tools", async () => {
  const tools = [toolSchema("weather", z.object({ city: z.string() }))];
  const model = new TestModel();
  const reply = await model.complete(request([
    user("Use weather please"),
    { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "weather", arguments: '{"city":"Paris"}' }] },
    { role: "tool", toolCallId: "call_1", name: "weather", content: "Sunny, 21 C" },
  ], { tools }));
  assert.deepEqual(reply.toolCalls, []);
  assert.equal(reply.text, "Tool results: weather returned: Sunny, 21 C");
  const failed = await model.complete(request([
    user("weather"),
    { role: "assistant", content: "", toolCalls: [{ id: "call_9", name: "weather", arguments: "{}" }] },
    { role: "tool", toolCallId: "call_9", name: "weather", content: "city is required", isError: true },
  ], { tools }));
  assert.equal(failed.text, "Tool results: weather failed: city is required");
});

Deno.test("TestModel without a script answers responseFormat with JSON valid for the schema", async () => {
  const schema = z.object({
    title: z.string().min(3),
    score: z.number().min(0).max(10),
    tags: z.array(z.enum(["bug", "feature"])).min(2),
    reviewer: z.object({ email: z.email(), site: z.url().nullable() }),
    due: z.iso.date().optional(),
  });
  const model = new TestModel();
  const jsonSchema = z.toJSONSchema(schema, { target: "draft-7", io: "input" });
  const reply = await model.complete(
    request([user("Rate it")], { responseFormat: { name: "result", schema: jsonSchema } }),
  );
  const data = schema.parse(JSON.parse(reply.text));
  assert.deepEqual(data.tags, ["bug", "feature"]);
  const again = await model.complete(
    request([user("Rate it")], { responseFormat: { name: "result", schema: jsonSchema } }),
  );
  assert.equal(again.text, reply.text);
});

Deno.test("TestModel calls named tools before answering responseFormat", async () => {
  const tools = [toolSchema("lookup", z.object({ query: z.string() }))];
  const responseFormat = {
    name: "result",
    schema: z.toJSONSchema(z.object({ ok: z.boolean() }), { target: "draft-7" }),
  };
  const model = new TestModel();
  const first = await model.complete(request([user("lookup the answer")], { tools, responseFormat }));
  assert.deepEqual(first.toolCalls.map((call) => call.name), ["lookup"]);
  const second = await model.complete(request([
    user("lookup the answer"),
    { role: "assistant", content: "", toolCalls: first.toolCalls },
    { role: "tool", toolCallId: first.toolCalls[0].id, name: "lookup", content: "42" },
  ], { tools, responseFormat }));
  assert.deepEqual(JSON.parse(second.text), { ok: true });
});

Deno.test("TestModel streams text deltas in word groups before complete() resolves", async () => {
  const model = new TestModel({ script: ["one two three four five six seven"] });
  const deltas: string[] = [];
  let resolved = false;
  const pending = model.complete(request([user("go")], {
    onTextDelta: (text) => {
      assert.equal(resolved, false, "a delta arrived after complete() resolved");
      deltas.push(text);
    },
  })).then((reply) => {
    resolved = true;
    return reply;
  });
  const reply = await pending;
  assert.deepEqual(deltas, ["one two three ", "four five six ", "seven"]);
  assert.equal(deltas.join(""), reply.text);
});

Deno.test("TestModel rejects with AbortError when the signal aborts mid-stream", async () => {
  const controller = new AbortController();
  const model = new TestModel({ script: ["one two three four five six seven", "next"] });
  const deltas: string[] = [];
  const error = await model.complete(request([user("go")], {
    signal: controller.signal,
    onTextDelta: (text) => {
      deltas.push(text);
      if (deltas.length === 1) controller.abort("user stopped");
    },
  })).then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof AbortError);
  assert.equal(error.reason, "user stopped");
  assert.deepEqual(deltas, ["one two three "]);
});

Deno.test("TestModel stops waiting between chunks as soon as the signal aborts", async () => {
  const controller = new AbortController();
  const model = new TestModel({ script: ["one two three four five six seven"] });
  const deltas: string[] = [];
  const pending = model.complete(request([user("go")], {
    signal: controller.signal,
    onTextDelta: (text) => {
      deltas.push(text);
      // Aborts while the model waits for the next chunk, not inside the callback.
      queueMicrotask(() => controller.abort());
    },
  }));
  await assert.rejects(pending, { name: "AbortError", message: /aborted/ });
  assert.deepEqual(deltas, ["one two three "]);
});

Deno.test("TestModel rejects a request without messages, tools or signal", async () => {
  const model = new TestModel({ script: ["a"] });
  await assert.rejects(
    model.complete({ messages: [], tools: [] } as unknown as ModelRequest),
    { name: "TypeError", message: 'Invalid model request: "signal" must be an AbortSignal' },
  );
  assert.equal(model.stepsRemaining, 1);
});

Deno.test("TestModel rejects an already aborted request without using a script step", async () => {
  const controller = new AbortController();
  controller.abort();
  const model = new TestModel({ script: ["kept"] });
  await assert.rejects(model.complete(request([user("go")], { signal: controller.signal })), AbortError);
  assert.equal(model.stepsRemaining, 1);
  assert.equal(model.calls.length, 1);
});

Deno.test("TestModel records a copy of each request that later changes do not reach", async () => {
  const model = new TestModel({ script: ["a"] });
  const messages: Message[] = [user("first")];
  await model.complete(request(messages));
  messages.push(user("second"));
  assert.deepEqual(model.calls[0].messages, [user("first")]);
});

Deno.test("TestModel estimates usage as characters / 4, rounded up", async () => {
  const model = new TestModel({
    script: [{ text: "12345", toolCalls: [{ name: "ab", args: "{}" }] }],
    id: "test:custom",
  });
  const reply = await model.complete(request([{ role: "system", content: "123" }, user("1234567")]));
  assert.deepEqual(reply.usage, { inputTokens: 3, outputTokens: 3, totalTokens: 6 });
  assert.equal(reply.model, "test:custom");
});

Deno.test("TestModel keeps only the most recent recordCalls requests, and none for the built-in test model", async () => {
  const model = new TestModel({ recordCalls: 2 });
  for (const text of ["one", "two", "three"]) {
    await model.complete({
      messages: [{ role: "user", content: text }],
      tools: [],
      signal: new AbortController().signal,
    });
  }
  assert.deepEqual(model.calls.map((call) => call.messages[0].content), ["two", "three"]);
  assert.throws(() => new TestModel({ recordCalls: -1 }), /Invalid TestModel recordCalls -1/);
  const builtIn = createModel("test", { env: {} }) as TestModel;
  await builtIn.complete({
    messages: [{ role: "user", content: "x" }],
    tools: [],
    signal: new AbortController().signal,
  });
  assert.equal(builtIn.calls.length, 0);
});
