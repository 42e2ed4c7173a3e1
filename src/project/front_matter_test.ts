import assert from "node:assert/strict";
import { parseFrontMatter } from "./front_matter.ts";

Deno.test("parseFrontMatter() returns the data and the body after the closing line", () => {
  const parsed = parseFrontMatter("---\nname: triage\ntags: [a, b]\n---\n# Triage\n\nRead it.\n", "x.md");
  assert.deepEqual(parsed.data, { name: "triage", tags: ["a", "b"] });
  assert.equal(parsed.body, "# Triage\n\nRead it.\n");
});

Deno.test("parseFrontMatter() returns the whole text as the body when there is no front matter", () => {
  assert.deepEqual(parseFrontMatter("Just text.\n---\nname: x\n", "x.md"), {
    data: {},
    body: "Just text.\n---\nname: x\n",
  });
  assert.deepEqual(parseFrontMatter("---\n---\nBody", "x.md"), { data: {}, body: "Body" });
});

Deno.test("parseFrontMatter() accepts Windows line endings and a byte order mark", () => {
  const parsed = parseFrontMatter("\uFEFF---\r\nname: x\r\n---\r\nBody\r\n", "x.md");
  assert.deepEqual(parsed.data, { name: "x" });
  assert.equal(parsed.body, "Body\r\n");
});

Deno.test("parseFrontMatter() names the file and the line of invalid YAML", () => {
  assert.throws(
    () => parseFrontMatter("---\nname: x\nname: y\n---\n", ".agents/skills/x.md"),
    (error: Error) =>
      error instanceof SyntaxError &&
      error.message.startsWith(`Invalid front matter in ".agents/skills/x.md" at line 3:`) &&
      /unique/.test(error.message),
  );
  assert.throws(
    () => parseFrontMatter("---\nname: x\n  bad: indent\n---\n", "a.md"),
    /Invalid front matter in "a\.md" at line 2: /,
  );
});

Deno.test("parseFrontMatter() rejects unclosed front matter and front matter that is not a mapping", () => {
  assert.throws(
    () => parseFrontMatter("---\nname: x\n", "a.md"),
    /"a\.md" at line 1: the opening "---" has no closing/,
  );
  assert.throws(
    () => parseFrontMatter("---\n- a\n---\n", "a.md"),
    /"a\.md" at line 2: expected "key: value" lines, got a list/,
  );
  assert.throws(() => parseFrontMatter("---\nhello\n---\n", "a.md"), /got the string "hello"/);
});

Deno.test("parseFrontMatter() refuses an alias bomb instead of expanding it", () => {
  const lines = ["---", "a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 0; i < 8; i++) {
    lines.push(
      `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${
        Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")
      }]`,
    );
  }
  lines.push("---", "");
  assert.throws(() => parseFrontMatter(lines.join("\n"), "bomb.md"), /Invalid front matter in "bomb\.md"/);
});
