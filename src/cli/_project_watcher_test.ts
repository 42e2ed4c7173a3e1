import assert from "node:assert/strict";
import { join } from "node:path";
import { isReloadTrigger, watchProject } from "./_project_watcher.ts";

Deno.test("isReloadTrigger() accepts modules, skills and configuration, and ignores local state and editor files", () => {
  const dir = "/project";
  for (const path of ["src/agents/a.ts", "agents/b.ts", ".agents/skills/x/SKILL.md", "deno.json", "AGENTS.md"]) {
    assert.equal(isReloadTrigger(dir, join(dir, path)), true, path);
  }
  assert.equal(isReloadTrigger(dir, join(dir, ".flue/agents/c.ts")), true);
  for (
    const path of [
      ".flue/flue.db",
      ".flue/flue.db-wal",
      ".flue/sandboxes/x/f",
      "README.md",
      "src/.a.ts.swp",
      "src/4913",
      "src/agents/a.ts~",
      "src/agents/.#a.ts",
      "src/agents/#a.ts#",
      "src/agents/a.ts___jb_tmp___",
      "src/agents/a.ts.tmp.4242.1733450000",
      "src/agents/.a.ts.kate-swp",
      "src/agents/a.ts.crswap",
      "src/agents/a.ts.orig",
    ]
  ) {
    assert.equal(isReloadTrigger(dir, join(dir, path)), false, path);
  }
  assert.equal(isReloadTrigger(dir, "/elsewhere/src/a.ts"), false);
});

Deno.test("watchProject() yields one batch per burst of changes and ignores .flue/", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-watch-" });
  const stop = new AbortController();
  try {
    await Deno.mkdir(join(dir, "src", "agents"), { recursive: true });
    await Deno.mkdir(join(dir, ".flue"));
    const ready = Promise.withResolvers<void>();
    const changes = watchProject(dir, { debounceMs: 100, signal: stop.signal, onReady: ready.resolve });
    const first = changes.next();
    await ready.promise;
    await Deno.writeTextFile(join(dir, ".flue", "flue.db"), "state");
    await Deno.writeTextFile(join(dir, "src", "agents", "a.ts"), "export {};");
    await Deno.writeTextFile(join(dir, "deno.json"), "{}");
    const batch = await first;
    assert.equal(batch.done, false);
    assert.deepEqual(batch.value, ["deno.json", "src/agents/a.ts"]);

    // A watched folder created later at the root reloads, and what is written inside it from then on too.
    await Deno.mkdir(join(dir, "workflows"));
    assert.deepEqual((await changes.next()).value, ["workflows"]);
    const third = changes.next();
    let seen: IteratorResult<string[]> | undefined;
    // The folder's own watcher opens a moment after its creation is seen: write until a change inside it arrives.
    for (let attempt = 0; attempt < 50 && !seen; attempt++) {
      await Deno.writeTextFile(join(dir, "workflows", "w.ts"), `export const attempt = ${attempt};`);
      seen = await Promise.race([
        third,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200)),
      ]);
    }
    assert.deepEqual(seen?.value, ["workflows/w.ts"]);
    stop.abort();
    assert.equal((await changes.next()).done, true);
  } finally {
    stop.abort();
    await Deno.remove(dir, { recursive: true });
  }
});
