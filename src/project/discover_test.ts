import assert from "node:assert/strict";
import { join } from "node:path";
import { discoverProject, findModule, loadAgentModule } from "./discover.ts";

async function withTree(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-discover-" });
  try {
    for (const [path, content] of Object.entries(files)) {
      await Deno.mkdir(join(dir, path, ".."), { recursive: true });
      await Deno.writeTextFile(join(dir, path), content);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("discoverProject() finds agents and workflows in src/, the root and .flue/", async () => {
  await withTree({
    "src/agents/assistant.ts": "",
    "agents/reviewer.mts": "",
    ".flue/workflows/nightly.js": "",
    "src/workflows/summarize.ts": "",
    "src/workflows/_shared.ts": "",
    "src/workflows/summarize_test.ts": "",
    "src/workflows/notes.md": "",
  }, async (dir) => {
    const modules = await discoverProject(dir);
    assert.deepEqual([...modules.agents.keys()].sort(), ["assistant", "reviewer"]);
    assert.deepEqual([...modules.workflows.keys()].sort(), ["nightly", "summarize"]);
  });
});

Deno.test("discoverProject() rejects the same name defined twice, naming both files", async () => {
  await withTree({ "src/agents/a.ts": "", "agents/a.ts": "" }, async (dir) => {
    await assert.rejects(
      discoverProject(dir),
      /The agent "a" is defined twice: ".*src\/agents\/a.ts" and ".*agents\/a.ts"/,
    );
  });
});

Deno.test("discoverProject() rejects a module name that cannot be a route", async () => {
  await withTree({ "src/workflows/9lives.ts": "" }, async (dir) => {
    await assert.rejects(discoverProject(dir), /Invalid workflow name "9lives"/);
  });
});

Deno.test("findModule() names the known modules when a name is missing", () => {
  const modules = new Map([["summarize", "/x/summarize.ts"]]);
  assert.throws(() => findModule(modules, "workflow", "sumarize"), /known workflows are summarize/);
  assert.throws(() => findModule(new Map(), "agent", "x"), /the project has no agents/);
});

Deno.test("loadAgentModule() requires a createAgent default export", async () => {
  await withTree({ "src/agents/bad.ts": "export default { model: 'test' };\n" }, async (dir) => {
    await assert.rejects(loadAgentModule(join(dir, "src/agents/bad.ts")), /must "export default createAgent/);
  });
});

Deno.test("discoverProject() looks in .agents/ for agents (beside skills/ and roles/) and .agents/workflows/", async () => {
  await withTree({
    ".agents/helper.ts": "",
    ".agents/skills/triage.md": "",
    ".agents/roles/coder.md": "",
    ".agents/workflows/nightly.ts": "",
  }, async (dir) => {
    const modules = await discoverProject(dir);
    assert.deepEqual([...modules.agents.keys()], ["helper"]);
    assert.deepEqual([...modules.workflows.keys()], ["nightly"]);
  });
  await withTree({ "agents/a.ts": "", ".agents/a.ts": "" }, async (dir) => {
    await assert.rejects(
      discoverProject(dir),
      /The agent "a" is defined twice: ".*\/agents\/a.ts" and ".*\.agents\/a.ts"/,
    );
  });
});

Deno.test("loadAgentModule() says how a legacy handler module is served", async () => {
  await withTree(
    { "agents/old.ts": "export const triggers = { webhook: true };\nexport default () => 1;\n" },
    async (dir) => {
      await assert.rejects(loadAgentModule(join(dir, "agents/old.ts")), /legacy handler .* POST \/agents\/<name>\/:id/);
    },
  );
});
