import assert from "node:assert/strict";
import { init } from "../../agent/init.ts";
import { resolveModel } from "../../model/resolve_model.ts";
import { startFakeOpenAI } from "../../testing/fake_openai.ts";

/** A minimal Anthropic Messages API on 127.0.0.1 that streams one text reply and records the requests. */
function startFakeAnthropic() {
  const requests: { path: string; headers: Headers; body: Record<string, unknown> }[] = [];
  const events = [
    {
      type: "message_start",
      message: {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "claude-fake",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 1 },
      },
    },
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello from " } },
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Claude" } },
    { type: "content_block_stop", index: 0 },
    { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 4 } },
    { type: "message_stop" },
  ];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    requests.push({ path: new URL(request.url).pathname, headers: request.headers, body: await request.json() });
    const body = events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join("");
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1`,
    requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("a model's endpoint carries its key but never serialises it", () => {
  const model = resolveModel("openai:gpt-5.5", { env: { OPENAI_API_KEY: "sk-very-secret" } });
  assert.equal(model.endpoint?.apiKey, "sk-very-secret");
  assert.equal(model.endpoint?.baseURL, "https://api.openai.com/v1");
  assert.ok(!JSON.stringify(model).includes("sk-very-secret"));
  assert.ok(!Deno.inspect(model).includes("sk-very-secret"));
});

Deno.test("an anthropic: model reaches Anthropic's native Messages API under the ai-sdk harness", async () => {
  await using server = startFakeAnthropic();
  const agent = await init({
    harness: "ai-sdk",
    model: "anthropic:claude-fake",
    providers: { anthropic: { baseURL: server.url, apiKey: "sk-ant-test" } },
    instructions: "Answer briefly.",
    store: "memory",
    sandbox: "memory",
  });
  try {
    const response = await (await agent.session()).prompt("hi");
    assert.equal(response.text, "Hello from Claude");
    assert.deepEqual(response.usage, { inputTokens: 12, outputTokens: 4, totalTokens: 16 });
    assert.equal(server.requests.length, 1);
    const [request] = server.requests;
    assert.equal(request.path, "/v1/messages");
    assert.equal(request.headers.get("x-api-key"), "sk-ant-test");
    assert.equal(request.body.model, "claude-fake");
    assert.match(JSON.stringify(request.body.system), /Answer briefly/);
  } finally {
    await agent.close();
  }
});

Deno.test("a key-less endpoint gets no Authorization header under the ai-sdk harness", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "local answer" }] });
  const agent = await init({
    harness: "ai-sdk",
    model: "local:small",
    providers: { local: { baseURL: server.url } },
    store: "memory",
    sandbox: "memory",
  });
  try {
    assert.equal((await (await agent.session()).prompt("hi")).text, "local answer");
    assert.equal(server.requests[0].headers.authorization, undefined);
    assert.equal((server.requests[0].body as { model: string }).model, "small");
  } finally {
    await agent.close();
  }
});
