import assert from "node:assert/strict";
import type { EventPayload } from "../../events/event_types.ts";
import { AbortError, PolicyDeniedError } from "../../errors.ts";
import { createBashTool } from "./bash_tool.ts";
import { memorySandboxWith, toolContext } from "../testdata/memory_fixture.ts";

Deno.test("bash tool returns the exit code, stdout and stderr, and emits command events", async () => {
  const sandbox = await memorySandboxWith({ "a.txt": "hello\n" }, {
    allowShell: true,
    allowedCommands: ["cat"],
  });
  const events: EventPayload[] = [];
  const bash = createBashTool(sandbox);
  assert.equal(await bash.run({ command: "cat a.txt" }, toolContext(events)), "exit code: 0\nstdout:\nhello\n");
  assert.match(String(await bash.run({ command: "cat missing.txt" }, toolContext())), /^exit code: 1\nstderr:\n.+/);
  assert.deepEqual(events.map((event) => event.type), ["command_start", "command_end"]);
  assert.deepEqual(events[1], { ...events[1], type: "command_end", command: "cat a.txt", exitCode: 0 });
});

Deno.test("bash tool notes a timeout and cut output", async () => {
  const sandbox = await memorySandboxWith({}, { allowShell: true, allowedCommands: ["sleep", "seq"] });
  const bash = createBashTool(sandbox, { maxOutputBytes: 100 });
  assert.match(
    String(await bash.run({ command: "sleep 10", timeoutMs: 100 }, toolContext())),
    /^exit code: 124\n[\s\S]*\[timed out after 100 ms and was killed; the output so far is shown\]$/,
  );
  assert.match(
    String(await bash.run({ command: "seq 1 1000" }, toolContext())),
    /\[output was cut at the size limit; redirect it to a file or filter it\]$/,
  );
});

Deno.test("bash tool lets the sandbox refuse what the policy does not allow", async () => {
  const sandbox = await memorySandboxWith({}, { allowShell: true, allowedCommands: ["echo"] });
  const bash = createBashTool(sandbox);
  await assert.rejects(Promise.resolve(bash.run({ command: "rm -rf /" }, toolContext())), PolicyDeniedError);
  await assert.rejects(Promise.resolve(bash.run({ command: "echo a; echo b" }, toolContext())), PolicyDeniedError);
});

Deno.test("bash tool describes the policy to the model", async () => {
  const strict = createBashTool(await memorySandboxWith({}, { allowShell: true, allowedCommands: ["git status"] }));
  assert.match(strict.description, /Allowed commands: git status\./);
  assert.match(strict.description, /refused/);
  assert.match(strict.description, /read-only/);
  const loose = createBashTool(
    await memorySandboxWith({}, {
      allowShell: true,
      allowWrite: true,
      allowCompoundCommands: true,
      allowedCommands: ["echo"],
    }),
  );
  assert.match(loose.description, /are allowed/);
  assert.doesNotMatch(loose.description, /read-only/);
});

Deno.test("bash tool throws AbortError when the call is cancelled", async () => {
  const sandbox = await memorySandboxWith({}, { allowShell: true, allowedCommands: ["sleep"] });
  const controller = new AbortController();
  const running = createBashTool(sandbox).run({ command: "sleep 10" }, toolContext([], controller.signal));
  // Nothing signals that the simulated command has started; a short delay lets it reach its sleep.
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(Promise.resolve(running), AbortError);
});

Deno.test("bash tool's schema rejects invalid arguments", () => {
  const bash = createBashTool({ policy: { allowedCommands: [] } } as never, { maxTimeoutMs: 1_000 });
  assert.equal(bash.input.safeParse({}).success, false);
  assert.equal(bash.input.safeParse({ command: "" }).success, false);
  assert.equal(bash.input.safeParse({ command: "ls", timeoutMs: 5_000 }).success, false);
  assert.equal(bash.input.safeParse({ command: "ls", timeoutMs: 0 }).success, false);
  assert.equal(bash.input.safeParse({ command: "ls", timeoutMs: 500 }).success, true);
});

Deno.test("bash tool tells the model when a listed interpreter is refused without allowInterpreters", async () => {
  const listed = { allowShell: true, allowedCommands: ["python3", "ls"] };
  const refused = createBashTool(await memorySandboxWith({}, listed));
  assert.match(refused.description, /Listed interpreters .* are refused/);
  const allowed = createBashTool(await memorySandboxWith({}, { ...listed, allowInterpreters: true }));
  assert.doesNotMatch(allowed.description, /interpreters/);
  const none = createBashTool(await memorySandboxWith({}, { allowShell: true, allowedCommands: ["ls"] }));
  assert.doesNotMatch(none.description, /interpreters/);
});
