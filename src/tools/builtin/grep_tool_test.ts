import assert from "node:assert/strict";
import { createGrepTool, type GrepInput, type GrepToolOptions } from "./grep_tool.ts";
import { memorySandboxWith, toolContext } from "../testdata/memory_fixture.ts";
import { withSearchScene } from "../testdata/searchable_fixture.ts";

const project = {
  "src/a.ts": "export function alpha() {}\nconst beta = 2;\n",
  "src/nested/b.ts": "export function Gamma() {}\n",
  "src/c.js": "function delta() {}\n",
  "README.md": "# function docs\n",
  "node_modules/dep/index.ts": "export function hidden() {}\n",
};

Deno.test("grep tool lists matching lines as path:line:text", async () => {
  const grep = createGrepTool(await memorySandboxWith(project));
  assert.equal(
    await grep.run({ pattern: "function \\w+\\(" }, toolContext()),
    "src/a.ts:1:export function alpha() {}\nsrc/c.js:1:function delta() {}\nsrc/nested/b.ts:1:export function Gamma() {}",
  );
});

Deno.test("grep tool narrows by path, glob and case", async () => {
  const grep = createGrepTool(await memorySandboxWith(project));
  assert.equal(await grep.run({ pattern: "beta", path: "src/a.ts" }, toolContext()), "src/a.ts:2:const beta = 2;");
  assert.equal(
    await grep.run({ pattern: "beta", path: "src/a.ts", glob: "*.ts" }, toolContext()),
    "src/a.ts:2:const beta = 2;",
  );
  assert.equal(
    await grep.run({ pattern: "function", glob: "*.md" }, toolContext()),
    "README.md:1:# function docs",
  );
  assert.equal(
    await grep.run({ pattern: "function", path: "src", glob: "nested/**" }, toolContext()),
    "src/nested/b.ts:1:export function Gamma() {}",
  );
  assert.equal(
    await grep.run({ pattern: "gamma", ignoreCase: true }, toolContext()),
    "src/nested/b.ts:1:export function Gamma() {}",
  );
  assert.equal(await grep.run({ pattern: "gamma" }, toolContext()), `No matches for /gamma/ in "."`);
});

Deno.test("grep tool skips node_modules, .git, binary files and files over the size limit", async () => {
  const sandbox = await memorySandboxWith({
    ...project,
    "blob.bin": new Uint8Array([0x66, 0x75, 0x6e, 0x00, 0x66, 0x75, 0x6e, 0x63, 0x74, 0x69, 0x6f, 0x6e]),
    "large.txt": `function big() {}\n${"x".repeat(2_000)}`,
  }, { allowWrite: true });
  await sandbox.writeFile(".git/hooks/pre-commit", "function hook() {}\n");
  const grep = createGrepTool(sandbox, { maxSearchFileBytes: 1_000 });
  const text = String(await grep.run({ pattern: "function (hidden|hook|big)" }, toolContext()));
  assert.equal(text, `No matches for /function (hidden|hook|big)/ in "."\n[skipped 1 file over 1000 bytes]`);
  assert.equal(
    await grep.run({ pattern: "hidden", path: "node_modules" }, toolContext()),
    "node_modules/dep/index.ts:1:export function hidden() {}",
  );
});

Deno.test("grep tool caps matches with a note saying how to see more", async () => {
  const many = Array.from({ length: 30 }, (_, index) => `match ${index}`).join("\n");
  const grep = createGrepTool(await memorySandboxWith({ "a.txt": many }), { maxSearchResults: 5 });
  const lines = String(await grep.run({ pattern: "match" }, toolContext())).split("\n");
  assert.equal(lines.length, 6);
  assert.equal(lines[4], "a.txt:5:match 4");
  assert.equal(lines[5], "[showing the first 5 matches; narrow the pattern, path or glob to see others]");
});

Deno.test("grep tool caps the files it searches with a note", async () => {
  const files = Object.fromEntries(Array.from({ length: 12 }, (_, index) => [`f${index}.txt`, "needle"]));
  const grep = createGrepTool(await memorySandboxWith(files), { maxSearchFiles: 10 });
  const text = String(await grep.run({ pattern: "needle" }, toolContext()));
  assert.equal(text.split("\n").filter((line) => line.endsWith(":1:needle")).length, 10);
  assert.match(text, /\[searched only the first 10 files; narrow path or glob\]$/);
});

Deno.test("grep tool cuts long lines and explains an invalid pattern", async () => {
  const grep = createGrepTool(await memorySandboxWith({ "a.txt": `key=${"v".repeat(100)}` }), { maxLineLength: 10 });
  assert.equal(
    await grep.run({ pattern: "key" }, toolContext()),
    "a.txt:1:key=vvvvvv... [line cut at 10 of 104 characters]",
  );
  await assert.rejects(Promise.resolve(grep.run({ pattern: "(unclosed" }, toolContext())), SyntaxError);
});

Deno.test("grep tool's schema rejects invalid arguments", () => {
  const grep = createGrepTool({} as never);
  assert.equal(grep.input.safeParse({}).success, false);
  assert.equal(grep.input.safeParse({ pattern: "" }).success, false);
  assert.equal(grep.input.safeParse({ pattern: "a", ignoreCase: "yes" }).success, false);
  assert.equal(grep.input.safeParse({ pattern: "a", path: "src", glob: "*.ts" }).success, true);
});

Deno.test("grep tool gives the same output whether the sandbox searches itself or is walked", async () => {
  const files = {
    ...project,
    "blob.bin": new Uint8Array([0x66, 0x75, 0x6e, 0x00, 0x66, 0x75, 0x6e, 0x63, 0x74, 0x69, 0x6f, 0x6e]),
    "large.txt": `function big() {}\n${"x".repeat(2_000)}`,
    "crlf.txt": "function crlf() {}\r\nfunction long() { return 'abcdefghijklmnopqrstuvwxyz'; }\r\n",
    "a-b/function.txt": "function dashed() {}\n",
    "a/deep/er/function.txt": "function deeper() {}\n",
  };
  await withSearchScene(files, async ({ walked, searching, workspace }) => {
    await Deno.mkdir(`${workspace}/.git`);
    await Deno.writeTextFile(`${workspace}/.git/config`, "function hook() {}\n");
    const cases: [GrepInput, GrepToolOptions, string][] = [
      [{ pattern: "function \\w+\\(" }, { maxSearchFileBytes: 1_000 }, "all files, walk order, large skipped"],
      [{ pattern: "FUNCTION", ignoreCase: true, glob: "*.{ts,txt}" }, {}, "case and a name glob"],
      [{ pattern: "function", path: "src", glob: "nested/**" }, {}, "a path glob below a path"],
      [{ pattern: "function", path: "./src/" }, {}, "a path written with ./ and /"],
      [{ pattern: "function", path: "/workspace/src" }, {}, "the /workspace alias"],
      [{ pattern: "beta", path: "src/a.ts", glob: "*.ts" }, {}, "a file as the path"],
      [{ pattern: "hidden", path: "node_modules" }, {}, "inside a skipped directory"],
      [{ pattern: "function" }, { maxSearchResults: 3 }, "capped matches"],
      [{ pattern: "function" }, { maxSearchFiles: 4 }, "capped files"],
      [{ pattern: "function" }, { maxSearchBytes: 100 }, "capped bytes"],
      [{ pattern: "function" }, { maxLineLength: 12 }, "cut lines"],
      [{ pattern: "no such text" }, {}, "no match"],
      [{ pattern: "function", glob: "/src/*.ts" }, {}, "an absolute glob, which matches nothing"],
    ];
    for (const [input, options, label] of cases) {
      const expected = await createGrepTool(walked.sandbox, options).run(input, toolContext());
      assert.equal(await createGrepTool(searching.sandbox, options).run(input, toolContext()), expected, label);
    }
    assert.equal(searching.calls.get("grep"), cases.length);
    assert.equal(searching.calls.get("readFile"), undefined, "the searching sandbox was read file by file");
    assert.equal(searching.calls.get("readdir"), undefined, "the searching sandbox was walked");
    assert.ok((walked.calls.get("readFile") ?? 0) > 0);
  });
});

Deno.test("grep tool searching in one request leaves out links and refuses paths that leave the workspace", async () => {
  await withSearchScene({ "a.txt": "needle\n" }, async ({ searching, workspace }) => {
    const outside = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${outside}/secret.txt`, "needle outside\n");
      await Deno.symlink(`${outside}/secret.txt`, `${workspace}/out.txt`);
      await Deno.symlink("a.txt", `${workspace}/in.txt`);
      const grep = createGrepTool(searching.sandbox);
      assert.equal(await grep.run({ pattern: "needle" }, toolContext()), "a.txt:1:needle");
      await assert.rejects(Promise.resolve(grep.run({ pattern: "needle", path: "out.txt" }, toolContext())), /leaves/);
      await assert.rejects(Promise.resolve(grep.run({ pattern: "needle", path: "../.." }, toolContext())), /leaves/);
      await assert.rejects(Promise.resolve(grep.run({ pattern: "(" }, toolContext())), SyntaxError);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});

Deno.test("grep tool stops waiting for a search in one request when its call is aborted", async () => {
  await withSearchScene({ "a.txt": "needle\n" }, async ({ searching }) => {
    const controller = new AbortController();
    const running = createGrepTool(searching.sandbox).run({ pattern: "needle" }, toolContext([], controller.signal));
    controller.abort(new Error("user pressed stop"));
    await assert.rejects(Promise.resolve(running), /user pressed stop/);
  });
});
