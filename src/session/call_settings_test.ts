import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { init } from "../agent/init.ts";
import type { ModelRequest, ThinkingLevel } from "../model/chat_model.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";

interface Seen {
  model: string;
  system: string;
  thinkingLevel?: ThinkingLevel;
}

/** A model per name that records which model served each call, with its system prompt and reasoning effort. */
function recordingModels(names: string[]): { models: Record<string, FunctionModel>; seen: Seen[] } {
  const seen: Seen[] = [];
  const models: Record<string, FunctionModel> = {};
  for (const name of names) {
    models[name] = new FunctionModel((request: ModelRequest) => {
      seen.push({ model: name, system: request.messages[0].content, thinkingLevel: request.thinkingLevel });
      return "ok";
    }, { id: name });
  }
  return { models, seen };
}

async function withProject(test: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue_call_settings_" });
  try {
    await Deno.mkdir(join(dir, ".agents", "roles"), { recursive: true });
    await Deno.writeTextFile(
      join(dir, ".agents", "roles", "auditor.md"),
      "---\nname: auditor\ndescription: Audits security\nthinkingLevel: high\n---\nLook for injection first.\n",
    );
    await test(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("precedence: call beats role, role beats agent, and the call's role beats the session's", async () => {
  await withProject(async (dir) => {
    const { models, seen } = recordingModels(["agent", "role", "call"]);
    const agent = await init({
      model: models.agent,
      thinkingLevel: "low",
      instructions: "You are the agent.",
      projectDir: dir,
      store: "memory",
      sandbox: "memory",
      roles: { fast: { description: "Quick answers", instructions: "Answer in one line.", model: models.role } },
    });
    try {
      const plain = await agent.session("plain");
      await plain.prompt("1");
      const reviewing = await agent.session("reviewing", { role: "fast" });
      assert.equal(reviewing.role, "fast");
      await reviewing.prompt("2");
      await reviewing.prompt("3", { model: models.call, thinkingLevel: "minimal" });
      await reviewing.prompt("4", { role: "auditor" });
      await plain.prompt("5", { role: "auditor", thinkingLevel: "off" });

      assert.deepEqual(seen.map(({ model, thinkingLevel }) => [model, thinkingLevel]), [
        ["agent", "low"], // agent
        ["role", "low"], // session role's model; the role sets no thinkingLevel, so the agent's
        ["call", "minimal"], // call over session role
        ["agent", "high"], // call role (no model) over session role; its thinkingLevel over the agent's
        ["agent", "off"], // call thinkingLevel over the role's
      ]);
      assert.ok(!seen[0].system.includes("## Role"));
      for (const index of [1, 2]) {
        assert.match(seen[index].system, /## Role: fast\n\nAnswer in one line\./);
        assert.ok(seen[index].system.indexOf("You are the agent.") < seen[index].system.indexOf("## Role"));
      }
      for (const index of [3, 4]) {
        assert.match(seen[index].system, /## Role: auditor\n\nLook for injection first\./);
        assert.ok(!seen[index].system.includes("Answer in one line."));
      }
    } finally {
      await agent.close();
    }
  });
});

Deno.test("a role's model serves typed calls", async () => {
  const agentModel = new FunctionModel(() => {
    throw new Error("the agent's model must not be called");
  });
  const roleModel = new FunctionModel(() => '{"answer": "from the role"}', { id: "role-model" });
  const agent = await init({
    model: agentModel,
    store: "memory",
    sandbox: "memory",
    projectDir: "/nonexistent",
    roles: { tester: { description: "Tests", instructions: "Test.", model: roleModel } },
  });
  try {
    const session = await agent.session("s", { role: "tester" });
    const response = await session.prompt("hello", { result: z.object({ answer: z.string() }) });
    assert.equal(response.data.answer, "from the role");
    assert.equal(response.model, "role-model");
  } finally {
    await agent.close();
  }
});

Deno.test("an unknown role fails clearly on the session and on the call, listing the known roles", async () => {
  const agent = await init({
    model: new FunctionModel(() => "ok"),
    store: "memory",
    sandbox: "memory",
    projectDir: "/nonexistent",
    roles: { a: { description: "A", instructions: "a" }, b: { description: "B", instructions: "b" } },
  });
  try {
    await assert.rejects(agent.session("s", { role: "c" }), {
      name: "TypeError",
      message: 'Unknown role "c": known roles are a, b',
    });
    const session = await agent.session("s");
    await assert.rejects(session.prompt("hi", { role: "c" }), /Unknown role "c": known roles are a, b/);
    assert.deepEqual(await session.history(), [], "nothing is stored for a call refused before the model");
  } finally {
    await agent.close();
  }
});

Deno.test("agent.session() keeps the role a session was opened with", async () => {
  const agent = await init({
    model: new FunctionModel(() => "ok"),
    store: "memory",
    sandbox: "memory",
    projectDir: "/nonexistent",
    roles: { a: { description: "A", instructions: "a" }, b: { description: "B", instructions: "b" } },
  });
  try {
    const session = await agent.session("s", { role: "a" });
    assert.equal(await agent.session("s"), session, "omitting the role returns the open session");
    assert.equal(await agent.session("s", { role: "a" }), session);
    await assert.rejects(agent.session("s", { role: "b" }), /Session "s" is already open with role "a"/);
    await agent.session("plain");
    await assert.rejects(agent.session("plain", { role: "a" }), /Session "plain" is already open without a role/);
  } finally {
    await agent.close();
  }
});

Deno.test("init() rejects a broken role file, naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue_call_settings_" });
  try {
    await Deno.mkdir(join(dir, ".agents", "roles"), { recursive: true });
    await Deno.writeTextFile(join(dir, ".agents", "roles", "x.md"), "---\nname: x\n---\nBody\n");
    await assert.rejects(
      init({ model: "test", store: "memory", sandbox: "memory", projectDir: dir }),
      (error: Error) => /Invalid role file ".*x\.md": field "description" is required/.test(error.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
