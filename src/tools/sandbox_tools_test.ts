import assert from "node:assert/strict";
import { assertCustomToolName, BUILTIN_TOOL_NAMES, createSandboxTools } from "./sandbox_tools.ts";
import { memorySandboxWith } from "./testdata/memory_fixture.ts";

Deno.test("createSandboxTools() offers only reading tools under the deny-all policy", async () => {
  const names = createSandboxTools(await memorySandboxWith({})).map((tool) => tool.name);
  assert.deepEqual(names, ["read", "grep", "glob", "ls", "stat"]);
});

Deno.test("createSandboxTools() adds write and edit with allowWrite, and bash with allowShell", async () => {
  const writer = createSandboxTools(await memorySandboxWith({}, { allowWrite: true })).map((tool) => tool.name);
  assert.deepEqual(writer, ["read", "write", "edit", "grep", "glob", "ls", "stat"]);
  const shell = createSandboxTools(await memorySandboxWith({}, { allowShell: true })).map((tool) => tool.name);
  assert.deepEqual(shell, ["read", "grep", "glob", "ls", "stat", "bash"]);
  const both = createSandboxTools(await memorySandboxWith({}, { allowWrite: true, allowShell: true }));
  assert.deepEqual(both.map((tool) => tool.name), ["read", "write", "edit", "grep", "glob", "ls", "stat", "bash"]);
});

Deno.test("createSandboxTools() gives every input field a description", async () => {
  const tools = createSandboxTools(await memorySandboxWith({}, { allowWrite: true, allowShell: true }));
  for (const tool of tools) {
    const shape = (tool.input as unknown as { shape: Record<string, { description?: string }> }).shape;
    for (const [field, schema] of Object.entries(shape)) {
      assert.ok(schema.description, `${tool.name}.${field} has no description`);
    }
  }
});

Deno.test("assertCustomToolName() refuses every built-in name and accepts others", () => {
  for (const name of BUILTIN_TOOL_NAMES) {
    assert.throws(() => assertCustomToolName(name), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, new RegExp(`Tool name "${name}" is reserved`));
      return true;
    });
  }
  assertCustomToolName("weather");
  assert.deepEqual([...BUILTIN_TOOL_NAMES].sort(), [
    "activate_skill",
    "bash",
    "code",
    "edit",
    "finish",
    "glob",
    "grep",
    "ls",
    "read",
    "read_output",
    "stat",
    "task",
    "write",
  ]);
});
