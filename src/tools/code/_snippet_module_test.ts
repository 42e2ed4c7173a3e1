import assert from "node:assert/strict";
import { buildSnippetModules } from "./_snippet_module.ts";

const returned = (code: string): string | undefined => {
  const { variants } = buildSnippetModules(code);
  if (variants.length < 2) return undefined;
  return /return \(([\s\S]*)\n\);/.exec(variants[0])?.[1];
};

Deno.test("buildSnippetModules() returns the final expression", () => {
  assert.equal(returned("1 + 2"), "1 + 2");
  assert.equal(returned("const x = 2;\nx * 21;\n// done\n"), "x * 21");
  assert.equal(returned("await Promise.resolve(3)"), "await Promise.resolve(3)");
  assert.equal(returned("function f() {\n  return 1\n}\nf()"), "f()");
});

Deno.test("buildSnippetModules() keeps continued lines in one statement", () => {
  assert.equal(returned("const a = [1]\na\n  .map((v) => v * 2)"), "a\n  .map((v) => v * 2)");
  assert.equal(returned("const total = 1\n  + 2\ntotal"), "total");
  assert.equal(returned("let s = `a ${\n  1 +\n  2\n} b`\ns"), "s");
  assert.equal(returned("const o = {\n  a: 1,\n}\no.a"), "o.a");
});

Deno.test("buildSnippetModules() is not fooled by strings, comments and regular expressions", () => {
  assert.equal(returned("const s = 'a;\\nb'; s.length"), "s.length");
  assert.equal(returned("const r = /a\\/b;c/g; r.source"), "r.source");
  assert.equal(returned("/* x;\ny */ 5 // ; 6"), "5");
});

Deno.test("buildSnippetModules() returns nothing when the snippet ends in a statement", () => {
  for (const code of ["const x = 1", "if (x) { y() }", "for (const a of b) {}", "return 5", "class A {}"]) {
    assert.equal(buildSnippetModules(code).variants.length, 1, code);
  }
});

Deno.test("buildSnippetModules() hoists imports to module level on the first line", () => {
  const [first] = buildSnippetModules("import { join } from 'node:path';\njoin('a', 'b')").variants;
  assert.ok(first.startsWith("import { join } from 'node:path'; export default async function () {"));
  assert.equal(first.split("\n").length, buildSnippetModules("x;\njoin('a', 'b')").variants[0].split("\n").length);
});
