import { deepStrictEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { AbortError, ModelError } from "../../errors.ts";
import { type FakeOpenAIServer, startFakeOpenAI } from "../../testing/fake_openai.ts";
import type { ModelRequest } from "../chat_model.ts";
import { OpenAIChatModel, type OpenAIChatModelOptions } from "./openai_chat_model.ts";
import { sleep } from "../retry.ts";

/** A sleep that records each wait and returns at once, still honouring abort. */
function recordingSleep(waits: number[]): (ms: number, signal: AbortSignal) => Promise<void> {
  return (ms, signal) => {
    waits.push(ms);
    return signal.aborted ? Promise.reject(new AbortError()) : Promise.resolve();
  };
}

function modelFor(server: FakeOpenAIServer, options: Partial<OpenAIChatModelOptions> = {}): OpenAIChatModel {
  return new OpenAIChatModel({
    provider: "fake",
    model: "fake-model",
    baseURL: server.url,
    apiKey: "sk-test",
    apiKeyEnv: "FAKE_API_KEY",
    sleep: recordingSleep([]),
    ...options,
  });
}

function requestOf(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }],
    tools: [],
    signal: new AbortController().signal,
    ...overrides,
  };
}

function bodyOf(server: FakeOpenAIServer, index = 0): Record<string, unknown> {
  return server.requests[index].body as Record<string, unknown>;
}

Deno.test("OpenAIChatModel streams text to onTextDelta in several deltas", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "Hello from the fake model" }] });
  const deltas: string[] = [];
  const reply = await modelFor(server).complete(requestOf({ onTextDelta: (text) => deltas.push(text) }));
  ok(deltas.length >= 3, `expected several deltas, got ${deltas.length}`);
  equal(deltas.join(""), "Hello from the fake model");
  deepStrictEqual([reply.text, reply.toolCalls, reply.stopReason, reply.model], [
    "Hello from the fake model",
    [],
    "stop",
    "fake-model",
  ]);
  const body = bodyOf(server);
  deepStrictEqual([body.stream, body.stream_options, body.model], [true, { include_usage: true }, "fake-model"]);
  equal("tools" in body, false);
});

Deno.test("OpenAIChatModel maps streamed usage", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "Hi", usage: { inputTokens: 12, outputTokens: 5 } }] });
  const reply = await modelFor(server).complete(requestOf());
  deepStrictEqual(reply.usage, { inputTokens: 12, outputTokens: 5, totalTokens: 17 });
});

Deno.test("OpenAIChatModel assembles several tool calls of one turn from streamed pieces", async () => {
  await using server = startFakeOpenAI({
    steps: [{
      toolCalls: [
        { name: "read", arguments: { path: "src/main.ts" }, id: "call_a" },
        { name: "grep", arguments: '{"pattern":"TODO","glob":"**/*.ts"}', id: "call_b" },
        { name: "glob", arguments: {} },
      ],
    }],
  });
  const reply = await modelFor(server).complete(requestOf({
    tools: [{ name: "read", description: "Reads a file", parameters: { type: "object" } }],
  }));
  equal(reply.stopReason, "tool_calls");
  equal(reply.toolCalls.length, 3);
  deepStrictEqual(reply.toolCalls.slice(0, 2), [
    { id: "call_a", name: "read", arguments: '{"path":"src/main.ts"}' },
    { id: "call_b", name: "grep", arguments: '{"pattern":"TODO","glob":"**/*.ts"}' },
  ]);
  deepStrictEqual([reply.toolCalls[2].name, reply.toolCalls[2].arguments], ["glob", "{}"]);
  deepStrictEqual(bodyOf(server).tools, [{
    type: "function",
    function: { name: "read", description: "Reads a file", parameters: { type: "object" } },
  }]);
});

Deno.test("OpenAIChatModel streams reasoning to onThinkingDelta apart from the text", async () => {
  await using server = startFakeOpenAI({ steps: [{ reasoning: "Let me think about it", text: "Answer" }] });
  const thinking: string[] = [];
  const text: string[] = [];
  const reply = await modelFor(server).complete(requestOf({
    onThinkingDelta: (piece) => thinking.push(piece),
    onTextDelta: (piece) => text.push(piece),
  }));
  equal(thinking.join(""), "Let me think about it");
  equal(text.join(""), "Answer");
  equal(reply.text, "Answer");
});

Deno.test("OpenAIChatModel asks for the whole reply when streaming is off", async () => {
  await using server = startFakeOpenAI({
    steps: [{
      text: "Whole reply",
      toolCalls: [{ name: "read", arguments: { path: "a" }, id: "call_1" }],
      usage: { inputTokens: 3, outputTokens: 4 },
    }],
  });
  const deltas: string[] = [];
  const reply = await modelFor(server, { stream: false }).complete(
    requestOf({ onTextDelta: (text) => deltas.push(text) }),
  );
  deepStrictEqual(reply, {
    text: "Whole reply",
    toolCalls: [{ id: "call_1", name: "read", arguments: '{"path":"a"}' }],
    usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
    stopReason: "tool_calls",
    model: "fake-model",
  });
  deepStrictEqual(deltas, ["Whole reply"]);
  equal(bodyOf(server).stream, false);
  equal("stream_options" in bodyOf(server), false);
});

Deno.test("OpenAIChatModel maps messages: assistant tool calls and tool results with their call id", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "ok" }] });
  await modelFor(server).complete(requestOf({
    messages: [
      { role: "system", content: "sys" },
      { role: "user", content: "read a" },
      { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "read", arguments: '{"path":"a"}' }] },
      { role: "tool", toolCallId: "call_1", name: "read", content: "contents of a" },
      { role: "assistant", content: "Read it." },
    ],
  }));
  deepStrictEqual(bodyOf(server).messages, [
    { role: "system", content: "sys" },
    { role: "user", content: "read a" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_1", type: "function", function: { name: "read", arguments: '{"path":"a"}' } }],
    },
    { role: "tool", tool_call_id: "call_1", content: "contents of a" },
    { role: "assistant", content: "Read it." },
  ]);
});

Deno.test("OpenAIChatModel honours retry-after on a 429 before retrying", async () => {
  await using server = startFakeOpenAI({ steps: [{ status: 429, retryAfter: 2 }, { text: "after the wait" }] });
  const waits: number[] = [];
  const reply = await modelFor(server, { sleep: recordingSleep(waits) }).complete(requestOf());
  equal(reply.text, "after the wait");
  deepStrictEqual(waits, [2000]);
  equal(server.requests.length, 2);
});

Deno.test("OpenAIChatModel honours retry-after-ms on a 429", async () => {
  await using server = startFakeOpenAI({ steps: [{ status: 429, retryAfterMs: 750 }, { text: "ok" }] });
  const waits: number[] = [];
  await modelFor(server, { sleep: recordingSleep(waits) }).complete(requestOf());
  deepStrictEqual(waits, [750]);
});

Deno.test("OpenAIChatModel retries a 500 with jittered backoff, then succeeds", async () => {
  await using server = startFakeOpenAI({ steps: [{ status: 500 }, { status: 502 }, { text: "recovered" }] });
  const waits: number[] = [];
  const model = modelFor(server, { sleep: recordingSleep(waits), random: () => 0.5, baseDelayMs: 100 });
  equal((await model.complete(requestOf())).text, "recovered");
  deepStrictEqual(waits, [50, 100]);
  equal(server.requests.length, 3);
});

Deno.test("OpenAIChatModel retries a malformed streamed reply, then succeeds", async () => {
  await using server = startFakeOpenAI({ steps: [{ malformed: true }, { text: "fine now" }] });
  const deltas: string[] = [];
  const reply = await modelFor(server).complete(requestOf({ onTextDelta: (text) => deltas.push(text) }));
  equal(reply.text, "fine now");
  equal(deltas.join(""), "fine now");
  equal(server.requests.length, 2);
});

Deno.test("OpenAIChatModel retries a malformed whole reply, then succeeds", async () => {
  await using server = startFakeOpenAI({ steps: [{ malformed: true }, { text: "fine now" }] });
  equal((await modelFor(server, { stream: false }).complete(requestOf())).text, "fine now");
  equal(server.requests.length, 2);
});

Deno.test("OpenAIChatModel retries a stream that ends before the model finished", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "cut", cutAfterChunks: 1 }, { text: "whole" }] });
  equal((await modelFor(server).complete(requestOf())).text, "whole");
  equal(server.requests.length, 2);
});

Deno.test("OpenAIChatModel gives a retryable ModelError once the retries run out", async () => {
  await using server = startFakeOpenAI({ steps: [{ status: 503 }, { status: 503 }, { status: 503 }] });
  const waits: number[] = [];
  await rejects(modelFor(server, { maxRetries: 2, sleep: recordingSleep(waits) }).complete(requestOf()), (error) => {
    ok(error instanceof ModelError);
    deepStrictEqual([error.status, error.isRetryable, error.provider], [503, true, "fake"]);
    ok(error.message.startsWith(`The provider "fake" failed with status 503`), error.message);
    return true;
  });
  equal(server.requests.length, 3);
  equal(waits.length, 2);
});

Deno.test("OpenAIChatModel gives a final ModelError on 401 that names the key variable", async () => {
  await using server = startFakeOpenAI({ requireApiKey: "sk-right", steps: [{ text: "never" }] });
  await rejects(modelFor(server).complete(requestOf()), (error) => {
    ok(error instanceof ModelError);
    deepStrictEqual([error.status, error.isRetryable], [401, false]);
    ok(error.message.includes("rejected the API key from FAKE_API_KEY (401)"), error.message);
    return true;
  });
  equal(server.requests.length, 1);
});

Deno.test("OpenAIChatModel never retries 400, 403, 404 or 422", async () => {
  for (const status of [400, 403, 404, 422]) {
    await using server = startFakeOpenAI({ steps: [{ status, message: "nope" }, { text: "never" }] });
    await rejects(modelFor(server).complete(requestOf()), (error) => {
      ok(error instanceof ModelError);
      deepStrictEqual([error.status, error.isRetryable], [status, false]);
      ok(error.message.endsWith(": nope"), error.message);
      return true;
    });
    equal(server.requests.length, 1, `status ${status}`);
  }
});

Deno.test("OpenAIChatModel does not retry a 429 for an exhausted quota", async () => {
  await using server = startFakeOpenAI({ steps: [{ status: 429, code: "insufficient_quota" }, { text: "never" }] });
  await rejects(modelFor(server).complete(requestOf()), { name: "ModelError", message: /out of quota/ });
  equal(server.requests.length, 1);
});

Deno.test("OpenAIChatModel turns a slow response into a retryable timeout ModelError", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "too late", delayMs: 30_000 }] });
  await rejects(modelFor(server, { timeoutMs: 50, maxRetries: 0 }).complete(requestOf()), (error) => {
    ok(error instanceof ModelError);
    equal(error.isRetryable, true);
    ok(error.message.includes("did not answer within 50 ms"), error.message);
    return true;
  });
});

Deno.test("OpenAIChatModel retries after a timeout and takes the next answer", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "too late", delayMs: 30_000 }, { text: "quick" }] });
  equal((await modelFor(server, { timeoutMs: 500 }).complete(requestOf())).text, "quick");
  equal(server.requests.length, 2);
});

Deno.test("OpenAIChatModel times out a stream that stalls between chunks", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "one two three", chunkDelayMs: 30_000 }] });
  await rejects(modelFor(server, { timeoutMs: 50, maxRetries: 0 }).complete(requestOf()), {
    name: "ModelError",
    message: /did not answer within 50 ms/,
  });
});

Deno.test("OpenAIChatModel does not retry once text has reached the caller", async () => {
  await using server = startFakeOpenAI({
    steps: [{ text: "partial text here", cutAfterChunks: 3 }, { text: "never" }],
  });
  const deltas: string[] = [];
  await rejects(modelFor(server).complete(requestOf({ onTextDelta: (text) => deltas.push(text) })), (error) => {
    ok(error instanceof ModelError);
    ok(error.message.includes("not retried: part of the reply had already streamed"), error.message);
    return true;
  });
  ok(deltas.length > 0);
  equal(server.requests.length, 1);
});

Deno.test("OpenAIChatModel rejects with AbortError when aborted during streaming", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "a long answer that keeps going", chunkDelayMs: 20 }] });
  const controller = new AbortController();
  const deltas: string[] = [];
  await rejects(
    modelFor(server).complete(requestOf({
      signal: controller.signal,
      onTextDelta: (text) => {
        deltas.push(text);
        controller.abort("user stopped");
      },
    })),
    (error) => error instanceof AbortError && error.reason === "user stopped",
  );
  equal(deltas.length, 1);
  equal(server.requests.length, 1);
});

Deno.test("OpenAIChatModel rejects with AbortError when aborted during a backoff wait", async () => {
  await using server = startFakeOpenAI({ steps: [{ status: 429, retryAfter: 30 }, { text: "never" }] });
  const controller = new AbortController();
  const waiting = Promise.withResolvers<number>();
  const model = modelFor(server, {
    sleep: (ms, signal) => {
      waiting.resolve(ms);
      return sleep(ms, signal);
    },
  });
  const call = model.complete(requestOf({ signal: controller.signal }));
  equal(await waiting.promise, 30_000);
  controller.abort();
  await rejects(call, AbortError);
  equal(server.requests.length, 1);
});

Deno.test("OpenAIChatModel rejects an already aborted call without a request", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "never" }] });
  const controller = new AbortController();
  controller.abort();
  await rejects(modelFor(server).complete(requestOf({ signal: controller.signal })), AbortError);
  equal(server.requests.length, 0);
});

Deno.test("OpenAIChatModel passes an error thrown by a callback through unchanged", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "one two" }, { text: "never" }] });
  const failure = new Error("callback broke");
  await rejects(
    modelFor(server).complete(requestOf({
      onTextDelta: () => {
        throw failure;
      },
    })),
    (error) => error === failure,
  );
  equal(server.requests.length, 1);
});

Deno.test("OpenAIChatModel sends configured headers, and no Authorization without a key", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "a" }, { text: "b" }] });
  await modelFor(server, { headers: { "X-Title": "Flue", "HTTP-Referer": "https://flue.dev" } }).complete(requestOf());
  const keyed = server.requests[0].headers;
  deepStrictEqual([keyed["x-title"], keyed["http-referer"], keyed.authorization], [
    "Flue",
    "https://flue.dev",
    "Bearer sk-test",
  ]);
  ok(!("openai-organization" in keyed) && !("openai-project" in keyed));
  await modelFor(server, { apiKey: undefined, apiKeyEnv: undefined }).complete(requestOf());
  equal(server.requests[1].headers.authorization, undefined);
});

Deno.test("OpenAIChatModel sends reasoning_effort only where the model takes it", async () => {
  const cases: {
    model: string;
    reasoning?: "reasoning_effort" | "none";
    level: ModelRequest["thinkingLevel"];
    sent: unknown;
  }[] = [
    { model: "gpt-5.5", level: "high", sent: "high" },
    { model: "gpt-5.5", level: "off", sent: "none" },
    { model: "gpt-5-mini", level: "off", sent: undefined },
    { model: "gpt-5", level: "xhigh", sent: "high" },
    { model: "o3", level: "minimal", sent: "low" },
    { model: "openai/o4-mini", level: "medium", sent: "medium" },
    { model: "llama3.2", level: "high", sent: undefined },
    { model: "gpt-5.5", level: undefined, sent: undefined },
    { model: "gpt-5.5", reasoning: "none", level: "high", sent: undefined },
    { model: "qwen3", reasoning: "reasoning_effort", level: "low", sent: "low" },
    { model: "qwen3", reasoning: "reasoning_effort", level: "off", sent: "none" },
  ];
  await using server = startFakeOpenAI({ handler: () => ({ text: "ok" }) });
  for (const [index, { model, reasoning, level, sent }] of cases.entries()) {
    await modelFor(server, { model, reasoning }).complete(requestOf({ thinkingLevel: level }));
    equal(bodyOf(server, index).reasoning_effort, sent, `${model} ${reasoning ?? ""} ${level}`);
  }
});

Deno.test("OpenAIChatModel sends response_format only when the model supports structured output", async () => {
  await using server = startFakeOpenAI({ handler: () => ({ text: "{}" }) });
  const responseFormat = { name: "summary", schema: { type: "object", properties: { ok: { type: "boolean" } } } };
  const supporting = modelFor(server, { supportsStructuredOutput: true });
  equal(supporting.supportsStructuredOutput, true);
  await supporting.complete(requestOf({ responseFormat }));
  deepStrictEqual(bodyOf(server, 0).response_format, {
    type: "json_schema",
    json_schema: { name: "summary", schema: responseFormat.schema, strict: false },
  });
  const plain = modelFor(server);
  equal(plain.supportsStructuredOutput, false);
  await plain.complete(requestOf({ responseFormat }));
  equal("response_format" in bodyOf(server, 1), false);
});

Deno.test("OpenAIChatModel reports a connection failure as a retryable ModelError naming the URL", async () => {
  const server = startFakeOpenAI();
  const baseURL = server.url;
  await server.close();
  const model = new OpenAIChatModel({
    provider: "gone",
    model: "m",
    baseURL,
    maxRetries: 1,
    sleep: recordingSleep([]),
  });
  await rejects(model.complete(requestOf()), (error) => {
    ok(error instanceof ModelError);
    equal(error.isRetryable, true);
    ok(error.message.startsWith(`Could not reach provider "gone" at ${baseURL}`), error.message);
    return true;
  });
});

Deno.test("OpenAIChatModel rejects invalid options", () => {
  const base = { provider: "fake", model: "m", baseURL: "http://127.0.0.1:1/v1" };
  throws(() => new OpenAIChatModel({ ...base, model: " " }), { name: "TypeError", message: /Invalid model " "/ });
  throws(() => new OpenAIChatModel({ ...base, provider: "Bad Name" }), { message: /Invalid provider name/ });
  throws(() => new OpenAIChatModel({ ...base, baseURL: "ftp://x" }), { message: /use an http or https URL/ });
  throws(() => new OpenAIChatModel({ ...base, timeoutMs: 0 }), { name: "RangeError", message: /Invalid timeoutMs 0/ });
  throws(() => new OpenAIChatModel({ ...base, maxRetries: 1.5 }), {
    name: "RangeError",
    message: /Invalid maxRetries/,
  });
  equal(new OpenAIChatModel(base).id, "fake:m");
});
