import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeOpenAI } from "../testing.ts";
import { CLI, ROOT, runCli } from "./_cli_helpers.ts";

async function projectFor(url: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "flue-cli-provider-" });
  const init = await runCli(["init", dir], { cwd: ROOT });
  assert.equal(init.code, 0, init.stderr);
  const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
  config.flue = { model: "local:fake-model", providers: { local: { baseURL: url, apiKeyEnv: "LOCAL_KEY" } } };
  await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(config, null, 2));
  return dir;
}

Deno.test("flue run talks to a configured OpenAI-compatible provider over HTTP", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "Hello from the provider" }], requireApiKey: "k-123" });
  const dir = await projectFor(server.url);
  try {
    const run = await runCli(["run", "--prompt", "hi", "--stream"], {
      cwd: dir,
      config: join(dir, "deno.json"),
      env: { LOCAL_KEY: "k-123" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "Hello from the provider");
    const body = server.requests[0].body as { model: string; stream: boolean };
    assert.equal(body.model, "fake-model");
    assert.equal(body.stream, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGINT cancels a running prompt and flue exits with status 130", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "too late", delayMs: 10_000 }] });
  const dir = await projectFor(server.url);
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "--config", join(dir, "deno.json"), CLI, "run", "--prompt", "wait"],
      cwd: dir,
      env: { NO_COLOR: "1", LOCAL_KEY: "k" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const started = performance.now();
    child.kill("SIGINT");
    const output = await child.output();
    assert.equal(output.code, 130, new TextDecoder().decode(output.stderr));
    assert.match(new TextDecoder().decode(output.stderr), /aborted: .*interrupted/);
    assert.ok(performance.now() - started < 5_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
