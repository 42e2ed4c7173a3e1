import assert from "node:assert/strict";
import { join } from "node:path";
import { init } from "../agent/init.ts";
import { loadSkills } from "../project/skills.ts";
import { BUILTIN_TOOL_NAMES } from "../tools/sandbox_tools.ts";
import { projectFiles } from "./_templates.ts";
import { main } from "./main.ts";
import { captureIo } from "./_capture_io.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-skill-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("flue skill new writes a SKILL.md that loads and runs", async () => {
  await withDir(async (dir) => {
    const io = captureIo();
    const status = await main(["skill", "new", "fix-issue", "--project", dir, "--description", "Fix one issue"], io);
    assert.equal(status, 0, io.err);
    assert.match(io.out, /Created .agents\/skills\/fix-issue\/SKILL.md/);
    const [skill] = await loadSkills(dir, { toolNames: BUILTIN_TOOL_NAMES });
    assert.equal(skill.name, "fix-issue");
    assert.equal(skill.description, "Fix one issue");
    assert.equal(skill.allowedTools, undefined);
    const agent = await init({ model: "test", projectDir: dir, store: "memory", sandbox: "memory" });
    try {
      const response = await (await agent.session()).skill("fix-issue");
      assert.match(response.text, /^Test reply to: "Run the skill "fix-issue"\. Its instructions:/);
    } finally {
      await agent.close();
    }
  });
});

Deno.test("flue skill new refuses an existing skill in either layout with status 2", async () => {
  await withDir(async (dir) => {
    assert.equal(await main(["skill", "new", "triage", "--project", dir], captureIo()), 0);
    const again = captureIo();
    assert.equal(await main(["skill", "new", "triage", "--project", dir], again), 2);
    assert.match(again.err, /Skill "triage" already exists at ".agents\/skills\/triage\/SKILL.md"/);
    await Deno.writeTextFile(join(dir, ".agents/skills/other.md"), "---\nname: other\ndescription: d\n---\nB\n");
    const flat = captureIo();
    assert.equal(await main(["skill", "new", "other", "--project", dir], flat), 2);
    assert.match(flat.err, /already exists at ".agents\/skills\/other.md"/);
  });
});

Deno.test("flue skill new refuses bad input with status 2 and says what is valid", async () => {
  await withDir(async (dir) => {
    const cases: [string[], RegExp][] = [
      [["skill", "new", "Fix_Issue"], /Invalid skill name "Fix_Issue": use lower-case letters and digits/],
      [["skill", "new", "a".repeat(65)], /at most 64 characters/],
      [["skill", "new"], /flue skill new needs a name/],
      [["skill"], /flue skill needs a subcommand/],
      [["skill", "remove", "x"], /Unknown skill subcommand "remove"/],
      [["skill", "new", "a", "b"], /takes one name, got 2/],
      [["skill", "new", "a", "--description", ""], /--description must be one non-empty line/],
      [["skill", "new", "a", "--force"], /valid flags are --description, --help, --project/],
    ];
    for (const [args, expected] of cases) {
      const io = captureIo();
      assert.equal(await main([...args, "--project", dir], io), 2, args.join(" "));
      assert.match(io.err, expected);
    }
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  });
});

Deno.test("flue help skill and the top-level help describe skill new", async () => {
  const top = captureIo();
  await main(["help"], top);
  assert.match(top.out, /flue skill new <name>/);
  const help = captureIo();
  assert.equal(await main(["help", "skill"], help), 0);
  assert.match(help.out, /\.agents\/skills\/<name>\/SKILL\.md/);
});

Deno.test("the example skill flue init writes runs key-less with typed output", async () => {
  await withDir(async (dir) => {
    const path = ".agents/skills/review-text/SKILL.md";
    await Deno.mkdir(join(dir, ".agents/skills/review-text"), { recursive: true });
    await Deno.writeTextFile(join(dir, path), projectFiles()[path]);
    const agent = await init({ model: "test", projectDir: dir, store: "memory", sandbox: "memory" });
    try {
      const response = await (await agent.session()).skill("review-text", { args: { text: "Deno is a runtime." } });
      const data = response.data as { problems: string[]; verdict: string };
      assert.ok(Array.isArray(data.problems));
      assert.ok(["clear", "unclear"].includes(data.verdict));
    } finally {
      await agent.close();
    }
  });
});
