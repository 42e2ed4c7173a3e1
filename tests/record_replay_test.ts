import assert from "node:assert/strict";
import { join } from "node:path";
import { type Cassette, FunctionModel, ReplayModel, startFakeOpenAI } from "../testing.ts";
import { createApp, MemoryStore } from "../mod.ts";
import { ROOT, runCli } from "./_cli_helpers.ts";

const KEY = "k-cli-recorded-998877";

Deno.test("FLUE_RECORD records a CLI run against a provider, and FLUE_REPLAY repeats it key-less and offline", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-cli-record-" });
  try {
    assert.equal((await runCli(["init", dir], { cwd: ROOT })).code, 0);
    const cassettePath = join(dir, "cassette.json");
    let recorded: string;
    {
      await using server = startFakeOpenAI({
        steps: [{ text: "Recorded answer from the provider" }],
        requireApiKey: KEY,
      });
      const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
      config.flue = {
        model: "local:fake-model",
        providers: { local: { baseURL: server.url, apiKeyEnv: "LOCAL_KEY" } },
      };
      await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(config, null, 2));
      const run = await runCli(["run", "--prompt", "hi", "--stream"], {
        cwd: dir,
        config: join(dir, "deno.json"),
        env: { LOCAL_KEY: KEY, FLUE_RECORD: cassettePath, FLUE_STORE: "memory" },
      });
      assert.equal(run.code, 0, run.stderr);
      recorded = run.stdout;
      assert.equal(recorded.trim(), "Recorded answer from the provider");
    }
    const text = await Deno.readTextFile(cassettePath);
    assert.ok(!text.includes(KEY), "the key is not recorded");
    assert.equal((JSON.parse(text) as Cassette).exchanges.length, 1);

    // The server is gone and no key is set: only the cassette can answer. A memory store makes each run start afresh.
    const replay = await runCli(["run", "--prompt", "hi", "--stream"], {
      cwd: dir,
      config: join(dir, "deno.json"),
      env: { FLUE_REPLAY: cassettePath, FLUE_STORE: "memory" },
    });
    assert.equal(replay.code, 0, replay.stderr);
    assert.equal(replay.stdout, recorded);

    const changed = await runCli(["run", "--prompt", "something else"], {
      cwd: dir,
      config: join(dir, "deno.json"),
      env: { FLUE_REPLAY: cassettePath, FLUE_STORE: "memory" },
    });
    assert.equal(changed.code, 1);
    assert.match(
      changed.stderr,
      /does not match cassette .*messages\[1\]\.content: recorded "hi", now "something else"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an agent served over HTTP records with the record option, and a ReplayModel agent answers the same", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-http-record-" });
  const path = join(dir, "cassette.json");
  const serveAgent = async (agent: Record<string, unknown>) => {
    const app = createApp({ store: new MemoryStore(), agents: { assistant: agent } });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
    try {
      const response = await fetch(`http://127.0.0.1:${server.addr.port}/agents/assistant/u1`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "Hello over HTTP" }),
      });
      assert.equal(response.status, 200);
      return (await response.json()).result.text as string;
    } finally {
      await app.close();
      await server.shutdown();
    }
  };
  try {
    const recorded = await serveAgent({
      model: new FunctionModel((request) => `Echo: ${request.messages.at(-1)?.content}`),
      sandbox: "memory",
      record: path,
    });
    assert.equal(recorded, "Echo: Hello over HTTP");
    const replayed = await serveAgent({ model: new ReplayModel(path), sandbox: "memory" });
    assert.equal(replayed, recorded);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
