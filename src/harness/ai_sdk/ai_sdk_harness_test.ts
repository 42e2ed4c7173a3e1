import assert from "node:assert/strict";
import {
  APICallError,
  type LanguageModelV4Prompt,
  type LanguageModelV4StreamPart,
  type LanguageModelV4Usage,
} from "@ai-sdk/provider";
import { convertArrayToReadableStream, MockLanguageModelV3, MockLanguageModelV4 } from "ai/test";
import { z } from "zod";
import { init } from "../../agent/init.ts";
import { AbortError, ModelError } from "../../errors.ts";
import type { EventPayload } from "../../events/event_types.ts";
import type { Message } from "../../model/message.ts";
import { defineTool } from "../../tools/tool.ts";
import type { HarnessRequest } from "../harness.ts";
import { AiSdkHarness } from "./ai_sdk_harness.ts";
import { aiSdkModel } from "./ai_sdk_model.ts";

const add = defineTool({
  name: "add",
  description: "Adds two numbers",
  input: z.object({ a: z.number(), b: z.number() }),
  run: ({ a, b }) => String(a + b),
});

function usage(input: number, output: number): LanguageModelV4Usage {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  };
}

function streamOf(parts: LanguageModelV4StreamPart[]) {
  return { stream: convertArrayToReadableStream(parts) };
}

const toolStep = () =>
  streamOf([
    { type: "stream-start", warnings: [] },
    { type: "response-metadata", modelId: "mock-1" },
    { type: "reasoning-start", id: "r" },
    { type: "reasoning-delta", id: "r", delta: "they want a sum" },
    { type: "reasoning-end", id: "r" },
    { type: "text-start", id: "t" },
    { type: "text-delta", id: "t", delta: "Let me " },
    { type: "text-delta", id: "t", delta: "add" },
    { type: "text-end", id: "t" },
    { type: "tool-call", toolCallId: "c1", toolName: "add", input: '{"a":1,"b":2}' },
    { type: "finish", usage: usage(7, 3), finishReason: { unified: "tool-calls", raw: "tool_calls" } },
  ]);
const textStep = () =>
  streamOf([
    { type: "text-start", id: "t" },
    { type: "text-delta", id: "t", delta: "It is 3" },
    { type: "text-end", id: "t" },
    { type: "finish", usage: usage(11, 1), finishReason: { unified: "stop", raw: "stop" } },
  ]);

function toolResultsOf(prompt: LanguageModelV4Prompt) {
  return prompt.flatMap((message) =>
    message.role === "tool"
      ? message.content.flatMap((part) =>
        part.type === "tool-result" ? [{ toolCallId: part.toolCallId, output: part.output }] : []
      )
      : []
  );
}

function requestFor(overrides: Partial<HarnessRequest> & Pick<HarnessRequest, "model">) {
  const events: EventPayload[] = [];
  const commits: (readonly Message[])[] = [];
  const request: HarnessRequest = {
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "add 1 and 2" }],
    tools: [add as never],
    maxTurns: 5,
    signal: new AbortController().signal,
    emit: (event) => events.push(event),
    commit: (messages) => {
      commits.push(messages);
      return Promise.resolve();
    },
    ...overrides,
  };
  return { request, events, commits };
}

Deno.test("AiSdkHarness turns a mock model's steps into Flue turns, events and commits", async () => {
  const mock = new MockLanguageModelV4({ modelId: "mock", doStream: [toolStep(), textStep()] });
  const { request, events, commits } = requestFor({ model: aiSdkModel(mock) });
  const result = await new AiSdkHarness().run(request);

  assert.deepEqual(result, {
    text: "It is 3",
    usage: { inputTokens: 18, outputTokens: 4, totalTokens: 22 },
    model: "mock-1",
    turns: 2,
  });
  assert.deepEqual(events.map((event) => event.type), [
    "turn_start",
    "thinking_delta",
    "text_delta",
    "text_delta",
    "turn",
    "tool_start",
    "tool_end",
    "turn_start",
    "text_delta",
    "turn",
  ]);
  const turn = events.find((event) => event.type === "turn");
  assert.ok(turn?.type === "turn");
  assert.deepEqual([turn.model, turn.stopReason, turn.usage.totalTokens], ["mock-1", "tool_calls", 10]);
  assert.deepEqual(commits, [
    [
      { role: "assistant", content: "Let me add", toolCalls: [{ id: "c1", name: "add", arguments: '{"a":1,"b":2}' }] },
      { role: "tool", toolCallId: "c1", name: "add", content: "3" },
    ],
    [{ role: "assistant", content: "It is 3" }],
  ]);

  const [first, second] = mock.doStreamCalls;
  assert.deepEqual(first.prompt[0], { role: "system", content: "Be brief." });
  const tool = first.tools?.find((entry) => entry.name === "add");
  assert.ok(tool?.type === "function");
  assert.deepEqual(Object.keys((tool.inputSchema as { properties: object }).properties), ["a", "b"]);
  assert.deepEqual(toolResultsOf(second.prompt), [{ toolCallId: "c1", output: { type: "text", value: "3" } }]);
});

Deno.test("AiSdkHarness sends a response format and the thinking level to the model", async () => {
  const mock = new MockLanguageModelV4({ doStream: [textStep()] });
  const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] };
  const { request } = requestFor({
    model: aiSdkModel(mock),
    responseFormat: { name: "result", schema },
    thinkingLevel: "high",
  });
  await new AiSdkHarness().run(request);
  const call = mock.doStreamCalls[0];
  assert.equal(call.responseFormat?.type, "json");
  assert.ok(call.responseFormat?.type === "json");
  assert.equal(call.responseFormat.name, "result");
  assert.deepEqual((call.responseFormat.schema as { required: string[] }).required, ["answer"]);
  assert.equal(call.reasoning, "high");
});

Deno.test("AiSdkHarness reports a provider failure as ModelError and commits nothing", async () => {
  const mock = new MockLanguageModelV4({
    doStream: () => {
      throw new APICallError({
        message: "Invalid model parameter",
        url: "https://api.example/v1/chat",
        requestBodyValues: {},
        statusCode: 400,
        isRetryable: false,
      });
    },
  });
  const { request, events, commits } = requestFor({ model: aiSdkModel(mock) });
  const error = await new AiSdkHarness().run(request).then(() => assert.fail("expected a failure"), (error) => error);
  assert.ok(error instanceof ModelError, String(error));
  assert.equal(error.status, 400);
  assert.equal(error.isRetryable, false);
  assert.match(error.message, /answered 400: Invalid model parameter/);
  assert.equal(mock.doStreamCalls.length, 1, "a 400 is not retried");
  assert.deepEqual(commits, []);
  assert.deepEqual(events.map((event) => event.type), ["turn_start"]);
});

Deno.test("AiSdkHarness passes the abort signal to the model and ends with AbortError", async () => {
  const controller = new AbortController();
  const mock = new MockLanguageModelV4({
    doStream: ({ abortSignal }) =>
      Promise.resolve({
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          start(stream) {
            stream.enqueue({ type: "text-start", id: "t" });
            stream.enqueue({ type: "text-delta", id: "t", delta: "thinking about it" });
            abortSignal?.addEventListener("abort", () => stream.error(abortSignal.reason), { once: true });
          },
        }),
      }),
  });
  const { request, events, commits } = requestFor({ model: aiSdkModel(mock), signal: controller.signal });
  const run = new AiSdkHarness().run(request);
  while (!events.some((event) => event.type === "text_delta")) await new Promise((resolve) => setTimeout(resolve, 1));
  controller.abort("stop");
  await assert.rejects(run, AbortError);
  assert.ok(mock.doStreamCalls[0].abortSignal?.aborted);
  assert.deepEqual(commits, []);
});

Deno.test("a specification v3 mock model runs under the ai-sdk harness too", async () => {
  const mock = new MockLanguageModelV3({
    doStream: {
      stream: convertArrayToReadableStream([
        { type: "text-start", id: "t" },
        { type: "text-delta", id: "t", delta: "from v3" },
        { type: "text-end", id: "t" },
        { type: "finish", usage: usage(2, 2), finishReason: { unified: "stop", raw: "stop" } },
      ]),
    },
  });
  const agent = await init({ harness: "ai-sdk", model: aiSdkModel(mock), store: "memory", sandbox: "memory" });
  try {
    const response = await (await agent.session()).prompt("hi");
    assert.deepEqual([response.text, response.usage.totalTokens], ["from v3", 4]);
  } finally {
    await agent.close();
  }
});

Deno.test("aiSdkModel() runs under the flue harness, one AI SDK call per turn", async () => {
  const mock = new MockLanguageModelV4({ modelId: "mock", doStream: [toolStep(), textStep()] });
  const agent = await init({ model: aiSdkModel(mock), tools: [add], store: "memory", sandbox: "memory" });
  try {
    const session = await agent.session();
    const response = await session.prompt("add 1 and 2");
    assert.deepEqual([response.text, response.model, response.usage.totalTokens], ["It is 3", "mock", 22]);
    assert.deepEqual(toolResultsOf(mock.doStreamCalls[1].prompt), [
      { toolCallId: "c1", output: { type: "text", value: "3" } },
    ]);
    assert.equal((await session.history()).length, 4);
  } finally {
    await agent.close();
  }
});

Deno.test("aiSdkModel() refuses a value that is not an AI SDK language model", () => {
  assert.throws(() => aiSdkModel({ modelId: "x" } as never), /Invalid AI SDK model: expected a language model/);
  assert.throws(() => aiSdkModel("openai:gpt-5" as never), /Invalid AI SDK model/);
});
