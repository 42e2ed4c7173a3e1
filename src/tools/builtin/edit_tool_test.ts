import assert from "node:assert/strict";
import { PolicyDeniedError } from "../../errors.ts";
import { createEditTool } from "./edit_tool.ts";
import { createWriteTool } from "./write_tool.ts";
import { memorySandboxWith, toolContext } from "../testdata/memory_fixture.ts";

Deno.test("write tool creates and replaces files, creating parent directories", async () => {
  const sandbox = await memorySandboxWith({}, { allowWrite: true });
  const write = createWriteTool(sandbox);
  assert.equal(
    await write.run({ path: "docs/notes.md", content: "# Notes\nhello\n" }, toolContext()),
    `Created "docs/notes.md" (2 lines, 14 bytes)`,
  );
  assert.equal(
    await write.run({ path: "docs/notes.md", content: "bye" }, toolContext()),
    `Replaced "docs/notes.md" (1 line, 3 bytes)`,
  );
  assert.equal(await sandbox.readFile("docs/notes.md"), "bye");
  await assert.rejects(Promise.resolve(write.run({ path: "docs", content: "x" }, toolContext())), /is a directory/);
});

Deno.test("write tool is refused by a sandbox without allowWrite", async () => {
  const write = createWriteTool(await memorySandboxWith({}));
  await assert.rejects(Promise.resolve(write.run({ path: "a.txt", content: "x" }, toolContext())), PolicyDeniedError);
});

Deno.test("edit tool replaces one exact match", async () => {
  const sandbox = await memorySandboxWith({ "a.ts": "const a = 1;\nconst b = 2;\n" }, { allowWrite: true });
  const edit = createEditTool(sandbox);
  assert.equal(
    await edit.run({ path: "a.ts", oldText: "const b = 2;", newText: "const b = 3;" }, toolContext()),
    `Replaced 1 occurrence in "a.ts"`,
  );
  assert.equal(await sandbox.readFile("a.ts"), "const a = 1;\nconst b = 3;\n");
});

Deno.test("edit tool keeps $ patterns in newText literal", async () => {
  const sandbox = await memorySandboxWith({ "a.txt": "price: X\n" }, { allowWrite: true });
  await createEditTool(sandbox).run({ path: "a.txt", oldText: "X", newText: "$& and $1 and $$" }, toolContext());
  assert.equal(await sandbox.readFile("a.txt"), "price: $& and $1 and $$\n");
});

Deno.test("edit tool replaces every match with replaceAll", async () => {
  const sandbox = await memorySandboxWith({ "a.txt": "foo bar foo baz foo" }, { allowWrite: true });
  const edit = createEditTool(sandbox);
  assert.equal(
    await edit.run({ path: "a.txt", oldText: "foo", newText: "qux", replaceAll: true }, toolContext()),
    `Replaced 3 occurrences in "a.txt"`,
  );
  assert.equal(await sandbox.readFile("a.txt"), "qux bar qux baz qux");
});

Deno.test("edit tool says when oldText is not found, and leaves the file alone", async () => {
  const sandbox = await memorySandboxWith({ "a.txt": "hello world\n" }, { allowWrite: true });
  const edit = createEditTool(sandbox);
  await assert.rejects(
    Promise.resolve(edit.run({ path: "a.txt", oldText: "hello  world", newText: "x" }, toolContext())),
    /oldText was not found in "a.txt": read the file and copy the text exactly, including whitespace$/,
  );
  assert.equal(await sandbox.readFile("a.txt"), "hello world\n");
});

Deno.test("edit tool hints at Windows line endings when they are why nothing matched", async () => {
  const sandbox = await memorySandboxWith({ "a.txt": "one\r\ntwo\r\n" }, { allowWrite: true });
  await assert.rejects(
    Promise.resolve(createEditTool(sandbox).run({ path: "a.txt", oldText: "one\ntwo", newText: "x" }, toolContext())),
    /Windows line endings/,
  );
});

Deno.test("edit tool says how many places match when oldText is not unique", async () => {
  const sandbox = await memorySandboxWith({ "a.txt": "x = 1\nx = 1\nx = 1\n" }, { allowWrite: true });
  await assert.rejects(
    Promise.resolve(createEditTool(sandbox).run({ path: "a.txt", oldText: "x = 1", newText: "x = 2" }, toolContext())),
    /oldText matches 3 places in "a.txt": include more surrounding lines so it matches once, or set replaceAll to true/,
  );
  assert.equal(await sandbox.readFile("a.txt"), "x = 1\nx = 1\nx = 1\n");
});

Deno.test("edit tool refuses identical texts, a missing file and a read-only sandbox", async () => {
  const writable = createEditTool(await memorySandboxWith({ "a.txt": "a" }, { allowWrite: true }));
  await assert.rejects(
    Promise.resolve(writable.run({ path: "a.txt", oldText: "a", newText: "a" }, toolContext())),
    /identical/,
  );
  await assert.rejects(
    Promise.resolve(writable.run({ path: "nope.txt", oldText: "a", newText: "b" }, toolContext())),
    Deno.errors.NotFound,
  );
  const readOnly = createEditTool(await memorySandboxWith({ "a.txt": "a" }));
  await assert.rejects(
    Promise.resolve(readOnly.run({ path: "a.txt", oldText: "a", newText: "b" }, toolContext())),
    PolicyDeniedError,
  );
});

Deno.test("write and edit tools' schemas reject invalid arguments", () => {
  const write = createWriteTool({} as never);
  const edit = createEditTool({} as never);
  assert.equal(write.input.safeParse({ path: "a" }).success, false);
  assert.equal(write.input.safeParse({ path: "a", content: 1 }).success, false);
  assert.equal(edit.input.safeParse({ path: "a", newText: "b" }).success, false);
  assert.equal(edit.input.safeParse({ path: "a", oldText: "", newText: "b" }).success, false);
  assert.equal(edit.input.safeParse({ path: "a", oldText: "a", newText: "b", replaceAll: "yes" }).success, false);
  assert.equal(edit.input.safeParse({ path: "a", oldText: "a", newText: "" }).success, true);
});
