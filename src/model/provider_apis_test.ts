// Each provider that is not OpenAI-compatible, driven through init() under both harnesses against a local fake of
// its HTTP API: a tool call, the tool's result sent back, the answer, usage, credentials and reasoning levels.
import assert from "node:assert/strict";
import { z } from "zod";
import { defineTool, init, ModelError } from "../../mod.ts";
import { startFakeOpenAI } from "../../testing.ts";
import { type FakeProvider, type FakeProviderKind, startProviderFake } from "./testdata/provider_fakes.ts";

const add = defineTool({
  name: "add",
  description: "Adds two numbers",
  input: z.object({ a: z.number(), b: z.number() }),
  run: ({ a, b }) => String(a + b),
});

const STEPS = [
  { thinking: "I should add.", toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }] },
  { text: "The sum is 5." },
];

async function withEnv<T>(variables: Record<string, string>, body: () => Promise<T>): Promise<T> {
  for (const [name, value] of Object.entries(variables)) Deno.env.set(name, value);
  try {
    return await body();
  } finally {
    for (const name of Object.keys(variables)) Deno.env.delete(name);
  }
}

async function promptThrough(
  model: string,
  harness: "flue" | "ai-sdk",
  providers: Record<string, { baseURL: string }>,
): Promise<{ text: string; deltas: string; inputTokens: number }> {
  const agent = await init({
    model,
    harness,
    providers,
    tools: [add],
    thinkingLevel: "high",
    sandbox: "memory",
    store: "memory",
  });
  try {
    const session = await agent.session();
    let deltas = "";
    let text = "";
    let inputTokens = 0;
    for await (const event of session.stream("What is 2 + 3? Use the add tool.")) {
      if (event.type === "text_delta") deltas += event.text;
      if (event.type === "operation") {
        text = (event as { result?: { text?: string } }).result?.text ?? text;
      }
      if (event.type === "turn") inputTokens += (event as { usage?: { inputTokens: number } }).usage?.inputTokens ?? 0;
    }
    return { text, deltas, inputTokens };
  } finally {
    await agent.close();
  }
}

interface Case {
  provider: string;
  kind: FakeProviderKind;
  env: Record<string, string>;
  baseURL: (fake: FakeProvider) => string;
  check: (fake: FakeProvider) => void;
}

const CASES: Case[] = [
  {
    provider: "anthropic:claude-sonnet-4-5",
    kind: "anthropic",
    env: { ANTHROPIC_API_KEY: "sk-ant-fake" },
    baseURL: (fake) => `${fake.origin}/v1`,
    check: (fake) => {
      const [first, second] = fake.requests;
      assert.equal(first.path, "/v1/messages");
      assert.equal(first.headers["x-api-key"], "sk-ant-fake");
      assert.ok((first.body.tools as { name: string }[]).some((tool) => tool.name === "add"));
      assert.equal((first.body.thinking as { type: string }).type, "enabled");
      const lastTurn = (second.body.messages as { content: { type: string; content?: unknown }[] }[]).at(-1)!;
      const result = lastTurn.content.find((block) => block.type === "tool_result");
      assert.ok(result, "the tool result goes back as a tool_result block");
      assert.match(JSON.stringify(result), /5/);
    },
  },
  {
    provider: "google:gemini-2.5-flash",
    kind: "google",
    env: { GOOGLE_GENERATIVE_AI_API_KEY: "g-fake" },
    baseURL: (fake) => `${fake.origin}/v1beta`,
    check: (fake) => {
      const [first, second] = fake.requests;
      assert.equal(first.path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
      assert.equal(first.headers["x-goog-api-key"], "g-fake");
      const config = first.body.generationConfig as { thinkingConfig?: Record<string, unknown> };
      assert.ok(config.thinkingConfig, "the thinking level is mapped to thinkingConfig");
      assert.match(JSON.stringify(second.body.contents), /functionResponse/);
    },
  },
  {
    provider: "vertex:gemini-2.5-pro",
    kind: "google",
    env: { GOOGLE_VERTEX_API_KEY: "v-fake" },
    baseURL: (fake) => `${fake.origin}/v1/publishers/google`,
    check: (fake) => {
      assert.equal(fake.requests[0].path, "/v1/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
      assert.equal(fake.requests[0].headers["x-goog-api-key"], "v-fake");
      assert.match(JSON.stringify(fake.requests[1].body.contents), /functionResponse/);
    },
  },
  {
    provider: "bedrock:anthropic.claude-sonnet-4-5-v1:0",
    kind: "bedrock",
    env: { AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIAFAKE", AWS_SECRET_ACCESS_KEY: "fake-secret" },
    baseURL: (fake) => fake.origin,
    check: (fake) => {
      const [first, second] = fake.requests;
      assert.equal(first.path, `/model/${encodeURIComponent("anthropic.claude-sonnet-4-5-v1:0")}/converse-stream`);
      assert.match(first.headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKIAFAKE\/\d+\/eu-west-1\/bedrock\//);
      assert.match(JSON.stringify(second.body.messages), /toolResult/);
    },
  },
];

for (const testCase of CASES) {
  for (const harness of ["flue", "ai-sdk"] as const) {
    Deno.test(`${testCase.provider.split(":")[0]} under the ${harness} harness: a tool call, its result, the answer`, async () => {
      const fake = startProviderFake(testCase.kind, STEPS);
      try {
        const name = testCase.provider.split(":")[0];
        const outcome = await withEnv(
          testCase.env,
          () => promptThrough(testCase.provider, harness, { [name]: { baseURL: testCase.baseURL(fake) } }),
        );
        assert.equal(outcome.deltas, "The sum is 5.");
        assert.ok(outcome.inputTokens >= 42, `usage is counted, got ${outcome.inputTokens}`);
        assert.equal(fake.requests.length, 2);
        testCase.check(fake);
      } finally {
        await fake.close();
      }
    });
  }
}

Deno.test("azure under both harnesses: Chat Completions on the deployment, with the api-key header", async () => {
  for (const harness of ["flue", "ai-sdk"] as const) {
    await using fake = startFakeOpenAI({
      steps: [{ toolCalls: [{ name: "add", arguments: { a: 2, b: 3 } }] }, { text: "The sum is 5." }],
    });
    const outcome = await withEnv(
      { AZURE_API_KEY: "az-fake" },
      () => promptThrough("azure:my-gpt-deployment", harness, { azure: { baseURL: fake.url } }),
    );
    assert.equal(outcome.deltas, "The sum is 5.", harness);
    assert.equal(fake.requests[0].path, "/v1/chat/completions");
    assert.equal(fake.requests[0].headers["api-key"], "az-fake");
    assert.equal((fake.requests[0].body as { model: string }).model, "my-gpt-deployment");
  }
});

Deno.test("a missing credential fails at init() naming the variable to set", async () => {
  const expectations: [string, RegExp][] = [
    ["anthropic:claude-sonnet-4-5", /ANTHROPIC_API_KEY is not set/],
    ["google:gemini-2.5-flash", /GOOGLE_GENERATIVE_AI_API_KEY is not set/],
    ["vertex:gemini-2.5-pro", /GOOGLE_VERTEX_PROJECT is not set: Vertex AI needs GOOGLE_VERTEX_API_KEY/],
    ["bedrock:amazon.nova-pro-v1:0", /AWS_REGION is not set: Amazon Bedrock needs AWS_REGION/],
    ["azure:my-deployment", /AZURE_API_KEY is not set/],
  ];
  for (const [model, message] of expectations) {
    await assert.rejects(init({ model, sandbox: "memory", store: "memory" }), message, model);
  }
  await withEnv({ AWS_REGION: "us-east-1" }, async () => {
    await assert.rejects(
      init({ model: "bedrock:amazon.nova-pro-v1:0", sandbox: "memory", store: "memory" }),
      /AWS_ACCESS_KEY_ID is not set/,
    );
  });
  await withEnv({ AZURE_API_KEY: "k" }, async () => {
    await assert.rejects(
      init({ model: "azure:d", sandbox: "memory", store: "memory" }),
      /AZURE_RESOURCE_NAME is not set/,
    );
  });
});

Deno.test("anthropic retries 529 and 429 honouring retry-after, and a rejected key is a ModelError naming it", async () => {
  const fake = startProviderFake("anthropic", [{ status: 529 }, { status: 429, retryAfter: "0" }, { text: "ok now" }]);
  try {
    const text = await withEnv({ ANTHROPIC_API_KEY: "sk-ant-fake" }, async () => {
      const agent = await init({
        model: "anthropic:claude-haiku-4-5",
        providers: { anthropic: { baseURL: `${fake.origin}/v1` } },
        sandbox: "memory",
        store: "memory",
      });
      try {
        return (await (await agent.session()).prompt("hi")).text;
      } finally {
        await agent.close();
      }
    });
    assert.equal(text, "ok now");
    assert.equal(fake.requests.length, 3);
  } finally {
    await fake.close();
  }
  const rejecting = startProviderFake("anthropic", [{ status: 401 }]);
  try {
    await withEnv({ ANTHROPIC_API_KEY: "sk-ant-wrong" }, async () => {
      const agent = await init({
        model: "anthropic:claude-haiku-4-5",
        providers: { anthropic: { baseURL: `${rejecting.origin}/v1` } },
        sandbox: "memory",
        store: "memory",
      });
      try {
        const error = await (await agent.session()).prompt("hi").then(() => undefined, (error) => error);
        assert.ok(error instanceof ModelError, String(error));
        assert.equal(error.status, 401);
        assert.equal(error.isRetryable, false);
        assert.match(error.message, /rejected the API key from ANTHROPIC_API_KEY/);
      } finally {
        await agent.close();
      }
    });
    assert.equal(rejecting.requests.length, 1);
  } finally {
    await rejecting.close();
  }
});
