import assert from "node:assert/strict";
import { createLsTool, createStatTool } from "./ls_tool.ts";
import { memorySandboxWith, toolContext } from "../testdata/memory_fixture.ts";

Deno.test("ls tool lists directories first, then files with sizes", async () => {
  const sandbox = await memorySandboxWith({ "b.txt": "hello", "a.md": "", "src/x.ts": "x", "lib/y.ts": "y" });
  const ls = createLsTool(sandbox);
  assert.equal(
    await ls.run({}, toolContext()),
    "dir   lib/\ndir   src/\nfile  a.md  (0 bytes)\nfile  b.txt  (5 bytes)",
  );
  assert.equal(await ls.run({ path: "src" }, toolContext()), "file  x.ts  (1 byte)");
});

Deno.test("ls tool caps long listings and explains a file or an empty directory", async () => {
  const files = Object.fromEntries(Array.from({ length: 5 }, (_, index) => [`f${index}`, ""]));
  const sandbox = await memorySandboxWith(files, { allowWrite: true });
  await sandbox.mkdir("empty");
  const ls = createLsTool(sandbox, { maxListEntries: 2 });
  assert.equal(
    await ls.run({}, toolContext()),
    "dir   empty/\nfile  f0  (0 bytes)\n[showing 2 of 6 entries; use glob to find specific files]",
  );
  assert.equal(await ls.run({ path: "empty" }, toolContext()), `(the directory "empty" is empty)`);
  await assert.rejects(Promise.resolve(ls.run({ path: "f0" }, toolContext())), /is not a directory/);
  await assert.rejects(Promise.resolve(ls.run({ path: "../" }, toolContext())), /leaves the workspace/);
});

Deno.test("stat tool describes a file, a directory and a missing path", async () => {
  const stat = createStatTool(await memorySandboxWith({ "src/a.ts": "12345" }));
  assert.match(
    String(await stat.run({ path: "src/a.ts" }, toolContext())),
    /^path: src\/a.ts\ntype: file\nsize: 5 bytes\nmodified: \d{4}-/,
  );
  assert.match(String(await stat.run({ path: "src" }, toolContext())), /type: directory/);
  assert.equal(await stat.run({ path: "nope" }, toolContext()), "path: nope\nexists: no");
});

Deno.test("ls and stat tools' schemas reject invalid arguments", () => {
  assert.equal(createLsTool({} as never).input.safeParse({ path: "" }).success, false);
  assert.equal(createLsTool({} as never).input.safeParse({}).success, true);
  assert.equal(createStatTool({} as never).input.safeParse({}).success, false);
});
