import assert from "node:assert/strict";
import { join } from "node:path";
import { writeNewProject } from "../cli/init_command.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { serve } from "./serve.ts";

const SRC = new URL("../", import.meta.url).href;

/** A project whose agent answers after a short wait (so a shutdown finds it running). */
async function writeProject(dir: string): Promise<void> {
  await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ flue: { model: "test", sandbox: "memory" } }));
  await Deno.mkdir(join(dir, "agents"));
  await Deno.writeTextFile(
    join(dir, "agents", "slow.ts"),
    `import { createAgent } from "${SRC}agent/create_agent.ts";
import { FunctionModel } from "${SRC}model/test_models/function_model.ts";
export default createAgent(() => ({
  model: new FunctionModel(async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return "slow reply";
  }),
}));
`,
  );
  await Deno.mkdir(join(dir, "workflows"));
  await Deno.writeTextFile(
    join(dir, "workflows", "echo.ts"),
    `export function run(ctx) { return { echo: ctx.payload }; }\n`,
  );
}

async function readLine(reader: ReadableStreamDefaultReader<string>, state: { buffer: string }): Promise<string> {
  while (!state.buffer.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the process ended; output so far: ${state.buffer}`);
    state.buffer += value;
  }
  const index = state.buffer.indexOf("\n");
  const line = state.buffer.slice(0, index);
  state.buffer = state.buffer.slice(index + 1);
  return line;
}

Deno.test("serve() serves a project: agents, workflows and dispatches handled by its worker", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeProject(dir);
    const server = await serve({ dir, port: 0, handleSignals: false, token: undefined });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const echo = await fetch(`${server.url}/workflows/echo?wait=result`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ a: 1 }),
      });
      assert.deepEqual((await echo.json()).result, { echo: { a: 1 } });
      const accepted = await fetch(`${server.url}/agents/slow/u1/dispatch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "queued" }),
      });
      const { dispatchId } = await accepted.json();
      let status = "";
      for (let i = 0; i < 500 && status !== "done"; i++) {
        status = (await (await fetch(`${server.url}/dispatches/${dispatchId}`)).json()).status;
        if (status !== "done") await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(status, "done");
    } finally {
      await server.shutdown();
    }
    await server.finished;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve() refuses to listen beyond loopback without a token, and accepts it with one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeProject(dir);
    await assert.rejects(
      serve({ dir, hostname: "0.0.0.0", port: 0, handleSignals: false }),
      /Refusing to listen on "0.0.0.0" without an API token: set FLUE_API_TOKEN/,
    );
    const token = "serve-test-token-0123456789";
    const server = await serve({ dir, hostname: "0.0.0.0", port: 0, handleSignals: false, token });
    try {
      const base = `http://127.0.0.1:${server.addr.port}`;
      assert.equal((await fetch(`${base}/agents`).then((response) => (response.body?.cancel(), response))).status, 401);
      const ok = await fetch(`${base}/agents`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("on SIGTERM the server drains: a running dispatch finishes before the process exits", async () => {
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("./testdata/serve_project.ts", import.meta.url).pathname, dir],
    stdout: "piped",
    stderr: "inherit",
    env: { FLUE_API_TOKEN: "" },
  });
  let process: Deno.ChildProcess | undefined;
  try {
    await writeProject(dir);
    process = child.spawn();
    const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const state = { buffer: "" };
    const url = await readLine(reader, state);
    const { dispatchId } = await (await fetch(`${url}/agents/slow/u1/dispatch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "finish me" }),
    })).json();
    let status = "";
    for (let i = 0; i < 500 && status !== "running" && status !== "done"; i++) {
      status = (await (await fetch(`${url}/dispatches/${dispatchId}`)).json()).status;
      if (status !== "running") await new Promise((resolve) => setTimeout(resolve, 5));
    }
    process.kill("SIGTERM");
    assert.equal(await readLine(reader, state), "stopped");
    await reader.cancel();
    assert.equal((await process.status).code, 0);
    const store = new SqliteStore({ path: join(dir, ".flue", "flue.db") });
    try {
      const record = await store.getDispatch(dispatchId);
      assert.equal(record?.status, "done");
      assert.equal(record?.attempts.length, 1);
    } finally {
      await store.close();
    }
  } finally {
    try {
      process?.kill("SIGKILL");
    } catch {
      // already exited
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the generated project's server.ts runs under deno serve; main.ts refuses to start without a token", async () => {
  const dir = await Deno.makeTempDir();
  let process: Deno.ChildProcess | undefined;
  try {
    await writeNewProject(dir);
    process = new Deno.Command(Deno.execPath(), {
      args: ["serve", "-A", "--host", "127.0.0.1", "--port", "0", "server.ts"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { FLUE_API_TOKEN: "" },
    }).spawn();
    const reader = process.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const state = { buffer: "" };
    let url = "";
    for (let i = 0; i < 50 && !url; i++) {
      url = (await readLine(reader, state)).match(/(http:\/\/127\.0\.0\.1:\d+)/)?.[1] ?? "";
    }
    const response = await fetch(`${url}/agents/assistant/a`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "Hello from deno serve" }),
    });
    assert.equal(response.status, 200);
    assert.match((await response.json()).result.text, /Hello from deno serve/);
    const run = await fetch(`${url}/workflows/summarize?wait=result`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "Deno serves modules." }),
    });
    assert.equal(run.status, 200);
    assert.equal(typeof (await run.json()).result.summary, "string");
    process.kill("SIGTERM");
    await reader.cancel();
    await process.stdout.cancel();
    await process.status;
    process = undefined;

    const deploy = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts"],
      cwd: dir,
      env: { FLUE_API_TOKEN: "" },
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.notEqual(deploy.code, 0);
    assert.match(new TextDecoder().decode(deploy.stderr), /Set FLUE_API_TOKEN/);
  } finally {
    try {
      process?.kill("SIGKILL");
    } catch {
      // already exited
    }
    await Deno.remove(dir, { recursive: true });
  }
});
