import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeOpenAI } from "../testing.ts";
import { ROOT, runCli } from "./_cli_helpers.ts";

type Body = { stream?: boolean; tools?: { function: { name: string } }[] };

async function projectWith(flue: Record<string, unknown>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "flue-cli-stream-" });
  const init = await runCli(["init", dir], { cwd: ROOT });
  assert.equal(init.code, 0, init.stderr);
  const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
  config.flue = { model: "local:fake-model", ...flue };
  await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(config, null, 2));
  return dir;
}

async function runIn(dir: string): Promise<void> {
  const run = await runCli(["run", "--prompt", "hi"], { cwd: dir, config: join(dir, "deno.json") });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "Whole answer");
}

Deno.test("flue run: a provider's stream: false in deno.json sends stream: false, and builtinTools: false drops the built-in schemas", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "Whole answer" }] });
  const dir = await projectWith({
    providers: { local: { baseURL: server.url, stream: false } },
    builtinTools: false,
  });
  try {
    await runIn(dir);
    const body = server.requests[0].body as Body;
    assert.equal(body.stream, false);
    const names = (body.tools ?? []).map((tool) => tool.function.name);
    for (const builtin of ["read", "grep", "glob", "ls", "stat"]) assert.ok(!names.includes(builtin), names.join());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flue run: top-level stream: false and a builtinTools list apply under the ai-sdk harness", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "Whole answer" }] });
  const dir = await projectWith({
    harness: "ai-sdk",
    providers: { local: { baseURL: server.url } },
    stream: false,
    builtinTools: ["read"],
  });
  try {
    await runIn(dir);
    const body = server.requests[0].body as Body;
    // The AI SDK leaves `stream` out of a whole-reply request; a streamed one says `stream: true`.
    assert.notEqual(body.stream, true);
    const names = (body.tools ?? []).map((tool) => tool.function.name);
    assert.ok(names.includes("read"), names.join());
    for (const builtin of ["grep", "glob", "ls", "stat"]) assert.ok(!names.includes(builtin), names.join());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flue run: an unknown builtinTools name in deno.json is refused before any request", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "Whole answer" }] });
  const dir = await projectWith({ providers: { local: { baseURL: server.url } }, builtinTools: ["cat"] });
  try {
    const run = await runCli(["run", "--prompt", "hi"], { cwd: dir, config: join(dir, "deno.json") });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /builtinTools/);
    assert.equal(server.requests.length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
