import assert from "node:assert/strict";
import { join } from "node:path";
import { init } from "../agent/init.ts";
import { loadSkills, parseSkill } from "./skills.ts";

const TOOLS = ["read", "grep", "bash", "weather"];

async function withProject(files: Record<string, string>, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-skills-" });
  try {
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(join(dir, path, ".."), { recursive: true });
      await Deno.writeTextFile(join(dir, path), text);
    }
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const skillText = (name: string, extra = "") =>
  `---\nname: ${name}\ndescription: Does ${name}\n${extra}---\nThe ${name} instructions.\n`;

Deno.test("loadSkills() finds both layouts, sorted, with their fields", async () => {
  await withProject({
    ".agents/skills/triage.md": skillText(
      "triage",
      "input_schema:\n  type: object\n  properties:\n    issue: { type: integer }\n  required: [issue]\n" +
        "allowed-tools: [read, grep]\nlicense: MIT\nmetadata: { author: me }\n",
    ),
    ".agents/skills/fix-issue/SKILL.md": skillText("fix-issue", 'allowed-tools: "read bash"\n'),
    ".agents/skills/fix-issue/notes.txt": "not a skill",
    ".agents/skills/readme.txt": "not a skill",
    ".agents/skills/helpers/script.sh": "no SKILL.md here",
  }, async (dir) => {
    const skills = await loadSkills(dir, { toolNames: TOOLS });
    assert.deepEqual(skills.map((skill) => [skill.name, skill.file]), [
      ["fix-issue", ".agents/skills/fix-issue/SKILL.md"],
      ["triage", ".agents/skills/triage.md"],
    ]);
    const [fix, triage] = skills;
    assert.equal(triage.description, "Does triage");
    assert.equal(triage.instructions, "The triage instructions.");
    assert.deepEqual(triage.allowedTools, ["read", "grep"]);
    assert.deepEqual(fix.allowedTools, ["read", "bash"]);
    assert.equal(triage.license, "MIT");
    assert.deepEqual(triage.metadata, { author: "me" });
    assert.equal(triage.input?.safeParse({ issue: 3 }).success, true);
    assert.equal(triage.input?.safeParse({ issue: "3" }).success, false);
    assert.equal(fix.input, undefined);
  });
});

Deno.test("loadSkills() keeps only the selected skills, none with false, and refuses an unknown name", async () => {
  await withProject({
    ".agents/skills/one.md": skillText("one"),
    ".agents/skills/two.md": skillText("two"),
  }, async (dir) => {
    assert.deepEqual((await loadSkills(dir, { toolNames: TOOLS, select: ["two"] })).map((s) => s.name), ["two"]);
    assert.deepEqual(await loadSkills(dir, { toolNames: TOOLS, select: false }), []);
    await assert.rejects(
      () => loadSkills(dir, { toolNames: TOOLS, select: ["three"] }),
      /Skill "three" given in "skills" does not exist in ".agents\/skills": found one, two/,
    );
  });
  await withProject({}, async (dir) => assert.deepEqual(await loadSkills(dir, { toolNames: TOOLS }), []));
});

Deno.test("loadSkills() refuses a name defined in both layouts and a file name that is not lower-kebab", async () => {
  await withProject({
    ".agents/skills/dup.md": skillText("dup"),
    ".agents/skills/dup/SKILL.md": skillText("dup"),
  }, async (dir) => {
    await assert.rejects(
      () => loadSkills(dir, { toolNames: TOOLS }),
      /Skill "dup" is defined twice, in ".agents\/skills\//,
    );
  });
  await withProject({ ".agents/skills/Bad_Name.md": skillText("bad") }, async (dir) => {
    await assert.rejects(
      () => loadSkills(dir, { toolNames: TOOLS }),
      /Invalid skill ".agents\/skills\/Bad_Name.md": the name "Bad_Name" must be lower-case/,
    );
  });
});

const BROKEN: [string, string, RegExp][] = [
  ["no front matter", "Just instructions.\n", /it has no front matter; start it with "---", "name: x"/],
  ["invalid YAML", "---\nname: x\nname: x\n---\nBody\n", /Invalid front matter in "F" at line 3: /],
  ["missing name", "---\ndescription: d\n---\nBody\n", /field "name" is required/],
  ["name not a string", "---\nname: 12\ndescription: d\n---\nBody\n", /field "name" is required.*, got 12/],
  ["name not kebab", "---\nname: X_y\ndescription: d\n---\nBody\n", /field "name" must be lower-case.*"X_y"/],
  ["name too long", `---\nname: ${"a".repeat(65)}\ndescription: d\n---\nBody\n`, /field "name" must be at most 64/],
  ["name differs", "---\nname: y\ndescription: d\n---\nBody\n", /field "name" must equal the file name "x", got "y"/],
  ["missing description", "---\nname: x\n---\nBody\n", /field "description" is required/],
  ["blank description", '---\nname: x\ndescription: "  "\n---\nBody\n', /field "description" is required/],
  [
    "input_schema a string",
    "---\nname: x\ndescription: d\ninput_schema: yes\n---\nB\n",
    /field "input_schema" must be a JSON Schema object/,
  ],
  [
    "output_schema unusable",
    "---\nname: x\ndescription: d\noutput_schema: { type: objekt }\n---\nB\n",
    /field "output_schema" is not a JSON Schema Flue can use: Unsupported type: objekt/,
  ],
  [
    "allowed-tools unknown",
    "---\nname: x\ndescription: d\nallowed-tools: [read, rm]\n---\nB\n",
    /field "allowed-tools" names "rm", which is not a tool of this agent; known tools are read, grep/,
  ],
  [
    "allowed-tools a number",
    "---\nname: x\ndescription: d\nallowed-tools: 3\n---\nB\n",
    /field "allowed-tools" must be a list of tool names/,
  ],
  ["license a list", "---\nname: x\ndescription: d\nlicense: [a]\n---\nB\n", /field "license" must be text/],
  ["metadata a string", "---\nname: x\ndescription: d\nmetadata: hi\n---\nB\n", /field "metadata" must be a mapping/],
  [
    "unknown field",
    "---\nname: x\ndescription: d\nallowed_tools: [read]\n---\nB\n",
    /unknown field "allowed_tools"; known fields are name, description, input_schema/,
  ],
  ["empty body", "---\nname: x\ndescription: d\n---\n\n", /the body is empty/],
];

for (const [what, text, expected] of BROKEN) {
  Deno.test(`parseSkill() names the file and the field of a broken skill: ${what}`, () => {
    assert.throws(() => parseSkill(text, "F", "x", TOOLS), (error: Error) => {
      assert.match(error.message, /"F"/);
      assert.match(error.message, expected);
      return true;
    });
  });
}

Deno.test("init() fails on a broken skill file, naming the file and the field", async () => {
  await withProject({ ".agents/skills/x/SKILL.md": "---\nname: x\n---\nBody\n" }, async (dir) => {
    await assert.rejects(
      () => init({ model: "test", projectDir: dir, store: "memory", sandbox: "memory" }),
      /Invalid skill ".agents\/skills\/x\/SKILL.md": field "description" is required/,
    );
    await assert.rejects(
      () => init({ model: "test", projectDir: dir, skills: true as unknown as false }),
      /Option "skills" must be a list of skill names, such as \["triage"\], or false for none/,
    );
    // With skills: false the broken file is not read at all.
    const agent = await init({ model: "test", projectDir: dir, store: "memory", sandbox: "memory", skills: false });
    await agent.close();
  });
});

Deno.test("init() checks allowed-tools against the agent's own tools too", async () => {
  const { defineTool } = await import("../tools/tool.ts");
  const { z } = await import("zod");
  const weather = defineTool({ name: "weather", description: "Weather", input: z.object({}), run: () => "sun" });
  await withProject({ ".agents/skills/x.md": skillText("x", "allowed-tools: [weather]\n") }, async (dir) => {
    await assert.rejects(
      () => init({ model: "test", projectDir: dir, store: "memory", sandbox: "memory" }),
      /names "weather", which is not a tool of this agent/,
    );
    const agent = await init({ model: "test", projectDir: dir, store: "memory", sandbox: "memory", tools: [weather] });
    await agent.close();
  });
});
