import assert from "node:assert/strict";
import { Redactor } from "../telemetry/redactor.ts";
import { createVirtualSandbox } from "../sandbox/virtual_sandbox.ts";
import { createMemorySandbox } from "../sandbox/memory_sandbox.ts";
import { DENY_ALL_POLICY, type Sandbox, type SandboxContext } from "../sandbox/sandbox.ts";
import { createGrepTool } from "../tools/builtin/grep_tool.ts";
import { toolContext } from "../tools/testdata/memory_fixture.ts";
import { SessionSandbox, withGrantedEnv } from "./session_sandbox.ts";

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
