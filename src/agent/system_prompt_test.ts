import assert from "node:assert/strict";
import { join } from "node:path";
import { FunctionModel } from "../model/test_models/function_model.ts";
import type { AgentOptions } from "./agent_options.ts";
import { init } from "./init.ts";
import { buildSystemPrompt, MAX_INSTRUCTION_FILE_CHARS } from "./system_prompt.ts";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-system-prompt-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs prompts on an agent whose FunctionModel records each system prompt. */
async function systemPromptsOf(
  options: AgentOptions,
  steps: ((session: Awaited<ReturnType<Awaited<ReturnType<typeof init>>["session"]>>) => Promise<unknown>)[],
): Promise<string[]> {
  const systems: string[] = [];
  const model = new FunctionModel((request) => {
    systems.push(request.messages[0].content);
    return "ok";
  });
  const agent = await init({ model, store: "memory", sandbox: "memory", ...options });
  try {
    const session = await agent.session();
    for (const step of steps) await step(session);
  } finally {
    await agent.close();
  }
  return systems;
}

Deno.test("buildSystemPrompt() composes preamble, instructions, role, AGENTS.md, skills, date, directory in order", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "Use tabs.\n");
    const prompt = await buildSystemPrompt({
      instructions: "You review code.",
      role: { name: "reviewer", instructions: "Be strict." },
      projectDir: dir,
      skills: [{ name: "triage", description: "Label\n an issue" }],
      now: new Date("2030-05-06T23:59:00Z"),
    });
    const order = [
      "You are an agent running inside Flue",
      "You review code.",
      "## Role: reviewer\n\nBe strict.",
      "## Project instructions (AGENTS.md)\n\nUse tabs.",
      "## Skills\n\nCall the `activate_skill` tool",
      "- triage: Label an issue",
      "Today's date: 2030-05-06 (UTC)",
      "Working directory: /workspace",
    ];
    const positions = order.map((part) => prompt.indexOf(part));
    assert.ok(positions.every((position) => position >= 0), `missing part in:\n${prompt}`);
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
    assert.ok(prompt.startsWith(order[0]));
  });
});

Deno.test("buildSystemPrompt() leaves out empty sections and is the same all day", async () => {
  await withDir(async (dir) => {
    const morning = await buildSystemPrompt({ projectDir: dir, now: new Date("2030-05-06T00:00:01Z") });
    const evening = await buildSystemPrompt({ projectDir: dir, now: new Date("2030-05-06T23:59:59Z") });
    assert.equal(morning, evening);
    assert.doesNotMatch(morning, /AGENTS|Skills|Role/);
  });
});

Deno.test("buildSystemPrompt() reads CLAUDE.md when there is no AGENTS.md, and AGENTS.md first when both exist", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "CLAUDE.md"), "Claude rules.");
    assert.match(
      await buildSystemPrompt({ projectDir: dir }),
      /## Project instructions \(CLAUDE.md\)\n\nClaude rules\./,
    );
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "Agent rules.");
    const prompt = await buildSystemPrompt({ projectDir: dir });
    assert.match(prompt, /Agent rules\./);
    assert.doesNotMatch(prompt, /Claude rules/);
  });
});

Deno.test("buildSystemPrompt() cuts a huge AGENTS.md with a note", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "x".repeat(MAX_INSTRUCTION_FILE_CHARS + 10));
    const prompt = await buildSystemPrompt({ projectDir: dir });
    assert.match(prompt, /\(AGENTS.md was cut at 65536 characters\)/);
    assert.ok(prompt.length < MAX_INSTRUCTION_FILE_CHARS + 1000);
  });
});

Deno.test("AGENTS.md is read before each prompt, so an edit applies to the next one", async () => {
  await withDir(async (dir) => {
    const systems = await systemPromptsOf({ projectDir: dir }, [
      async (session) => {
        await Deno.writeTextFile(join(dir, "AGENTS.md"), "First rule.");
        await session.prompt("one");
      },
      async (session) => {
        await Deno.writeTextFile(join(dir, "AGENTS.md"), "Second rule.");
        await session.prompt("two");
      },
    ]);
    assert.match(systems[0], /First rule\./);
    assert.match(systems[1], /Second rule\./);
    assert.doesNotMatch(systems[1], /First rule/);
  });
});

Deno.test("the workspace's own AGENTS.md follows the project's, and edits to it apply to the next prompt", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "Project rule.");
    const systems = await systemPromptsOf({ projectDir: dir, allowWrite: true }, [
      (session) => session.prompt("one"),
      async (session) => {
        await session.fs.writeFile("AGENTS.md", "Workspace rule.");
        await session.prompt("two");
      },
    ]);
    assert.doesNotMatch(systems[0], /Workspace instructions/);
    assert.match(systems[1], /## Project instructions \(AGENTS.md\)\n\nProject rule\.\n\n## Workspace instructions/);
    assert.match(systems[1], /## Workspace instructions \(AGENTS.md\)\n\nWorkspace rule\./);
  });
});

Deno.test("a workspace seeded from the project does not repeat the project's AGENTS.md", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "Only once.");
    const [system] = await systemPromptsOf({ projectDir: dir, seedFrom: "." }, [(session) => session.prompt("go")]);
    assert.equal(system.split("Only once.").length, 2);
  });
});

Deno.test("a local sandbox reads the project's AGENTS.md once, through the sandbox", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "Local rule.");
    const [system] = await systemPromptsOf({ projectDir: dir, sandbox: "local" }, [(session) => session.prompt("go")]);
    assert.equal(system.split("Local rule.").length, 2);
    assert.match(system, /## Project instructions \(AGENTS.md\)\n\nLocal rule\./);
  });
});

Deno.test("an AGENTS.md link that leaves the workspace is refused, not read", async () => {
  await withDir(async (dir) => {
    const outside = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(join(outside, "secret.txt"), "outside secret");
      await Deno.mkdir(join(dir, "work"));
      await Deno.symlink(join(outside, "secret.txt"), join(dir, "work", "AGENTS.md"));
      // Read through the sandbox, the link is refused: the prompt fails rather than carry the outside file.
      const systems: string[] = [];
      const model = new FunctionModel((request) => {
        systems.push(request.messages[0].content);
        return "ok";
      });
      const agent = await init({ model, projectDir: join(dir, "work"), store: "memory", sandbox: "local" });
      try {
        await assert.rejects(
          () => agent.session().then((session) => session.prompt("go")),
          /Could not read "AGENTS.md" in the workspace/,
        );
      } finally {
        await agent.close();
      }
      assert.equal(systems.length, 0);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});

Deno.test("the system prompt never carries an env value, from instructions or AGENTS.md", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "The deploy key is hunter2-secret.");
    const [system] = await systemPromptsOf(
      { projectDir: dir, instructions: "Token: hunter2-secret", env: { DEPLOY_KEY: "hunter2-secret" } },
      [(session) => session.prompt("go")],
    );
    assert.doesNotMatch(system, /hunter2-secret/);
    assert.match(system, /The deploy key is /);
  });
});

Deno.test("the system prompt lists the agent's skills", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(join(dir, ".agents/skills"), { recursive: true });
    await Deno.writeTextFile(
      join(dir, ".agents/skills/triage.md"),
      "---\nname: triage\ndescription: Label an issue\n---\nLabel it.\n",
    );
    const [withSkills] = await systemPromptsOf({ projectDir: dir }, [(session) => session.prompt("go")]);
    assert.match(withSkills, /## Skills\n\n.*activate_skill.*\n\n- triage: Label an issue/);
    assert.doesNotMatch(withSkills, /Label it\./);
    const [without] = await systemPromptsOf({ projectDir: dir, skills: false }, [(session) => session.prompt("go")]);
    assert.doesNotMatch(without, /## Skills/);
  });
});

Deno.test("buildSystemPrompt() notices an AGENTS.md created after a lookup found none", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const past = new Date(Date.now() - 60_000);
    Deno.utimeSync(dir, past, past); // an old directory: its absence of AGENTS.md is remembered
    assert.doesNotMatch(await buildSystemPrompt({ projectDir: dir }), /Project instructions/);
    assert.doesNotMatch(await buildSystemPrompt({ projectDir: dir }), /Project instructions/);
    await Deno.writeTextFile(join(dir, "AGENTS.md"), "Always answer in haiku.");
    assert.match(await buildSystemPrompt({ projectDir: dir }), /Always answer in haiku\./);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an AGENTS.md a command writes or a removal deletes shows in the next prompt (memory sandbox)", async () => {
  await withDir(async (dir) => {
    const systems = await systemPromptsOf({
      projectDir: dir,
      allowWrite: true,
      allowShell: true,
      allowCompoundCommands: true,
      allowedCommands: ["echo"],
    }, [
      (session) => session.prompt("one"),
      async (session) => {
        await session.shell("echo 'Shell rule.' > AGENTS.md");
        await session.prompt("two");
      },
      async (session) => {
        await session.fs.remove("AGENTS.md");
        await session.prompt("three");
      },
    ]);
    assert.doesNotMatch(systems[0], /Shell rule/);
    assert.match(systems[1], /## Workspace instructions \(AGENTS.md\)\n\nShell rule\./);
    assert.doesNotMatch(systems[2], /Shell rule/);
  });
});

Deno.test("buildSystemPrompt() sees an edit to an AGENTS.md it has read before, even one of the same size", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "AGENTS.md");
    await Deno.writeTextFile(path, "Rule one.");
    const past = new Date(Date.now() - 60_000);
    Deno.utimeSync(path, past, past); // an old file: its text is remembered
    assert.match(await buildSystemPrompt({ projectDir: dir }), /Rule one\./);
    assert.match(await buildSystemPrompt({ projectDir: dir }), /Rule one\./);
    await Deno.writeTextFile(path, "Rule two.");
    assert.match(await buildSystemPrompt({ projectDir: dir }), /Rule two\./);
  });
});
