import assert from "node:assert/strict";
import { join } from "node:path";
import { FlueClient, KvStore } from "../mod.ts";
import { ROOT, runCli } from "./_cli_helpers.ts";

const LISTENING = /Listening on https?:\/\/[^:]+:(\d+)/;

/** Reads a stream to its end in the background; `waitFor` resolves once what was read matches. */
function collect(stream: ReadableStream<Uint8Array>) {
  let text = "";
  const waiters: (() => void)[] = [];
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      waiters.splice(0).forEach((wake) => wake());
    }
    waiters.splice(0).forEach((wake) => wake());
  })();
  let ended = false;
  done.finally(() => ended = true);
  return {
    done,
    text: () => text,
    async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
      for (;;) {
        const match = text.match(pattern);
        if (match) return match;
        if (ended) throw new Error(`The process ended before printing ${pattern}: ${text}`);
        await Promise.race([new Promise<void>((wake) => waiters.push(wake)), done]);
      }
    },
  };
}

Deno.test("the generated main.ts on Deno Deploy keeps sessions in Deno KV and needs no disk or subprocess", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-deploy-" });
  let child: Deno.ChildProcess | undefined;
  try {
    const init = await runCli(["init", dir], { cwd: ROOT });
    assert.equal(init.code, 0, init.stderr);
    // On Deploy the store is the deployment's managed database; here a file stands in for it, so the test can read it.
    const configPath = join(dir, "deno.json");
    const config = JSON.parse(await Deno.readTextFile(configPath));
    config.flue.store = { kind: "kv", path: "kv/deploy.kv" };
    await Deno.writeTextFile(configPath, JSON.stringify(config, null, 2));

    // Deploy's limits: writes only to the database file, no subprocesses; the generated deno.json enables Deno KV.
    child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        configPath,
        "--allow-net",
        "--allow-env",
        "--allow-read",
        `--allow-write=${join(dir, "kv")}`,
        "--deny-run",
        join(dir, "main.ts"),
      ],
      cwd: dir,
      env: {
        NO_COLOR: "1",
        DENO_DEPLOYMENT_ID: "test-deployment",
        FLUE_API_TOKEN: "deploy-secret-0123456789",
        PORT: "0",
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    const started = child;
    const timer = setTimeout(() => started.kill("SIGKILL"), 60_000);
    const port = (await stdout.waitFor(LISTENING).catch((error) => {
      throw new Error(`${error.message}\n${stderr.text()}`);
    }).finally(() => clearTimeout(timer)))[1];

    const client = new FlueClient({ baseUrl: `http://127.0.0.1:${port}`, token: "deploy-secret-0123456789" });
    const reply = await client.prompt("assistant", "visitor-1", "Hello from Deploy");
    assert.equal(reply.text, 'Test reply to: "Hello from Deploy"');
    const unauthorised = await fetch(`http://127.0.0.1:${port}/agents`);
    assert.equal(unauthorised.status, 401);
    await unauthorised.body?.cancel();

    // SIGTERM drains the dispatch worker and stops the server, so the process ends by itself.
    child.kill("SIGTERM");
    const status = await child.status;
    child = undefined;
    await Promise.all([stdout.done, stderr.done]);
    assert.equal(status.code, 0, stderr.text());

    const store = new KvStore({ path: join(dir, "kv", "deploy.kv") });
    try {
      const history = await store.load({ agent: "assistant", instanceId: "visitor-1", session: "default" });
      assert.deepEqual(history.map((entry) => [entry.seq, entry.message.role]), [[0, "user"], [1, "assistant"]]);
      assert.equal(history[0].message.content, "Hello from Deploy");
    } finally {
      await store.close();
    }
    await assert.rejects(Deno.stat(join(dir, ".flue")), Deno.errors.NotFound, "no sqlite file, no virtual workspace");
  } finally {
    if (child !== undefined) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already ended
      }
      await child.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
