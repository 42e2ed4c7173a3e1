import assert from "node:assert/strict";
import { join } from "node:path";
import { FlueClient, SqliteStore } from "../mod.ts";
import { ROOT, runCli } from "./_cli_helpers.ts";
import { spawnCli } from "./_cli_process.ts";

const LISTENING = /Listening on (http:\/\/127\.0\.0\.1:\d+)/;

async function withProject(fn: (dir: string, config: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-cli-server-" });
  try {
    const init = await runCli(["init", dir], { cwd: ROOT });
    assert.equal(init.code, 0, init.stderr);
    await fn(dir, join(dir, "deno.json"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// A workflow that waits for a file to appear, so a test can follow it while it runs.
const WAITING_WORKFLOW = `import type { FlueContext } from "flue";

export async function run(ctx: FlueContext<{ dir: string }>): Promise<{ ok: boolean }> {
  await Deno.writeTextFile(ctx.payload.dir + "/run-id.txt", ctx.runId);
  ctx.log.info("waiting for go");
  for (let i = 0; i < 600; i++) {
    try {
      await Deno.stat(ctx.payload.dir + "/go");
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  ctx.log.info("going");
  return { ok: true };
}
`;

async function waitForFile(path: string): Promise<string> {
  for (let attempt = 0; attempt < 1200; attempt++) {
    try {
      return await Deno.readTextFile(path);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${path} never appeared`);
}

Deno.test("flue serve prints its URL, answers FlueClient and flue invoke --url, and exits 0 on SIGTERM", async () => {
  await withProject(async (dir, config) => {
    const server = spawnCli(["serve", "--port", "0"], { cwd: dir, config });
    try {
      const url = (await server.waitForStdout(LISTENING))[1];
      const client = new FlueClient({ baseUrl: url });
      const response = await client.prompt("assistant", "user-1", "Hello server");
      assert.equal(response.text, 'Test reply to: "Hello server"');

      const invoked = await runCli(["invoke", "assistant", "user-1", "--message", "Again", "--url", url, "--json"], {
        cwd: dir,
        config,
      });
      assert.equal(invoked.code, 0, invoked.stderr);
      const result = JSON.parse(invoked.stdout);
      assert.equal(result.text, 'Test reply to: "Again"');
      assert.equal(result.agent, "assistant");
      assert.equal(result.session, "default");
      const history = await client.history("assistant", "user-1");
      assert.equal(history.entries.filter((entry) => entry.message.role === "user").length, 2);

      const streamed = await runCli([
        "invoke",
        "assistant",
        "user-2",
        "--message",
        "Streamed",
        "--url",
        url,
        "--stream",
      ], {
        cwd: dir,
        config,
      });
      assert.equal(streamed.code, 0, streamed.stderr);
      assert.equal(streamed.stdout.trim(), 'Test reply to: "Streamed"');

      // The server's dispatch worker runs what `flue invoke --dispatch` queues in the project's store.
      const queued = await runCli(["invoke", "assistant", "user-3", "--message", "Later", "--dispatch", "--json"], {
        cwd: dir,
        config,
      });
      assert.equal(queued.code, 0, queued.stderr);
      const receipt = JSON.parse(queued.stdout);
      const done = await client.waitForDispatch(receipt.dispatchId, { pollMs: 50 });
      assert.equal(done.status, "done");

      server.kill("SIGTERM");
      const status = await server.status();
      assert.equal(status.code, 0, server.stderr());
      assert.match(server.stderr(), /Shutting down/);
    } finally {
      await server.close();
    }
  });
});

Deno.test("flue serve refuses 0.0.0.0 without FLUE_API_TOKEN, and flue dev too (exit 2)", async () => {
  await withProject(async (dir, config) => {
    for (const command of ["serve", "dev"]) {
      const run = await runCli([command, "--hostname", "0.0.0.0", "--port", "0"], { cwd: dir, config });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /Refusing to listen on "0\.0\.0\.0" without an API token: set FLUE_API_TOKEN/);
    }
    const badPort = await runCli(["serve", "--port", "http"], { cwd: dir, config });
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /--port must be a whole number from 0 to 65535, got "http"/);
    const badFlag = await runCli(["serve", "--prot", "1"], { cwd: dir, config });
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /valid flags are --port, --hostname/);
  });
});

Deno.test("flue routes --json lists the routes and the project's agents and workflows with their files", async () => {
  await withProject(async (dir, config) => {
    const run = await runCli(["routes", "--json"], { cwd: dir, config });
    assert.equal(run.code, 0, run.stderr);
    const manifest = JSON.parse(run.stdout);
    assert.deepEqual(manifest.agents.map((agent: { name: string; file: string }) => [agent.name, agent.file]), [
      ["assistant", "src/agents/assistant.ts"],
    ]);
    assert.deepEqual(manifest.workflows.map((workflow: { name: string }) => workflow.name), ["summarize"]);
    assert.ok(
      manifest.routes.some((route: { method: string; path: string }) =>
        route.method === "POST" && route.path === "/agents/:name/:id"
      ),
    );
    // Listing routes opens no database.
    await assert.rejects(Deno.stat(join(dir, ".flue", "flue.db")), Deno.errors.NotFound);

    const text = await runCli(["routes"], { cwd: dir, config });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /POST +\/workflows\/:name +Start a run/);
    assert.match(text.stdout, /assistant +POST \/agents\/assistant\/\{id\} +src\/agents\/assistant\.ts/);
  });
});

Deno.test("flue invoke runs an agent instance in process and keeps its session in the project's store", async () => {
  await withProject(async (dir, config) => {
    const first = await runCli(["invoke", "assistant", "u1", "--message", "One", "--session", "s", "--json"], {
      cwd: dir,
      config,
    });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).text, 'Test reply to: "One"');
    const second = await runCli(["invoke", "assistant", "u1", "--message", "Two", "--session", "s"], {
      cwd: dir,
      config,
    });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), 'Test reply to: "Two"');
    const store = new SqliteStore({ projectDir: dir });
    try {
      const entries = await store.load({ agent: "assistant", instanceId: "u1", session: "s" });
      assert.deepEqual(entries.map((entry) => entry.message.role), ["user", "assistant", "user", "assistant"]);
    } finally {
      await store.close();
    }

    const missing = await runCli(["invoke", "assistant", "u1"], { cwd: dir, config });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /needs --message/);
    const unknown = await runCli(["invoke", "nobody", "u1", "--message", "Hi"], { cwd: dir, config });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No agent named "nobody": known agents are assistant/);
    const unreachable = await runCli(["invoke", "assistant", "u1", "--message", "Hi", "--url", "http://127.0.0.1:9"], {
      cwd: dir,
      config,
    });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /Could not reach a Flue server at "http:\/\/127\.0\.0\.1:9"/);
  });
});

Deno.test("flue logs prints the events of a run made by flue run <workflow>, filtered or as JSON", async () => {
  await withProject(async (dir, config) => {
    const run = await runCli(["run", "summarize", "--payload", '{"text":"Deno runs TypeScript."}', "--json"], {
      cwd: dir,
      config,
    });
    assert.equal(run.code, 0, run.stderr);
    const { runId } = JSON.parse(run.stdout);

    const logs = await runCli(["logs", runId], { cwd: dir, config });
    assert.equal(logs.code, 0, logs.stderr);
    const lines = logs.stdout.trim().split("\n");
    assert.match(lines[0], /#0 .* run_start +summarize workflow summarize/);
    assert.match(logs.stdout, /log +summarize \[info\] summarising/);
    // The text deltas of the turn are joined into one line.
    assert.equal(lines.filter((line) => / text +summarize /.test(line)).length, 1);
    assert.match(lines.at(-1)!, /run_end +summarize done in \d+ ms/);

    const filtered = await runCli(["logs", runId, "--types", "log,run_end", "--json"], { cwd: dir, config });
    assert.equal(filtered.code, 0, filtered.stderr);
    const events = filtered.stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(events.map((event) => event.type), ["log", "run_end"]);
    assert.equal(events[0].runId, runId);

    const missing = await runCli(["logs", "workflow:none:run_x"], { cwd: dir, config });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No run with id "workflow:none:run_x"/);
    const badTypes = await runCli(["logs", runId, "--types", "Log!"], { cwd: dir, config });
    assert.equal(badTypes.code, 2);
  });
});

Deno.test("flue logs --follow prints a live run of another process until it ends, from the store and a server", async () => {
  await withProject(async (dir, config) => {
    await Deno.writeTextFile(join(dir, "src", "workflows", "waiting.ts"), WAITING_WORKFLOW);
    const workflow = spawnCli(["run", "waiting", "--payload", JSON.stringify({ dir })], { cwd: dir, config });
    const server = spawnCli(["serve", "--port", "0"], { cwd: dir, config });
    const fromStore = spawnCli(["logs", await waitForFile(join(dir, "run-id.txt")), "--follow", "--poll-ms", "50"], {
      cwd: dir,
      config,
    });
    let fromServer: ReturnType<typeof spawnCli> | undefined;
    try {
      const runId = await Deno.readTextFile(join(dir, "run-id.txt"));
      const url = (await server.waitForStdout(LISTENING))[1];
      fromServer = spawnCli(["logs", runId, "--follow", "--url", url], { cwd: dir });
      await fromStore.waitForStdout(/\[info\] waiting for go/);
      await fromServer.waitForStdout(/\[info\] waiting for go/);
      assert.doesNotMatch(fromStore.stdout(), /going/);

      await Deno.writeTextFile(join(dir, "go"), "");
      for (const follower of [fromStore, fromServer]) {
        const status = await follower.status();
        assert.equal(status.code, 0, follower.stderr());
        assert.match(follower.stdout(), /\[info\] going\n.*run_end +waiting done in/s);
      }
      assert.equal((await workflow.status()).code, 0, workflow.stderr());
    } finally {
      await Promise.all([workflow.close(), server.close(), fromStore.close(), fromServer?.close()]);
    }
  });
});

Deno.test("flue dev prints the routes and reloads an edited agent module on the same port", async () => {
  await withProject(async (dir, config) => {
    const dev = spawnCli(["dev", "--port", "0", "--debounce-ms", "50"], { cwd: dir, config });
    try {
      const url = (await dev.waitForStdout(LISTENING))[1];
      await dev.waitForStdout(/assistant +POST \/agents\/assistant\/\{id\}/);
      const client = new FlueClient({ baseUrl: url });
      assert.equal((await client.prompt("assistant", "a", "Before")).text, 'Test reply to: "Before"');

      // Local state does not reload; an agent module does.
      await Deno.writeTextFile(join(dir, ".flue", "scratch.txt"), "not a reload");
      await Deno.writeTextFile(
        join(dir, "src", "agents", "assistant.ts"),
        `import { createAgent } from "flue";
import { FunctionModel } from "flue/testing";

export default createAgent(() => ({ model: new FunctionModel(() => "Reloaded answer") }));
`,
      );
      const second = await dev.waitForStdout(LISTENING, 2);
      assert.equal(second[1], url);
      assert.match(dev.stderr(), /Reloading: src\/agents\/assistant\.ts changed/);
      assert.doesNotMatch(dev.stderr(), /scratch/);
      assert.equal((await client.prompt("assistant", "a", "After")).text, "Reloaded answer");

      dev.kill("SIGTERM");
      assert.equal((await dev.status()).code, 0, dev.stderr());
      // The server child stopped with it: nothing answers on the port any more.
      await assert.rejects(fetch(`${url}/health`));
    } finally {
      await dev.close();
    }
  });
});

Deno.test("flue dev keeps the port open with the error while a module is broken, logs requests, reprints routes only when they change", async () => {
  await withProject(async (dir, config) => {
    const dev = spawnCli(["dev", "--port", "0", "--debounce-ms", "50"], { cwd: dir, config });
    try {
      const url = (await dev.waitForStdout(LISTENING))[1];
      await dev.waitForStdout(/assistant +POST \/agents\/assistant\/\{id\}/);
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script type="module" src="\/ui\/app\.js">/);

      // A broken module: the port answers with the error instead of refusing connections.
      const workflow = join(dir, "src", "workflows", "summarize.ts");
      const original = await Deno.readTextFile(workflow);
      await Deno.writeTextFile(workflow, `${original}\nexport const broken = ;\n`);
      let answer: Response | undefined;
      for (let attempt = 0; attempt < 400; attempt++) {
        answer = await fetch(`${url}/agents`).catch(() => undefined);
        if (answer?.status === 503) break;
        await answer?.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(answer?.status, 503);
      const body = await answer!.json();
      assert.equal(body.error.type, "project_not_loaded");
      assert.match(body.error.details.output, /syntax error/);
      const errorPage = await fetch(`${url}/`, { headers: { accept: "text/html" } });
      assert.equal(errorPage.status, 503);
      assert.match(await errorPage.text(), /id="project-error"/);

      // An editor's temporary file does not reload; the fix does, on the same port, without a second route table.
      await Deno.writeTextFile(`${workflow}~`, "backup");
      await Deno.writeTextFile(workflow, original);
      await dev.waitForStdout(LISTENING, 2);
      const healthy = await fetch(`${url}/agents`);
      assert.equal(healthy.status, 200);
      await healthy.body?.cancel();
      assert.match(dev.stderr(), /Reloading: src\/workflows\/summarize\.ts changed/);
      assert.doesNotMatch(dev.stderr(), /summarize\.ts~/);
      assert.doesNotMatch(dev.stderr(), /Shutting down/);
      assert.match(dev.stderr(), /GET +\/agents 200 \d+ ms/);

      // Editing AGENTS.md reloads without changing the routes: the table is not printed again.
      await Deno.writeTextFile(join(dir, "AGENTS.md"), "# Project\n\nBe brief.\n");
      await dev.waitForStdout(LISTENING, 3);
      const after = await fetch(`${url}/health`);
      await after.body?.cancel();
      assert.equal(dev.stdout().match(/^Routes$/gm)?.length, 1, dev.stdout());

      dev.kill("SIGTERM");
      assert.equal((await dev.status()).code, 0, dev.stderr());
    } finally {
      await dev.close();
    }
  });
});
