import assert from "node:assert/strict";
import { Redactor } from "../telemetry/redactor.ts";
import { createVirtualSandbox } from "../sandbox/virtual_sandbox.ts";
import { createMemorySandbox } from "../sandbox/memory_sandbox.ts";
import { DENY_ALL_POLICY, type Sandbox, type SandboxContext } from "../sandbox/sandbox.ts";
import { createGrepTool } from "../tools/builtin/grep_tool.ts";
import { toolContext } from "../tools/testdata/memory_fixture.ts";
import { isEmptyBeforeCreation, SessionSandbox, withGrantedEnv } from "./session_sandbox.ts";

const SECRET = "sk-test-0123456789";

async function withSessionSandbox(
  kind: "virtual" | "memory",
  secrets: Record<string, string>,
  test: (sandbox: SessionSandbox) => Promise<void>,
): Promise<void> {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue_session_sandbox_" }));
  const seed = `${base}/seed`;
  await Deno.mkdir(`${seed}/src`, { recursive: true });
  await Deno.writeTextFile(`${seed}/src/config.ts`, `export const key = "${SECRET}";\nexport const name = "demo";\n`);
  const context: SandboxContext = {
    projectDir: base,
    stateDir: `${base}/.flue`,
    agent: "test",
    instanceId: "1",
    session: "main",
    policy: DENY_ALL_POLICY,
    seedFrom: seed,
  };
  const create = (): Promise<Sandbox> =>
    kind === "virtual" ? createVirtualSandbox(context) : createMemorySandbox(context);
  const sandbox = new SessionSandbox(kind, DENY_ALL_POLICY, create, new Redactor(secrets));
  try {
    await test(sandbox);
  } finally {
    await sandbox.close();
    await Deno.remove(base, { recursive: true });
  }
}

Deno.test("SessionSandbox.glob() and grep() search a sandbox that can search itself", async () => {
  await withSessionSandbox("virtual", {}, async (sandbox) => {
    assert.deepEqual((await sandbox.glob("**/*.ts"))?.paths, ["src/config.ts"]);
    const found = await sandbox.grep("name", { path: "src" });
    assert.deepEqual(found?.matches, [
      { path: "src/config.ts", line: 2, text: 'export const name = "demo";', length: 27 },
    ]);
    // Granting secrets to commands leaves searching as it is.
    const granted = withGrantedEnv(sandbox, { TOKEN: "granted-value" }) as SessionSandbox;
    assert.deepEqual((await granted.glob("**/*.ts"))?.paths, ["src/config.ts"]);
  });
});

Deno.test("SessionSandbox.glob() and grep() resolve to undefined for a sandbox that cannot search itself", async () => {
  await withSessionSandbox("memory", {}, async (sandbox) => {
    assert.equal(await sandbox.glob("**"), undefined);
    assert.equal(await sandbox.grep("name"), undefined);
    assert.equal(
      await createGrepTool(sandbox).run({ pattern: "name" }, toolContext()),
      'src/config.ts:2:export const name = "demo";',
    );
  });
});

Deno.test("SessionSandbox.grep() declines with secrets to redact, so a pattern cannot probe a secret", async () => {
  await withSessionSandbox("virtual", { API_KEY: SECRET }, async (sandbox) => {
    assert.equal(await sandbox.grep("sk-test"), undefined);
    const grep = createGrepTool(sandbox);
    // The tool then searches what readFile returns, where the secret is already replaced.
    assert.equal(await grep.run({ pattern: "sk-test-0" }, toolContext()), 'No matches for /sk-test-0/ in "."');
    assert.equal(
      await grep.run({ pattern: "key" }, toolContext()),
      'src/config.ts:1:export const key = "[REDACTED:API_KEY]";',
    );
    assert.deepEqual((await sandbox.glob("**"))?.paths, ["src/config.ts"]);
  });
});

Deno.test("A session's sandbox is created on its first file operation, not by prompts that touch no file", async () => {
  const { init } = await import("../agent/init.ts");
  const projectDir = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue_lazy_sandbox_" }));
  try {
    await Deno.writeTextFile(`${projectDir}/AGENTS.md`, "Answer briefly.\n");
    const agent = await init({ model: "test", sandbox: "virtual", store: "memory", projectDir, allowWrite: true });
    try {
      const session = await agent.session("quiet");
      await session.prompt("Hello");
      await session.prompt("Hello again");
      const sandboxes = `${projectDir}/.flue/sandboxes`;
      assert.equal(await Deno.lstat(sandboxes).then(() => true, () => false), false, "no workspace yet");
      await session.fs.writeFile("AGENTS.md", "Workspace rule.\n");
      assert.equal(await Deno.readTextFile(`${sandboxes}/default/default/quiet/AGENTS.md`), "Workspace rule.\n");
      // Once it exists, the workspace's own instructions reach the prompt again.
      const { FunctionModel } = await import("../model/test_models/function_model.ts");
      const model = new FunctionModel(() => "ok");
      await session.prompt("Hello", { model });
      assert.match(JSON.stringify(model.calls[0]), /Workspace rule\./);
    } finally {
      await agent.close();
    }
  } finally {
    await Deno.remove(projectDir, { recursive: true });
  }
});

Deno.test("isEmptyBeforeCreation() knows a fresh memory or unseeded virtual workspace is empty, and nothing else", async () => {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue_empty_" }));
  try {
    const context: SandboxContext = {
      projectDir: base,
      stateDir: `${base}/.flue`,
      agent: "a",
      instanceId: "1",
      session: "s",
      policy: DENY_ALL_POLICY,
    };
    assert.equal(await isEmptyBeforeCreation("memory", context)(), true);
    assert.equal(await isEmptyBeforeCreation("memory", { ...context, seedFrom: base })(), false);
    assert.equal(await isEmptyBeforeCreation("local", context)(), false);
    const virtual = isEmptyBeforeCreation("virtual", context);
    assert.equal(await virtual(), true);
    await Deno.mkdir(`${base}/.flue/sandboxes/a/1/s`, { recursive: true });
    assert.equal(await virtual(), false);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
