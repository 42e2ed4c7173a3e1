import assert from "node:assert/strict";
import { join } from "node:path";
import { AbortError, SandboxUnavailableError } from "../../errors.ts";
import { createCodeTool, MAX_CODE_BYTES, runCode } from "./code_tool.ts";
import type { ToolContext } from "../tool.ts";

const toolContext = (): ToolContext => ({ signal: new AbortController().signal, toolCallId: "call-1", emit: () => {} });

Deno.test("runCode() returns the final expression's value and what was printed", async () => {
  const result = await runCode({ code: "console.log('working');\nconst xs = [1, 2, 3];\nxs.map((x) => x * 2)" });
  assert.deepEqual(result.value, [2, 4, 6]);
  assert.equal(result.hasValue, true);
  assert.equal(result.stdout, "working\n");
  assert.equal(result.exitCode, 0);
});

Deno.test("runCode() returns the value of a top-level return and awaits", async () => {
  const result = await runCode({
    code: "const n = await Promise.resolve(20);\nif (n > 10) return { n, big: true };\n0",
  });
  assert.deepEqual(result.value, { n: 20, big: true });
});

Deno.test("runCode() runs TypeScript with types", async () => {
  const code = "interface Point { x: number; y: number }\n" +
    "function length(p: Point): number { return Math.hypot(p.x, p.y); }\n" +
    "const p: Point = { x: 3, y: 4 };\nlength(p) as number";
  assert.equal((await runCode({ code, language: "typescript" })).value, 5);
  assert.equal((await runCode({ code: "let a = 1\na + 1", language: "javascript" })).value, 2);
});

Deno.test("runCode() cannot read files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const secret = join(dir, "secret.txt");
    await Deno.writeTextFile(secret, "top secret");
    const result = await runCode({ code: `await Deno.readTextFile(${JSON.stringify(secret)})` });
    assert.equal(result.error?.name, "NotCapable");
    assert.equal(result.hasValue, false);
    assert.doesNotMatch(result.stdout + result.stderr, /top secret/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCode() cannot write files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const target = join(dir, "written.txt");
    const result = await runCode({ code: `Deno.writeTextFileSync(${JSON.stringify(target)}, "x")` });
    assert.equal(result.error?.name, "NotCapable");
    await assert.rejects(Deno.stat(target), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCode() cannot reach the network", async () => {
  let connections = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    connections += 1;
    return new Response("reached");
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/`;
    const result = await runCode({ code: `await (await fetch(${JSON.stringify(url)})).text()` });
    assert.equal(result.error?.name, "NotCapable");
    const raw = await runCode({ code: `await Deno.connect({ hostname: "127.0.0.1", port: ${server.addr.port} })` });
    assert.equal(raw.error?.name, "NotCapable");
    assert.equal(connections, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("runCode() cannot read the environment", async () => {
  Deno.env.set("FLUE_CODE_TOOL_SECRET", "hunter2");
  try {
    const result = await runCode({ code: "Deno.env.get('FLUE_CODE_TOOL_SECRET')" });
    assert.equal(result.error?.name, "NotCapable");
    const all = await runCode({ code: "JSON.stringify(Deno.env.toObject())" });
    assert.equal(all.error?.name, "NotCapable");
    assert.doesNotMatch(all.stdout + all.stderr, /hunter2/);
  } finally {
    Deno.env.delete("FLUE_CODE_TOOL_SECRET");
  }
});

Deno.test("runCode() cannot start subprocesses", async () => {
  const code = `new Deno.Command(${JSON.stringify(Deno.execPath())}, { args: ["--version"] }).outputSync()`;
  const result = await runCode({ code });
  assert.equal(result.error?.name, "NotCapable");
  assert.match(result.error?.message ?? "", /run access/);
});

Deno.test("runCode() kills an infinite loop at the timeout", async () => {
  const started = performance.now();
  const result = await runCode({ code: "while (true) {}", timeoutMs: 500 });
  assert.ok(performance.now() - started < 5_000);
  assert.equal(result.timedOut, true);
  assert.equal(result.exitCode, 124);
  assert.equal(result.hasValue, false);
});

Deno.test("runCode() stops a memory hog at the memory cap", async () => {
  const result = await runCode({
    code: "const kept = [];\nwhile (true) kept.push(new Array(1_000_000).fill(1));",
    memoryMb: 32,
    timeoutMs: 20_000,
  });
  assert.equal(result.timedOut, false);
  assert.equal(result.memoryExceeded, true);
  assert.notEqual(result.exitCode, 0);
});

Deno.test("runCode() reports thrown and compile errors", async () => {
  const thrown = await runCode({ code: "const a = 1;\nthrow new RangeError('too big')" });
  assert.deepEqual(thrown.error, { name: "RangeError", message: "too big (at line 2)" });
  assert.equal(thrown.exitCode, 1);
  const broken = await runCode({ code: "const = 1" });
  assert.equal(broken.error?.name, "SyntaxError");
});

Deno.test("runCode() cuts long output and still finds the value", async () => {
  const result = await runCode({ code: "console.log('x'.repeat(500_000));\n42", maxOutputBytes: 1_000 });
  assert.equal(result.value, 42);
  assert.equal(result.truncated, true);
  assert.match(result.stdout, /^x{1000}\n\[stdout cut at 1000 bytes\]$/);
});

Deno.test("runCode() refuses oversized code and bad limits", async () => {
  await assert.rejects(runCode({ code: "1;".repeat(MAX_CODE_BYTES) }), RangeError);
  await assert.rejects(runCode({ code: "1", timeoutMs: 0 }), RangeError);
  await assert.rejects(runCode({ code: "1", memoryMb: 1 }), RangeError);
  await assert.rejects(runCode({ code: "1", language: "ruby" as "javascript" }), TypeError);
});

Deno.test("runCode() says the sandbox is unavailable when deno cannot be started", async () => {
  const missing = join(await Deno.makeTempDir(), "no-deno-here");
  try {
    await assert.rejects(runCode({ code: "1", denoPath: missing }), SandboxUnavailableError);
  } finally {
    await Deno.remove(join(missing, ".."), { recursive: true });
  }
});

Deno.test("runCode() throws AbortError when aborted", async () => {
  const controller = new AbortController();
  const running = runCode({
    code: "await new Promise((done) => setTimeout(done, 60_000))",
    signal: controller.signal,
    timeoutMs: 20_000,
  });
  controller.abort();
  await assert.rejects(running, AbortError);
});

Deno.test("createCodeTool() formats the value, output and error for the model", async () => {
  const tool = createCodeTool();
  assert.equal(tool.name, "code");
  assert.equal(await tool.run({ code: "console.log('hi');\n6 * 7" }, toolContext()), "value: 42\nstdout:\nhi\n");
  assert.match(
    String(await tool.run({ code: "null.x" }, toolContext())),
    /^error: TypeError: Cannot read properties of null/,
  );
  assert.equal(tool.input.safeParse({ code: "" }).success, false);
  assert.equal(tool.input.safeParse({ code: "1", language: "ruby" }).success, false);
  assert.equal(tool.input.safeParse({ code: "1", timeoutMs: 10_000_000 }).success, false);
});
