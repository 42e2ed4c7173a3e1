import assert from "node:assert/strict";
import { z } from "zod";
import { PolicyDeniedError } from "../errors.ts";
import { commandToTool, defineCommand, quoteArgv } from "./define_command.ts";
import { memorySandboxWith, toolContext } from "./testdata/memory_fixture.ts";

const echoArgs = defineCommand({
  name: "echo_args",
  description: "Prints each argument between bars",
  args: z.object({ first: z.string(), second: z.string().optional() }),
  argv: ["printf", "%s|", "{first}", "{second}"],
});

const INJECTIONS = [
  "; rm -rf /",
  "$(touch pwned)",
  "`touch pwned`",
  "a && touch pwned",
  "x | tee pwned",
  "> pwned",
  'it\'s "quoted" \\ back',
  "${HOME}",
  "*",
  "line one\nline two",
  "",
];

Deno.test("defineCommand() argv templates keep injection attempts as one literal argument", async () => {
  const sandbox = await memorySandboxWith({}, { allowShell: true, allowWrite: true, allowedCommands: ["printf"] });
  const tool = commandToTool(echoArgs, sandbox);
  for (const attempt of INJECTIONS) {
    const text = await tool.run({ first: attempt, second: "end" }, toolContext());
    assert.equal(text, `exit code: 0\nstdout:\n${attempt}|end|`, `argument ${JSON.stringify(attempt)}`);
  }
  assert.equal(await sandbox.exists("pwned"), false);
});

Deno.test("defineCommand() leaves out a missing optional argument", async () => {
  const sandbox = await memorySandboxWith({}, { allowShell: true, allowedCommands: ["printf"] });
  assert.equal(
    await commandToTool(echoArgs, sandbox).run({ first: "one" }, toolContext()),
    "exit code: 0\nstdout:\none|",
  );
});

Deno.test("defineCommand() refuses an argument that would read as an option, unless after --", async () => {
  const sandbox = await memorySandboxWith({}, { allowShell: true, allowedCommands: ["printf"] });
  await assert.rejects(
    Promise.resolve(commandToTool(echoArgs, sandbox).run({ first: "--help" }, toolContext())),
    /may not start with "-"/,
  );
  const afterDashes = defineCommand({
    name: "after_dashes",
    description: "Prints an argument after --",
    args: z.object({ value: z.string() }),
    argv: ["printf", "%s|", "--", "{value}"],
  });
  assert.equal(
    await commandToTool(afterDashes, sandbox).run({ value: "-rf" }, toolContext()),
    "exit code: 0\nstdout:\n--|-rf|",
  );
});

Deno.test("defineCommand() fills placeholders inside an element and accepts an argv function", async () => {
  const sandbox = await memorySandboxWith({}, { allowShell: true, allowedCommands: ["printf"] });
  const embedded = defineCommand({
    name: "embedded",
    description: "Prints a flag with a value",
    args: z.object({ count: z.number().int() }),
    argv: ["printf", "%s", "--count={count}"],
  });
  assert.equal(
    await commandToTool(embedded, sandbox).run({ count: 3 }, toolContext()),
    "exit code: 0\nstdout:\n--count=3",
  );
  const listed = defineCommand({
    name: "listed",
    description: "Prints several values",
    args: z.object({ values: z.array(z.string()) }),
    argv: ({ values }) => ["printf", "%s|", ...values],
  });
  assert.equal(
    await commandToTool(listed, sandbox).run({ values: ["a b", "; ls"] }, toolContext()),
    "exit code: 0\nstdout:\na b|; ls|",
  );
});

Deno.test("defineCommand() runs a function command with the sandbox in its context", async () => {
  const sandbox = await memorySandboxWith({ "a.txt": "hello" });
  const size = defineCommand({
    name: "file_size",
    description: "The size of a file",
    args: z.object({ path: z.string() }),
    run: async ({ path }, context) => (await context.sandbox.stat(path)).size,
  });
  assert.equal(await commandToTool(size, sandbox).run({ path: "a.txt" }, toolContext()), 5);
});

Deno.test("defineCommand() sandbox commands still need the policy", async () => {
  const noShell = await memorySandboxWith({}, { allowedCommands: ["printf"] });
  await assert.rejects(
    Promise.resolve(commandToTool(echoArgs, noShell).run({ first: "x" }, toolContext())),
    PolicyDeniedError,
  );
  const otherProgram = await memorySandboxWith({}, { allowShell: true, allowedCommands: ["echo"] });
  await assert.rejects(
    Promise.resolve(commandToTool(echoArgs, otherProgram).run({ first: "x" }, toolContext())),
    PolicyDeniedError,
  );
});

Deno.test("defineCommand() validates names and definitions", () => {
  const base = { description: "d", args: z.object({ a: z.string() }), argv: ["echo", "{a}"] };
  assert.throws(() => defineCommand({ ...base, name: "has space" }), /Invalid command name "has space"/);
  assert.throws(() => defineCommand({ ...base, name: "9lives" }), /Invalid command name/);
  assert.throws(() => defineCommand({ ...base, name: "bash" }), /reserved/);
  assert.throws(() => defineCommand({ ...base, name: "ok", description: " " }), /needs a description/);
  assert.throws(() => defineCommand({ ...base, name: "ok", run: () => 1 }), /exactly one of argv/);
  assert.throws(() => defineCommand({ name: "ok", description: "d", args: z.object({}) }), /exactly one of argv/);
  assert.throws(() => defineCommand({ ...base, name: "ok", argv: ["{a}"] }), /must be a fixed name/);
  assert.throws(() => defineCommand({ ...base, name: "ok", argv: ["echo", "{b}"] }), /placeholder "\{b\}"/);
  assert.throws(() => defineCommand({ ...base, name: "ok", argv: [] }), /non-empty array/);
  assert.throws(() => defineCommand({ ...base, name: "ok", timeoutMs: -1 }), /timeoutMs/);
});

Deno.test("defineCommand() tools validate their arguments with the args schema", () => {
  const tool = commandToTool(echoArgs, {} as never);
  assert.equal(tool.input.safeParse({}).success, false);
  assert.equal(tool.input.safeParse({ first: 1 }).success, false);
  assert.equal(tool.input.safeParse({ first: "a" }).success, true);
});

Deno.test("quoteArgv() single-quotes every element", () => {
  assert.equal(quoteArgv(["git", "log", "it's"]), `'git' 'log' 'it'\\''s'`);
  assert.equal(quoteArgv(["printf", ""]), `'printf' ''`);
});
