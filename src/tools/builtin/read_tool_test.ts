import assert from "node:assert/strict";
import { createReadTool } from "./read_tool.ts";
import { memorySandboxWith, toolContext } from "../testdata/memory_fixture.ts";

const numbered = (count: number): string => Array.from({ length: count }, (_, index) => `line ${index + 1}`).join("\n");

Deno.test("read tool numbers lines from 1", async () => {
  const read = createReadTool(await memorySandboxWith({ "a.ts": "const a = 1;\n\tindented\n" }));
  assert.equal(await read.run({ path: "a.ts" }, toolContext()), "    1\tconst a = 1;\n    2\t\tindented");
});

Deno.test("read tool shows the window offset and limit name, with a note to continue", async () => {
  const read = createReadTool(await memorySandboxWith({ "a.txt": numbered(5) }));
  assert.equal(
    await read.run({ path: "a.txt", offset: 2, limit: 2 }, toolContext()),
    "    2\tline 2\n    3\tline 3\n[showing lines 2-3 of 5; call read with offset=4 to continue]",
  );
  assert.equal(await read.run({ path: "a.txt", offset: 4 }, toolContext()), "    4\tline 4\n    5\tline 5");
});

Deno.test("read tool cuts a long file at the default limit and says how to read more", async () => {
  const read = createReadTool(await memorySandboxWith({ "big.txt": numbered(5400) }));
  const text = String(await read.run({ path: "big.txt" }, toolContext()));
  const lines = text.split("\n");
  assert.equal(lines.length, 2001);
  assert.equal(lines[1999], " 2000\tline 2000");
  assert.equal(lines[2000], "[showing lines 1-2000 of 5400; call read with offset=2001 to continue]");
  const next = String(await read.run({ path: "big.txt", offset: 2001, limit: 5000 }, toolContext()));
  assert.ok(next.endsWith("[showing lines 2001-4000 of 5400; call read with offset=4001 to continue]"));
});

Deno.test("read tool cuts long lines and stops at the byte cap with a note", async () => {
  const sandbox = await memorySandboxWith({ "wide.txt": `${"x".repeat(50)}\n${"y".repeat(10)}\n${"z".repeat(10)}\n` });
  const read = createReadTool(sandbox, { maxLineLength: 20, maxOutputBytes: 90 });
  assert.equal(
    await read.run({ path: "wide.txt" }, toolContext()),
    `    1\t${"x".repeat(20)}... [line cut at 20 of 50 characters]\n    2\t${"y".repeat(10)}\n` +
      "[showing lines 1-2 of 3; call read with offset=3 to continue]",
  );
});

Deno.test("read tool explains an offset past the end, a directory, an empty and a binary file", async () => {
  const sandbox = await memorySandboxWith({
    "a.txt": "one\ntwo\n",
    "empty.txt": "",
    "dir/b.txt": "b",
    "blob.bin": new Uint8Array([0x89, 0x50, 0x00, 0x01]),
  });
  const read = createReadTool(sandbox);
  await assert.rejects(
    Promise.resolve(read.run({ path: "a.txt", offset: 9 }, toolContext())),
    /Offset 9 is past the end of "a.txt", which has 2 lines/,
  );
  await assert.rejects(Promise.resolve(read.run({ path: "dir" }, toolContext())), /is a directory/);
  await assert.rejects(Promise.resolve(read.run({ path: "blob.bin" }, toolContext())), /binary/);
  await assert.rejects(Promise.resolve(read.run({ path: "missing.txt" }, toolContext())), Deno.errors.NotFound);
  assert.equal(await read.run({ path: "empty.txt" }, toolContext()), `(the file "empty.txt" is empty)`);
});

Deno.test("read tool's schema rejects invalid arguments", () => {
  const read = createReadTool({} as never);
  for (
    const bad of [{}, { path: 5 }, { path: "" }, { path: "a", offset: 0 }, { path: "a", limit: 1.5 }, {
      path: "a",
      file_path: "b",
    }]
  ) {
    assert.equal(read.input.safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.equal(read.input.safeParse({ path: "a", offset: 3, limit: 10 }).success, true);
});
