import assert from "node:assert/strict";
import { createGlobTool } from "./glob_tool.ts";
import { globToRegExp } from "./_walk.ts";
import { memorySandboxWith, toolContext } from "./testdata/memory_fixture.ts";

const project = {
  "deno.json": "{}",
  "src/a.ts": "",
  "src/b.tsx": "",
  "src/nested/c.ts": "",
  "src/.hidden/d.ts": "",
  "node_modules/x/e.ts": "",
};

Deno.test("glob tool finds files at any depth with **", async () => {
  const glob = createGlobTool(await memorySandboxWith(project));
  assert.equal(await glob.run({ pattern: "**/*.ts" }, toolContext()), "src/a.ts\nsrc/.hidden/d.ts\nsrc/nested/c.ts");
});

Deno.test("glob tool keeps * within one directory and supports braces and a base path", async () => {
  const glob = createGlobTool(await memorySandboxWith(project));
  assert.equal(await glob.run({ pattern: "*.json" }, toolContext()), "deno.json");
  assert.equal(await glob.run({ pattern: "src/*.{ts,tsx}" }, toolContext()), "src/a.ts\nsrc/b.tsx");
  assert.equal(await glob.run({ pattern: "*.ts", path: "src/nested" }, toolContext()), "src/nested/c.ts");
  assert.equal(await glob.run({ pattern: "*.py" }, toolContext()), `No files match "*.py" in "."`);
});

Deno.test("glob tool caps its results with a note", async () => {
  const files = Object.fromEntries(Array.from({ length: 8 }, (_, index) => [`f${index}.txt`, ""]));
  const glob = createGlobTool(await memorySandboxWith(files), { maxGlobResults: 3 });
  assert.equal(
    await glob.run({ pattern: "*.txt" }, toolContext()),
    "f0.txt\nf1.txt\nf2.txt\n[showing 3 of 8 matches; use a narrower pattern or path to see others]",
  );
});

Deno.test("glob tool caps the files it walks with a note", async () => {
  const files = Object.fromEntries(Array.from({ length: 8 }, (_, index) => [`f${index}.txt`, ""]));
  const glob = createGlobTool(await memorySandboxWith(files), { maxSearchFiles: 4 });
  assert.match(String(await glob.run({ pattern: "*" }, toolContext())), /\[looked at only the first 4 files/);
});

Deno.test("globToRegExp() handles classes, single characters and literal dots", () => {
  assert.ok(globToRegExp("file?.[ch]").test("file1.c"));
  assert.ok(!globToRegExp("file?.[ch]").test("file1.o"));
  assert.ok(globToRegExp("[!a]*.md").test("b.md"));
  assert.ok(!globToRegExp("[!a]*.md").test("a.md"));
  assert.ok(!globToRegExp("*.ts").test("ats"));
  assert.ok(globToRegExp("src/**").test("src/a/b/c.ts"));
  assert.ok(globToRegExp("a+b(1).txt").test("a+b(1).txt"));
});

Deno.test("glob tool's schema rejects invalid arguments", () => {
  const glob = createGlobTool({} as never);
  assert.equal(glob.input.safeParse({}).success, false);
  assert.equal(glob.input.safeParse({ pattern: "" }).success, false);
  assert.equal(glob.input.safeParse({ pattern: "*", path: 3 }).success, false);
});
