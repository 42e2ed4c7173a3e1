import assert from "node:assert/strict";
import { join } from "node:path";
import { init } from "../agent/init.ts";
import type { ModelRequest } from "../model/chat_model.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { createActivateSkillTool } from "./activate_skill_tool.ts";

async function withSkillsProject(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-activate-" });
  try {
    await Deno.mkdir(join(dir, ".agents/skills/release"), { recursive: true });
    await Deno.writeTextFile(
      join(dir, ".agents/skills/triage.md"),
      "---\nname: triage\ndescription: Label an issue\n---\nLabel the issue as bug or feature.\n",
    );
    await Deno.writeTextFile(
      join(dir, ".agents/skills/release/SKILL.md"),
      "---\nname: release\ndescription: Cut a release\n---\nBump the version, then tag.\n",
    );
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const context = { signal: new AbortController().signal, toolCallId: "call-1", emit() {} };

Deno.test("activate_skill returns the skill's instructions, and lists the skills for an unknown name", async () => {
  const tool = createActivateSkillTool([{ name: "triage", description: "Label", instructions: "Label it." }]);
  assert.equal(await tool.run({ name: "triage" }, context), "# Skill: triage\n\nLabel it.");
  await assert.rejects(
    async () => await tool.run({ name: "deploy" }, context),
    /No skill named "deploy": available skills are triage/,
  );
  assert.match(tool.description, /Available skills: triage\./);
});

Deno.test("the unscripted test model loads a skill with activate_skill and gets its body back", async () => {
  await withSkillsProject(async (dir) => {
    const agent = await init({ model: "test", projectDir: dir, store: "memory", sandbox: "memory" });
    try {
      const session = await agent.session();
      const response = await session.prompt('Call activate_skill with "release" and follow it');
      assert.match(response.text, /activate_skill returned: # Skill: release\n\nBump the version, then tag\./);
    } finally {
      await agent.close();
    }
  });
});

Deno.test("a model naming an unknown skill gets a tool error listing the available ones", async () => {
  await withSkillsProject(async (dir) => {
    const requests: ModelRequest[] = [];
    const model = new FunctionModel((request, { callIndex }) => {
      requests.push(request);
      return callIndex === 0 ? { toolCalls: [{ name: "activate_skill", args: { name: "deploy" } }] } : "ok";
    });
    const agent = await init({ model, projectDir: dir, store: "memory", sandbox: "memory" });
    try {
      await (await agent.session()).prompt("go");
      const result = requests[1].messages.at(-1)!;
      assert.equal(result.role === "tool" && result.isError, true);
      assert.match(result.content, /No skill named "deploy": available skills are release, triage/);
    } finally {
      await agent.close();
    }
  });
});

Deno.test("activate_skill is only offered when the agent has skills", async () => {
  await withSkillsProject(async (dir) => {
    const offered: string[][] = [];
    const model = new FunctionModel((request) => {
      offered.push(request.tools.map((tool) => tool.name));
      return "ok";
    });
    for (const skills of [undefined, false] as const) {
      const agent = await init({ model, projectDir: dir, store: "memory", sandbox: "memory", skills });
      await (await agent.session()).prompt("go");
      await agent.close();
    }
    assert.ok(offered[0].includes("activate_skill"));
    assert.ok(!offered[1].includes("activate_skill"));
  });
});
