// Python snippets in the code tool: CPython (Pyodide) in the same permission-less subprocess as JavaScript. Each run
// loads CPython (seconds of CPU), so one test makes the runs in turn and checks each.
import assert from "node:assert/strict";
import { runCode } from "./code_tool.ts";
import { createCodeTool } from "./code_tool.ts";

const ESCAPES = `
import os, js
outcomes = {}
def attempt(name, action):
    try:
        action()
        outcomes[name] = "allowed"
    except BaseException as error:
        outcomes[name] = type(error).__name__ + ": " + str(error)[:160]
attempt("host_file_from_python", lambda: open("/etc/passwd").read())
attempt("host_file_through_js", lambda: js.Deno.readTextFileSync("/etc/passwd"))
attempt("write_through_js", lambda: js.Deno.writeTextFileSync("/tmp/flue-python-escape", "x"))
attempt("env_through_js", lambda: js.Deno.env.get("PATH"))
attempt("subprocess_through_js", lambda: js.Deno.Command.new("/bin/sh").outputSync())
try:
    await js.fetch("http://127.0.0.1:PORT/")
    outcomes["network"] = "allowed"
except BaseException as error:
    outcomes["network"] = type(error).__name__ + ": " + str(error)[:160]
outcomes["host_path_in_environ"] = os.environ.get("PATH", "")
outcomes
`;

Deno.test("runCode() runs Python with its standard library, and refuses files, env, network and subprocesses", async () => {
  let connections = 0;
  const listener = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    connections++;
    return new Response("reached");
  });
  try {
    const values = await runCode({
      language: "python",
      code: "import statistics, json\nprint('mean', statistics.mean([1, 2, 3, 4]))\n" +
        "{'total': sum(range(10)), 'json': json.dumps([1])}",
    });
    const failure = await runCode({ language: "python", code: "def divide(a, b):\n    return a / b\n\ndivide(1, 0)" });
    const escapes = await runCode({
      language: "python",
      code: ESCAPES.replace("PORT", String(listener.addr.port)),
      timeoutMs: 20_000,
    });
    const memory = await runCode({
      language: "python",
      code: "chunks = [bytearray(32 * 1024 * 1024) for _ in range(16)]\nlen(chunks)",
    });
    // Emscripten's system() goes to Deno's node:child_process, which the missing permissions stop: CPython dies there.
    const system = await runCode({ language: "python", code: "import os\nos.system('id > /tmp/flue-python-escape')" });
    const loop = await runCode({ language: "python", code: "while True:\n    pass", timeoutMs: 500 });

    assert.deepEqual(values.value, { total: 45, json: "[1]" }, JSON.stringify(values));
    assert.equal(values.stdout, "mean 2.5\n");
    assert.equal(values.exitCode, 0);

    assert.equal(failure.error?.name, "ZeroDivisionError", JSON.stringify(failure));
    assert.match(failure.error!.message, /line 2, in divide/);
    assert.match(failure.error!.message, /ZeroDivisionError: division by zero$/);
    assert.doesNotMatch(failure.error!.message, /_pyodide/);

    const outcomes = escapes.value as Record<string, string>;
    assert.ok(outcomes, JSON.stringify(escapes));
    assert.match(outcomes.host_file_from_python, /^FileNotFoundError/, "Python's files are its own in-memory ones");
    for (const name of ["host_file_through_js", "write_through_js", "env_through_js", "subprocess_through_js"]) {
      assert.match(outcomes[name], /NotCapable|PermissionDenied|Requires/, `${name}: ${outcomes[name]}`);
    }
    assert.equal(system.hasValue, false);
    assert.notEqual(system.exitCode, 0);
    assert.match(system.stderr, /NotCapable|PermissionDenied/);
    assert.match(outcomes.network, /NotCapable|PermissionDenied|Requires/, outcomes.network);
    assert.equal(connections, 0, "nothing reached the listener");
    assert.doesNotMatch(outcomes.host_path_in_environ, /\/usr\/bin|\/usr\/local/);
    await assert.rejects(Deno.stat("/tmp/flue-python-escape"), Deno.errors.NotFound);

    assert.equal(memory.memoryExceeded, true, JSON.stringify(memory).slice(0, 400));
    assert.equal(memory.error?.name, "MemoryError");

    assert.equal(loop.timedOut, true);
    assert.equal(loop.exitCode, 124);
  } finally {
    await listener.shutdown();
  }
});

Deno.test("the code tool offers python and rejects an unknown language", async () => {
  const tool = createCodeTool();
  const parsed = tool.input as unknown as { safeParse(value: unknown): { success: boolean } };
  assert.equal(parsed.safeParse({ code: "1", language: "python" }).success, true);
  assert.equal(parsed.safeParse({ code: "1", language: "ruby" }).success, false);
  await assert.rejects(
    runCode({ code: "1", language: "ruby" as "python" }),
    /Unknown language "ruby": use "javascript", "typescript" or "python"/,
  );
});
