import assert from "node:assert/strict";
import { join } from "node:path";
import { createProjectApp } from "./project_app.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;

async function withProject(flue: Record<string, unknown>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-project-app-" });
  try {
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ flue }));
    await Deno.mkdir(join(dir, "agents"));
    await Deno.writeTextFile(
      join(dir, "agents", "echo.ts"),
      `import { createAgent } from "${MOD}";\nexport default createAgent(() => ({ sandbox: "memory" }));\n`,
    );
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("createProjectApp() takes the server settings of the configuration", async () => {
  await withProject({ model: "test", store: "memory", server: { bodyLimit: 2048, worker: false } }, async (dir) => {
    const app = await createProjectApp(dir, { worker: true });
    try {
      assert.equal(app.worker, undefined, "the configuration's worker: false keeps this server to requests");
      const big = await app.request("/agents/echo/a", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "x".repeat(4000) }),
      });
      assert.equal(big.status, 413);
      const small = await app.request("/agents/echo/a", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "hello" }),
      });
      assert.equal(small.status, 200, await small.clone().text());
      await small.body?.cancel();
    } finally {
      await app.close({ graceMs: 1000 });
    }
  });
});

Deno.test("createProjectApp() runs a worker with the configured settings, and refuses an unknown server key", async () => {
  await withProject({ model: "test", store: "memory", server: { worker: { leaseMs: 5000 } } }, async (dir) => {
    const app = await createProjectApp(dir, { worker: true });
    try {
      assert.ok(app.worker, "the configured worker runs");
    } finally {
      await app.close({ graceMs: 1000 });
    }
  });
  await withProject({ model: "test", store: "memory", server: { nope: 1 } }, async (dir) => {
    await assert.rejects(createProjectApp(dir), /unknown key "nope" in "flue.server"/);
  });
});

Deno.test("createProjectApp() fails at start on a broken role, an agent's unknown sandbox or a missing key", async () => {
  await withProject({ model: "test", store: "memory" }, async (dir) => {
    await Deno.mkdir(join(dir, ".agents", "roles"), { recursive: true });
    await Deno.writeTextFile(join(dir, ".agents", "roles", "reviewer.md"), "---\nname: [broken\n---\nReview.\n");
    await assert.rejects(createProjectApp(dir), (error: Error) => {
      assert.equal(error.name, "ProjectCheckError");
      assert.match(error.message, /^roles: .*reviewer\.md/);
      return true;
    });
    const app = await createProjectApp(dir, { check: false });
    await app.close();
  });
  await withProject({ model: "test", store: "memory" }, async (dir) => {
    await Deno.writeTextFile(
      join(dir, "agents", "echo.ts"),
      `import { createAgent } from "${MOD}";\nexport default createAgent(() => ({ sandbox: "dokcer", model: "groq:llama" }));\n`,
    );
    await assert.rejects(createProjectApp(dir), (error: Error & { problems?: { message: string }[] }) => {
      const messages = error.problems!.map((problem) => problem.message).join("\n");
      assert.match(messages, /unknown sandbox "dokcer"/);
      assert.match(messages, /model "groq:llama" needs GROQ_API_KEY/);
      assert.match(error.message, /and 1 more: run "flue check"/);
      return true;
    });
  });
});
