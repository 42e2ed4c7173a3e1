import assert from "node:assert/strict";
import { createSandbox, listSandboxes, registerSandbox } from "./registry.ts";
import { DENY_ALL_POLICY, type Sandbox, type SandboxContext } from "./sandbox.ts";

async function withContext(test: (context: SandboxContext) => Promise<void>): Promise<void> {
  const projectDir = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue_registry_" }));
  try {
    await test({
      projectDir,
      stateDir: `${projectDir}/.flue`,
      agent: "demo",
      instanceId: "1",
      session: "main",
      policy: DENY_ALL_POLICY,
    });
  } finally {
    await Deno.remove(projectDir, { recursive: true });
  }
}

async function kindOf(spec: Parameters<typeof createSandbox>[0], context: SandboxContext): Promise<string> {
  const sandbox = await createSandbox(spec, context);
  try {
    return sandbox.kind;
  } finally {
    await sandbox.close();
  }
}

Deno.test("createSandbox() creates the built-in virtual, local and memory sandboxes by name", async () => {
  await withContext(async (context) => {
    assert.equal(await kindOf("virtual", context), "virtual");
    assert.equal(await kindOf("local", context), "local");
    assert.equal(await kindOf("memory", context), "memory");
  });
});

Deno.test("createSandbox() rejects an unknown name with a TypeError listing the known ones", async () => {
  await withContext(async (context) => {
    await assert.rejects(createSandbox("docker", context), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(
        error.message,
        /Unknown sandbox "docker": use one of "daytona", "deno-sandbox", "e2b", "local", "memory", "virtual"/,
      );
      return true;
    });
  });
});

Deno.test("registerSandbox() adds a factory that createSandbox() and listSandboxes() then know", async () => {
  await withContext(async (context) => {
    const seen: SandboxContext[] = [];
    registerSandbox("recording", async (given) => {
      seen.push(given);
      return await createSandbox("memory", given) as Sandbox;
    });
    assert.equal(await kindOf("recording", context), "memory");
    assert.equal(seen[0], context);
    assert.deepEqual(listSandboxes().slice(0, 6), ["daytona", "deno-sandbox", "e2b", "local", "memory", "virtual"]);
    assert.ok(listSandboxes().includes("recording"));
  });
});

Deno.test("createSandbox() calls a factory given directly", async () => {
  await withContext(async (context) => {
    assert.equal(await kindOf((given) => createSandbox("memory", given), context), "memory");
  });
});

Deno.test("registerSandbox() rejects built-in names, malformed names and non-functions", () => {
  const factory = (context: SandboxContext) => createSandbox("memory", context);
  for (const name of ["virtual", "local", "memory", "deno-sandbox", "e2b", "daytona"]) {
    assert.throws(() => registerSandbox(name, factory), /is built in and cannot be replaced/);
  }
  for (const name of ["", "Upper", "1abc", "has space", "a".repeat(65), "../x"]) {
    assert.throws(() => registerSandbox(name, factory), TypeError, name);
  }
  assert.throws(() => registerSandbox("broken", "not a function" as unknown as typeof factory), TypeError);
  assert.ok(!listSandboxes().includes("broken"));
});
