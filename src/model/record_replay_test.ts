import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { init } from "../agent/init.ts";
import type { FlueEvent } from "../events/event_types.ts";
import { startFakeOpenAI } from "../testing/fake_openai.ts";
import { defineTool } from "../tools/tool.ts";
import type { Cassette } from "./cassette.ts";
import { RecordingModel } from "./recording_model.ts";
import { ReplayModel } from "./replay_model.ts";
import { FunctionModel } from "./test_models/function_model.ts";
import { withRecordReplay } from "./record_replay.ts";

const API_KEY = "sk-recorded-key-0123456789";

const lookup = defineTool({
  name: "lookup",
  description: "Looks up a city's population",
  input: z.object({ city: z.string() }),
  run: ({ city }) => `${city}: 2.1 million`,
});

/** A fake OpenAI server scripted for one tool call, then a streamed answer with reasoning. */
function scriptedServer() {
  return startFakeOpenAI({
    requireApiKey: API_KEY,
    steps: [
      { toolCalls: [{ name: "lookup", arguments: { city: "Paris" } }], usage: { inputTokens: 40, outputTokens: 9 } },
      { reasoning: "The tool said so.", text: "Paris has about 2.1 million people.", usage: { inputTokens: 60 } },
    ],
  });
}

/** An agent on the fake server through the real `openai` SDK. */
function openaiAgent(url: string, extra: { record?: string } = {}) {
  return init({
    model: "fake:fake-model",
    providers: { fake: { baseURL: url, apiKey: API_KEY } },
    store: "memory",
    sandbox: "memory",
    tools: [lookup],
    ...extra,
  });
}

async function promptAndCollect(
  agent: Awaited<ReturnType<typeof init>>,
  text: string,
): Promise<{ text: string; deltas: string[] }> {
  const session = await agent.session();
  const deltas: string[] = [];
  const stream = session.stream(text);
  for await (const event of stream as AsyncIterable<FlueEvent>) {
    if (event.type === "text_delta") deltas.push((event as { text: string }).text);
  }
  return { text: (await stream.result).text, deltas };
}

Deno.test("a recorded openai run replays key-less through ReplayModel and the fake server, chunk for chunk", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "cassette.json");
  try {
    let recorded: { text: string; deltas: string[] };
    {
      await using server = scriptedServer();
      const agent = await openaiAgent(server.url, { record: path });
      try {
        recorded = await promptAndCollect(agent, "How many people live in Paris?");
      } finally {
        await agent.close();
      }
    }
    assert.equal(recorded.text, "Paris has about 2.1 million people.");
    const text = await Deno.readTextFile(path);
    assert.ok(!text.includes(API_KEY), "the API key is not in the cassette");
    const cassette = JSON.parse(text) as Cassette;
    assert.equal(cassette.exchanges.length, 2);
    assert.equal(cassette.exchanges[0].reply?.toolCalls[0].name, "lookup");
    assert.deepEqual(cassette.exchanges[0].model, {
      provider: "fake",
      id: "fake:fake-model",
      supportsStructuredOutput: false,
      contextWindow: cassette.exchanges[0].model.contextWindow,
    });
    const chunks = cassette.exchanges[1].chunks;
    assert.ok(chunks.filter((chunk) => "text" in chunk).length > 1, "streamed chunks are recorded one by one");
    assert.ok(chunks.some((chunk) => "thinking" in chunk));
    assert.equal(cassette.exchanges[1].request.messages.at(-1)?.content, "Paris: 2.1 million");

    const replayed = await init({ model: new ReplayModel(path), store: "memory", sandbox: "memory", tools: [lookup] });
    try {
      const again = await promptAndCollect(replayed, "How many people live in Paris?");
      assert.deepEqual(again, recorded);
    } finally {
      await replayed.close();
    }

    await using fake = startFakeOpenAI({ cassette: path });
    const overFake = await init({
      model: "fake:fake-model",
      providers: { fake: { baseURL: fake.url, apiKey: "not-a-real-key" } },
      store: "memory",
      sandbox: "memory",
      tools: [lookup],
    });
    try {
      const again = await promptAndCollect(overFake, "How many people live in Paris?");
      assert.deepEqual(again, recorded);
    } finally {
      await overFake.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the ai-sdk harness is recorded too, and its recording replays", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "cassette.json");
  try {
    let recorded: { text: string; deltas: string[] };
    {
      await using server = scriptedServer();
      const agent = await init({
        model: "fake:fake-model",
        harness: "ai-sdk",
        providers: { fake: { baseURL: server.url, apiKey: API_KEY } },
        store: "memory",
        sandbox: "memory",
        tools: [lookup],
        record: path,
      });
      recorded = await promptAndCollect(agent, "Paris?").finally(() => agent.close());
      assert.equal(server.requests.length, 2, "the provider was called through the recording");
    }
    assert.equal((JSON.parse(await Deno.readTextFile(path)) as Cassette).exchanges.length, 2);
    const replayed = await init({
      model: new ReplayModel(path),
      harness: "ai-sdk",
      store: "memory",
      sandbox: "memory",
      tools: [lookup],
    });
    assert.equal((await promptAndCollect(replayed, "Paris?").finally(() => replayed.close())).text, recorded.text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a request that no longer matches fails naming the first differing field", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "cassette.json");
  try {
    {
      await using server = scriptedServer();
      const agent = await openaiAgent(server.url, { record: path });
      await promptAndCollect(agent, "How many people live in Paris?").finally(() => agent.close());
    }
    const replayed = await init({ model: new ReplayModel(path), store: "memory", sandbox: "memory", tools: [lookup] });
    try {
      const session = await replayed.session();
      await assert.rejects(
        session.prompt("How many people live in Lyon?"),
        (error: Error) => {
          assert.match(error.message, /Model call 1 does not match cassette ".*cassette\.json" \(exchange 1\)/);
          assert.match(error.message, /messages\[1\]\.content: recorded "How many people live in Paris\?", now "How/);
          return true;
        },
      );
    } finally {
      await replayed.close();
    }
    await using fake = startFakeOpenAI({ cassette: path });
    const overFake = await init({
      model: "fake:fake-model",
      providers: { fake: { baseURL: fake.url, apiKey: "not-a-real-key" } },
      store: "memory",
      sandbox: "memory",
      tools: [],
    });
    try {
      await assert.rejects(
        (await overFake.session()).prompt("How many people live in Paris?"),
        /\(400\): Model call 1 does not match cassette .*: tools\[\d+\]\.function\.name: recorded "lookup"/,
      );
    } finally {
      await overFake.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RecordingModel removes granted secrets and the key from what it writes, and records failures", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "cassette.json");
  try {
    const secret = "granted-secret-value-77";
    let calls = 0;
    const inner = new FunctionModel(() => {
      if (calls++ === 1) throw new Error(`upstream refused ${secret}`);
      return `the secret is ${secret}`;
    });
    const model = new RecordingModel(inner, { path, secrets: { TOKEN: secret } });
    const request = {
      messages: [{ role: "user" as const, content: "hi" }],
      tools: [],
      signal: AbortSignal.timeout(5000),
    };
    assert.equal((await model.complete(request)).text, `the secret is ${secret}`, "the caller gets the reply whole");
    await assert.rejects(model.complete(request), /upstream refused/);
    const text = await Deno.readTextFile(path);
    assert.ok(!text.includes(secret));
    const cassette = JSON.parse(text) as Cassette;
    assert.equal(cassette.exchanges[0].reply?.text, "the secret is [REDACTED:TOKEN]");
    assert.equal(cassette.exchanges[1].error?.message, "upstream refused [REDACTED:TOKEN]");
    const replay = new ReplayModel(path);
    assert.equal((await replay.complete(request)).text, "the secret is [REDACTED:TOKEN]");
    await assert.rejects(replay.complete(request), { name: "ModelError", message: /upstream refused/ });
    await assert.rejects(replay.complete(request), /Model call 3 has no recording: .* 2 exchange\(s\), all replayed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FLUE_REPLAY replaces every resolved model, and refuses to combine with a recording", () => {
  const cassette = { version: 1, exchanges: [] };
  const dir = Deno.makeTempDirSync();
  try {
    const path = join(dir, "c.json");
    Deno.writeTextFileSync(path, JSON.stringify(cassette));
    const create = withRecordReplay(() => {
      throw new Error("no real model may be made while replaying");
    }, { readVariable: (name) => name === "FLUE_REPLAY" ? path : undefined });
    assert.ok(create("openai:gpt-5.5") instanceof ReplayModel);
    assert.throws(
      () => withRecordReplay(() => new FunctionModel(() => ""), { record: "x.json", readVariable: () => path }),
      /choose one/,
    );
    assert.throws(() => new ReplayModel(join(dir, "missing.json")), /record it first with FLUE_RECORD=/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
