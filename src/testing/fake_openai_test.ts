import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { startFakeOpenAI } from "./fake_openai.ts";

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

function dataLines(text: string): string[] {
  return text.split("\n\n").filter((frame) => frame !== "").map((frame) => {
    ok(frame.startsWith("data: "), `frame ${JSON.stringify(frame)} is not a data event`);
    return frame.slice("data: ".length);
  });
}

Deno.test("startFakeOpenAI() listens on 127.0.0.1 and serves GET /v1/models", async () => {
  await using server = startFakeOpenAI({ models: ["a", "b"] });
  match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  equal(server.url, `http://127.0.0.1:${server.port}/v1`);
  const response = await fetch(`${server.url}/models`);
  const body = await response.json();
  deepStrictEqual([response.status, body.object, body.data.map((model: { id: string }) => model.id)], [
    200,
    "list",
    ["a", "b"],
  ]);
});

Deno.test("startFakeOpenAI() streams OpenAI's SSE frames: several text deltas, split tool arguments, usage, [DONE]", async () => {
  await using server = startFakeOpenAI({
    steps: [{ text: "One two three", toolCalls: [{ name: "read", arguments: { path: "a.txt" }, id: "call_x" }] }],
  });
  const response = await post(server.url, {
    model: "m",
    messages: [{ role: "user", content: "hi" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  equal(response.headers.get("content-type"), "text/event-stream");
  const lines = dataLines(await response.text());
  equal(lines.at(-1), "[DONE]");
  const chunks = lines.slice(0, -1).map((line) => JSON.parse(line));
  ok(chunks.every((chunk) => chunk.object === "chat.completion.chunk" && chunk.model === "m" && "usage" in chunk));
  const texts = chunks.flatMap((chunk) =>
    chunk.choices.map((choice: { delta: { content?: string } }) => choice.delta.content)
  )
    .filter((text) => text);
  deepStrictEqual(texts, ["One ", "two ", "three"]);
  const argumentPieces = chunks.flatMap((chunk) => chunk.choices)
    .flatMap((choice: { delta: { tool_calls?: { function: { arguments: string } }[] } }) =>
      choice.delta.tool_calls ?? []
    )
    .map((call: { function: { arguments: string } }) => call.function.arguments).filter((piece: string) => piece);
  ok(argumentPieces.length >= 2, "tool arguments are split across chunks");
  equal(argumentPieces.join(""), JSON.stringify({ path: "a.txt" }));
  const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
  equal(finish.choices[0].finish_reason, "tool_calls");
  const last = chunks.at(-1);
  deepStrictEqual(last.choices, []);
  equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
});

Deno.test("startFakeOpenAI() sends no usage chunk unless asked", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "Hi there" }] });
  const response = await post(server.url, { model: "m", messages: [], stream: true });
  const chunks = dataLines(await response.text()).slice(0, -1).map((line) => JSON.parse(line));
  ok(chunks.every((chunk) => !("usage" in chunk) && chunk.choices.length === 1));
});

Deno.test("startFakeOpenAI() answers a non-streamed request with a chat.completion and given usage", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "Done", usage: { inputTokens: 7, outputTokens: 3 } }] });
  const body = await (await post(server.url, { model: "m", messages: [] })).json();
  equal(body.object, "chat.completion");
  deepStrictEqual(body.choices[0].message, { role: "assistant", content: "Done", refusal: null });
  deepStrictEqual(body.usage, { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
});

Deno.test("startFakeOpenAI() injects failures with OpenAI's error body and retry headers", async () => {
  await using server = startFakeOpenAI({
    steps: [{ status: 429, retryAfter: 2, retryAfterMs: 1500 }, { status: 503 }],
  });
  const limited = await post(server.url, { model: "m", messages: [] });
  deepStrictEqual([limited.status, limited.headers.get("retry-after"), limited.headers.get("retry-after-ms")], [
    429,
    "2",
    "1500",
  ]);
  equal((await limited.json()).error.type, "rate_limit_error");
  const unavailable = await post(server.url, { model: "m", messages: [] });
  equal(unavailable.status, 503);
  equal((await unavailable.json()).error.type, "server_error");
});

Deno.test("startFakeOpenAI() sends broken JSON for a malformed step, streamed or not", async () => {
  await using server = startFakeOpenAI({ steps: [{ malformed: true }, { malformed: true }] });
  const whole = await (await post(server.url, { model: "m", messages: [] })).text();
  let parsed = true;
  try {
    JSON.parse(whole);
  } catch {
    parsed = false;
  }
  equal(parsed, false);
  const streamed = dataLines(await (await post(server.url, { model: "m", messages: [], stream: true })).text());
  equal(streamed.length, 1);
  let chunkParsed = true;
  try {
    JSON.parse(streamed[0]);
  } catch {
    chunkParsed = false;
  }
  equal(chunkParsed, false);
});

Deno.test("startFakeOpenAI() answers 500 saying the script is exhausted when no step is left", async () => {
  await using server = startFakeOpenAI();
  const response = await post(server.url, { model: "m", messages: [] });
  equal(response.status, 500);
  match((await response.json()).error.message, /script is exhausted.*enqueue\(\) more steps or pass a handler/);
});

Deno.test("startFakeOpenAI() uses enqueued steps first, then the handler", async () => {
  await using server = startFakeOpenAI({
    handler: (request) => ({ text: `echo ${(request.body as { model: string }).model}` }),
  });
  server.enqueue({ text: "scripted" });
  const first = await (await post(server.url, { model: "m1", messages: [] })).json();
  const second = await (await post(server.url, { model: "m2", messages: [] })).json();
  deepStrictEqual([first.choices[0].message.content, second.choices[0].message.content], ["scripted", "echo m2"]);
});

Deno.test("startFakeOpenAI() records method, path, headers and parsed body", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "ok" }] });
  await (await post(server.url, { model: "m", messages: [{ role: "user", content: "hi" }] }, { "X-Extra": "yes" })).body
    ?.cancel();
  equal(server.requests.length, 1);
  const [request] = server.requests;
  deepStrictEqual([request.method, request.path, request.headers["x-extra"]], ["POST", "/v1/chat/completions", "yes"]);
  deepStrictEqual(request.body, { model: "m", messages: [{ role: "user", content: "hi" }] });
  ok(request.receivedAt > 0);
});

Deno.test("startFakeOpenAI() answers 401 when the bearer key differs from requireApiKey", async () => {
  await using server = startFakeOpenAI({ requireApiKey: "sk-right", steps: [{ text: "ok" }] });
  const wrong = await post(server.url, { model: "m", messages: [] }, { authorization: "Bearer sk-wrong" });
  equal(wrong.status, 401);
  equal((await wrong.json()).error.code, "invalid_api_key");
  const right = await post(server.url, { model: "m", messages: [] }, { authorization: "Bearer sk-right" });
  equal(right.status, 200);
  await right.body?.cancel();
});

Deno.test("startFakeOpenAI() rejects unknown paths, wrong methods and bodies that are not JSON objects", async () => {
  await using server = startFakeOpenAI();
  const unknown = await fetch(`${server.url}/embeddings`, { method: "POST", body: "{}" });
  equal(unknown.status, 404);
  await unknown.body?.cancel();
  const wrongMethod = await fetch(`${server.url}/chat/completions`);
  equal(wrongMethod.status, 405);
  await wrongMethod.body?.cancel();
  const notJson = await fetch(`${server.url}/chat/completions`, { method: "POST", body: "{oops" });
  equal(notJson.status, 400);
  await notJson.body?.cancel();
});

Deno.test("close() ends a slow answer in progress and can be called twice", async () => {
  const arrived = Promise.withResolvers<void>();
  const server = startFakeOpenAI({
    handler: () => {
      arrived.resolve();
      return { text: "late", delayMs: 60_000 };
    },
  });
  const pending = post(server.url, { model: "m", messages: [] });
  await arrived.promise;
  await Promise.all([server.close(), server.close()]);
  const response = await pending;
  equal(response.status, 503);
  await response.body?.cancel();
});
