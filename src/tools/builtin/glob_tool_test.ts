import assert from "node:assert/strict";
import { createGlobTool, type GlobInput, type GlobToolOptions } from "./glob_tool.ts";
import { globToRegExp } from "../../sandbox/glob_pattern.ts";
import { DenoRunner } from "../../sandbox/runner/deno_runner.ts";
import { memorySandboxWith, toolContext } from "../testdata/memory_fixture.ts";
import { withSearchScene } from "../testdata/searchable_fixture.ts";

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

Deno.test("glob tool gives the same output whether the sandbox lists its files itself or is walked", async () => {
  const files = { ...project, "a-b/x.ts": "", "a/y.ts": "", "a/deep/z.md": "", "src/.hidden/e.md": "" };
  await withSearchScene(files, async ({ walked, searching }) => {
    const cases: [GlobInput, GlobToolOptions][] = [
      [{ pattern: "**/*.ts" }, {}],
      [{ pattern: "**" }, {}],
      [{ pattern: "./src/*.{ts,tsx}" }, {}],
      [{ pattern: "*.ts", path: "src/nested" }, {}],
      [{ pattern: "**/*.md", path: "./a/" }, {}],
      [{ pattern: "**", path: "/workspace/src" }, {}],
      [{ pattern: "*.json", path: "deno.json" }, {}],
      [{ pattern: "x/*.ts", path: "node_modules" }, {}],
      [{ pattern: "**" }, { maxGlobResults: 3 }],
      [{ pattern: "**/*.ts" }, { maxSearchFiles: 4 }],
      [{ pattern: "*.py" }, {}],
    ];
    for (const [input, options] of cases) {
      const expected = await createGlobTool(walked.sandbox, options).run(input, toolContext());
      const label = JSON.stringify([input, options]);
      assert.equal(await createGlobTool(searching.sandbox, options).run(input, toolContext()), expected, label);
    }
    assert.equal(searching.calls.get("glob"), cases.length);
    assert.equal(searching.calls.get("readdir"), undefined, "the listing sandbox was walked");
    assert.ok((walked.calls.get("readdir") ?? 0) > 0);
  });
});

Deno.test("glob tool listing in one request leaves out links and refuses paths that leave the workspace", async () => {
  await withSearchScene({ "a.txt": "" }, async ({ searching, workspace }) => {
    await Deno.symlink("a.txt", `${workspace}/in.txt`);
    await Deno.symlink("/etc", `${workspace}/etc-link`);
    const glob = createGlobTool(searching.sandbox);
    assert.equal(await glob.run({ pattern: "**" }, toolContext()), "a.txt");
    await assert.rejects(Promise.resolve(glob.run({ pattern: "*", path: "etc-link" }, toolContext())), /leaves/);
    await assert.rejects(Promise.resolve(glob.run({ pattern: "*", path: "../.." }, toolContext())), /leaves/);
  });
});

Deno.test("globToRegExp() and the file runner's glob agree on which paths match", async () => {
  const workspace = await Deno.realPath(await Deno.makeTempDir());
  const runner = await DenoRunner.start({ workspace, allowWrite: true });
  try {
    const paths = [
      "a.ts",
      "b.tsx",
      ".env",
      "file1.c",
      "file2.h",
      "a+b(1).txt",
      "[x].md",
      "src/a.ts",
      "src/deep/b.ts",
      "src/deep/er/c.js",
      "lib/x.ts",
      "lib/{y}.ts",
    ];
    for (const path of paths) await runner.writeFile(path, "");
    const patterns = [
      "*.ts",
      "**/*.ts",
      "**",
      "src/**",
      "src/**/*.ts",
      "**/deep/**",
      "*.{ts,tsx}",
      "{src,lib}/*.ts",
      "{src/{deep,x},lib}/*",
      "file?.[ch]",
      "[!a]*.*",
      "[x].md",
      "a+b(1).txt",
      "src**",
      "**.ts",
      "lib/{y}.ts",
      "lib/{*.ts",
      ".*",
    ];
    for (const pattern of patterns) {
      const matcher = globToRegExp(pattern);
      const expected = paths.filter((path) => matcher.test(path)).sort();
      assert.deepEqual((await runner.glob(pattern)).paths, expected, pattern);
    }
  } finally {
    await runner.close();
    await Deno.remove(workspace, { recursive: true });
  }
});
