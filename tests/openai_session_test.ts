import assert from "node:assert/strict";
import { z } from "zod";
import { AbortError, defineTool, type FlueEvent, init } from "../mod.ts";
import { startFakeOpenAI } from "../testing.ts";

function agentFor(url: string, extra: Record<string, unknown> = {}) {
  return init({
    model: "fake:fake-model",
    providers: { fake: { baseURL: url, apiKeyEnv: "FAKE_KEY", supportsStructuredOutput: true } },
    store: "memory",
    sandbox: "memory",
    ...extra,
  });
}

Deno.test("a session streams text deltas from a real Chat Completions server through the openai SDK", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "one two three four five six seven eight" }] });
  Deno.env.set("FAKE_KEY", "sk-fake");
  const agent = await agentFor(server.url);
  try {
    const events: FlueEvent[] = [];
    const stream = (await agent.session()).stream("count");
    for await (const event of stream) events.push(event);
    const deltas = events.filter((event) => event.type === "text_delta");
    assert.ok(deltas.length >= 2, "several text deltas");
    assert.equal((await stream.result).text, "one two three four five six seven eight");
    const body = server.requests[0].body as { stream: boolean; messages: { role: string }[] };
    assert.equal(body.stream, true);
    assert.equal(server.requests[0].headers.authorization, "Bearer sk-fake");
    assert.deepEqual(body.messages.map((message) => message.role), ["system", "user"]);
  } finally {
    await agent.close();
  }
});

Deno.test("tool calls over HTTP: several per turn, results sent back, usage summed", async () => {
  const add = defineTool({
    name: "add",
    description: "Adds",
    input: z.object({ a: z.number(), b: z.number() }),
    run: ({ a, b }) => String(a + b),
  });
  await using server = startFakeOpenAI({
    steps: [
      {
        toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }, { name: "add", arguments: { a: 3, b: 4 } }],
        usage: { inputTokens: 10, outputTokens: 5 },
      },
      { text: "3 and 7", usage: { inputTokens: 20, outputTokens: 3 } },
    ],
  });
  Deno.env.set("FAKE_KEY", "sk-fake");
  const agent = await agentFor(server.url, { tools: [add] });
  try {
    const response = await (await agent.session()).prompt("add things");
    assert.equal(response.text, "3 and 7");
    assert.deepEqual(response.usage, { inputTokens: 30, outputTokens: 8, totalTokens: 38 });
    const second = server.requests[1].body as { messages: { role: string; content: string }[] };
    assert.deepEqual(second.messages.filter((m) => m.role === "tool").map((m) => m.content), ["3", "7"]);
  } finally {
    await agent.close();
  }
});

Deno.test("a 429 with retry-after is retried and the prompt succeeds", async () => {
  await using server = startFakeOpenAI({ steps: [{ status: 429, retryAfter: 0 }, { status: 500 }, { text: "ok" }] });
  Deno.env.set("FAKE_KEY", "sk-fake");
  const agent = await agentFor(server.url);
  try {
    assert.equal((await (await agent.session()).prompt("hi")).text, "ok");
    assert.equal(server.requests.length, 3);
  } finally {
    await agent.close();
  }
});

Deno.test("a typed prompt sends response_format to a model that supports it and validates the reply", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: '{"city":"Oslo","population":709000}' }] });
  Deno.env.set("FAKE_KEY", "sk-fake");
  const agent = await agentFor(server.url);
  try {
    const schema = z.object({ city: z.string(), population: z.number() });
    const response = await (await agent.session()).prompt("Capital of Norway?", { result: schema });
    assert.deepEqual(response.data, { city: "Oslo", population: 709000 });
    const body = server.requests[0].body as { response_format?: { type: string } };
    assert.equal(body.response_format?.type, "json_schema");
  } finally {
    await agent.close();
  }
});

Deno.test("abort reaches the HTTP request of a slow response", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "late", delayMs: 5_000 }] });
  Deno.env.set("FAKE_KEY", "sk-fake");
  const agent = await agentFor(server.url);
  try {
    const handle = (await agent.session()).prompt("wait");
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = performance.now();
    handle.abort("too slow");
    await assert.rejects(handle, AbortError);
    assert.ok(performance.now() - started < 1_000, "the call ended promptly");
  } finally {
    await agent.close();
  }
});
