import assert from "node:assert/strict";
import { join } from "node:path";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { init } from "./init.ts";
import { buildSystemPrompt } from "./system_prompt.ts";

Deno.test("buildSystemPrompt() puts the instructions and AGENTS.md after the preamble", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "Use tabs.\n");
    const prompt = await buildSystemPrompt({ instructions: "You review code.", projectDir: dir });
    assert.match(prompt, /^You are an agent running inside Flue/);
    assert.ok(prompt.indexOf("You review code.") < prompt.indexOf("Use tabs."));
    assert.match(prompt, /## Project instructions \(AGENTS.md\)\n\nUse tabs\./);
    assert.doesNotMatch(await buildSystemPrompt({ projectDir: join(dir, "none") }), /AGENTS/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AGENTS.md is read before each prompt, so an edit applies to the next one", async () => {
  const dir = await Deno.makeTempDir();
  const systems: string[] = [];
  const model = new FunctionModel((request) => {
    systems.push(request.messages[0].content);
    return "ok";
  });
  const agent = await init({ model, projectDir: dir, store: "memory", sandbox: "memory" });
  try {
    const session = await agent.session();
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "First rule.");
    await session.prompt("one");
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "Second rule.");
    await session.prompt("two");
    assert.match(systems[0], /First rule\./);
    assert.match(systems[1], /Second rule\./);
  } finally {
    await agent.close();
    await Deno.remove(dir, { recursive: true });
  }
});
