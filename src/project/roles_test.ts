import assert from "node:assert/strict";
import { join } from "node:path";
import { loadRoles, parseRoleFile } from "./roles.ts";

async function withRoles(files: Record<string, string>, test: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue_roles_" });
  try {
    await Deno.mkdir(join(dir, ".agents", "roles"), { recursive: true });
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, ".agents", "roles", name), text);
    }
    await test(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const REVIEWER = "---\nname: reviewer\ndescription: Reviews code\nmodel: openai:gpt-5.5\nthinkingLevel: high\n---\n" +
  "Point out bugs before style.\n";

Deno.test("loadRoles() reads every .agents/roles/<name>.md with its front matter and body", async () => {
  await withRoles({ "reviewer.md": REVIEWER, "notes.txt": "ignored" }, async (dir) => {
    const roles = await loadRoles(dir);
    assert.deepEqual(roles.names, ["reviewer"]);
    const role = roles.get("reviewer");
    assert.equal(role.description, "Reviews code");
    assert.equal(role.instructions, "Point out bugs before style.");
    assert.equal(role.model, "openai:gpt-5.5");
    assert.equal(role.thinkingLevel, "high");
    assert.equal(role.source, join(dir, ".agents", "roles", "reviewer.md"));
  });
});

Deno.test("loadRoles() merges roles declared in code and refuses a name declared twice", async () => {
  await withRoles({ "reviewer.md": REVIEWER }, async (dir) => {
    const roles = await loadRoles(dir, { writer: { description: "Writes docs", instructions: "Be brief." } });
    assert.deepEqual(roles.names, ["reviewer", "writer"]);
    await assert.rejects(
      loadRoles(dir, { reviewer: { description: "Again", instructions: "Twice." } }),
      (error: Error) => error instanceof TypeError && /"reviewer" is declared twice/.test(error.message),
    );
  });
});

Deno.test("loadRoles() without a roles directory has no roles", async () => {
  const roles = await loadRoles(join(Deno.cwd(), "does-not-exist"));
  assert.equal(roles.size, 0);
  assert.throws(() => roles.get("reviewer"), /Unknown role "reviewer": the agent has no roles/);
});

Deno.test("RoleCatalog.get() names the known roles for an unknown one", async () => {
  const roles = await loadRoles("/nonexistent", {
    a: { description: "A", instructions: "a" },
    b: { description: "B", instructions: "b" },
  });
  assert.throws(() => roles.get("c"), { name: "TypeError", message: 'Unknown role "c": known roles are a, b' });
});

Deno.test("parseRoleFile() names the file, the field and what is expected", () => {
  const cases: [string, string, RegExp][] = [
    ["r.md", "---\nname: r\n---\nBody", /"r\.md": field "description" is required/],
    ["r.md", "---\ndescription: d\n---\nBody", /field "name" is required/],
    ["Bad.md", "---\nname: Bad\ndescription: d\n---\nBody", /field "name" must be lower-kebab-case .*got "Bad"/],
    ["r.md", "---\nname: other\ndescription: d\n---\nBody", /field "name" must equal the file name "r", got "other"/],
    ["r.md", "---\nname: r\ndescription: d\nthinkingLevel: huge\n---\nBody", /field "thinkingLevel" must be one of/],
    ["r.md", "---\nname: r\ndescription: d\nmodel: gpt 5\n---\nBody", /field "model" must be a model string/],
    ["r.md", "---\nname: r\ndescription: d\ntools: [read]\n---\nBody", /unknown field "tools" \(known fields are/],
    ["r.md", "---\nname: r\ndescription: d\n---\n  \n", /"r\.md": the role has no instructions/],
    ["r.md", "---\nname: r\ndescription: 3\n---\nBody", /field "description" must be text, got 3/],
  ];
  for (const [file, text, pattern] of cases) {
    assert.throws(() => parseRoleFile(text, file), (error: Error) => {
      assert.match(error.message, pattern);
      assert.ok(error.message.startsWith(`Invalid role file "${file}"`), error.message);
      return error instanceof TypeError;
    });
  }
});

Deno.test("a broken role file fails loading with its path, and bad YAML is a SyntaxError", async () => {
  await withRoles({ "r.md": "---\nname: r\n---\nBody" }, async (dir) => {
    await assert.rejects(loadRoles(dir), (error: Error) => error.message.includes(join(dir, ".agents/roles/r.md")));
  });
  await withRoles({ "r.md": "---\nname: [r\n---\nBody" }, async (dir) => {
    await assert.rejects(loadRoles(dir), SyntaxError);
  });
});

Deno.test("roles declared in code are checked like files", async () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ "Not-Kebab": { description: "d", instructions: "i" } }, /the name must be lower-kebab-case/],
    [{ r: { description: "", instructions: "i" } }, /field "description" must be non-empty text/],
    [{ r: { description: "d" } }, /field "instructions" must be non-empty text/],
    [{ r: { description: "d", instructions: "i", model: "nope" } }, /field "model" must be a model string/],
    [{ r: { description: "d", instructions: "i", thinkingLevel: "max" } }, /field "thinkingLevel" must be one of/],
    [{ r: { description: "d", instructions: "i", extra: 1 } }, /unknown field "extra"/],
  ];
  for (const [definitions, pattern] of bad) {
    await assert.rejects(
      loadRoles("/nonexistent", definitions as never),
      (error: Error) =>
        error instanceof TypeError && pattern.test(error.message) && /"roles" option/.test(error.message),
    );
  }
});
