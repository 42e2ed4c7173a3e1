import assert from "node:assert/strict";
import { PolicyDeniedError } from "../errors.ts";
import { DENY_ALL_POLICY, type SandboxContext, type SandboxPolicy } from "./sandbox.ts";
import { createVirtualSandbox, encodeWorkspaceSegment, virtualWorkspacePath } from "./virtual_sandbox.ts";
import type { WorkspaceSandbox } from "./workspace_sandbox.ts";
import { isBubblewrapAvailable } from "./commands/run_command.ts";

const WRITE_POLICY: SandboxPolicy = { ...DENY_ALL_POLICY, allowWrite: true };
const HAS_BUBBLEWRAP: boolean = await isBubblewrapAvailable();

interface Project {
  projectDir: string;
  stateDir: string;
  open(overrides?: Partial<SandboxContext>): Promise<WorkspaceSandbox>;
}

async function withProject(test: (project: Project) => Promise<void>): Promise<void> {
  const projectDir = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue_virtual_" }));
  const stateDir = `${projectDir}/.flue`;
  const sandboxes: WorkspaceSandbox[] = [];
  try {
    await test({
      projectDir,
      stateDir,
      async open(overrides = {}) {
        const sandbox = await createVirtualSandbox({
          projectDir,
          stateDir,
          agent: "triage",
          instanceId: "one",
          session: "main",
          policy: WRITE_POLICY,
          ...overrides,
        });
        sandboxes.push(sandbox);
        return sandbox;
      },
    });
  } finally {
    await Promise.all(sandboxes.map((sandbox) => sandbox.close()));
    await Deno.remove(projectDir, { recursive: true });
  }
}

async function names(path: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(path))).map((entry) => entry.name).sort();
}

Deno.test("encodeWorkspaceSegment() keeps names apart that differ only in punctuation, case or dots", () => {
  const inputs = ["x:y_z", "x_y:z", "x%3Ay_z", "..", ".", "a/b", "a%2Fb", "Agent", "agent", "%41gent", "é", "e\u0301"];
  const encoded = inputs.map(encodeWorkspaceSegment);
  assert.equal(new Set(encoded).size, inputs.length, encoded.join(" "));
  for (const segment of encoded) {
    assert.match(segment, /^[a-z0-9_%A-F-]+$/);
    assert.ok(segment !== "." && segment !== "..");
  }
  assert.equal(encodeWorkspaceSegment("x:y_z"), "x%3Ay_z");
  assert.throws(() => encodeWorkspaceSegment(""), TypeError);
});

Deno.test("encodeWorkspaceSegment() shortens long names with a hash that keeps them apart", () => {
  const long = "a".repeat(300);
  const encoded = encodeWorkspaceSegment(long);
  assert.ok(encoded.length < 200);
  assert.match(encoded, /^a{80}~[0-9a-f]{32}$/);
  assert.notEqual(encodeWorkspaceSegment(`${long}b`), encoded);
  assert.notEqual(encodeWorkspaceSegment("/".repeat(100)), encodeWorkspaceSegment("/".repeat(101)));
});

Deno.test("virtualWorkspacePath() keeps hostile names inside the sandboxes folder", () => {
  const path = virtualWorkspacePath("/p/.flue", "../../etc", "/abs", "..");
  assert.equal(path, "/p/.flue/sandboxes/%2E%2E%2F%2E%2E%2Fetc/%2Fabs/%2E%2E");
});

Deno.test("createVirtualSandbox() creates a private workspace under the state directory", async () => {
  await withProject(async ({ stateDir, open }) => {
    const sandbox = await open({ agent: "triage", instanceId: "x:y_z", session: "main" });
    assert.equal(sandbox.kind, "virtual");
    assert.equal(sandbox.root, `${stateDir}/sandboxes/triage/x%3Ay_z/main`);
    assert.deepEqual(sandbox.policy, WRITE_POLICY);
    assert.ok(Object.isFrozen(sandbox.policy));
    await sandbox.writeFile("notes/a.md", "# A\n");
    assert.equal(await Deno.readTextFile(`${sandbox.root}/notes/a.md`), "# A\n");
    assert.equal(await sandbox.readFile("notes/a.md"), "# A\n");
    await assert.rejects(sandbox.readFile("../../../../AGENTS.md"), PolicyDeniedError);
  });
});

Deno.test("createVirtualSandbox() isolates agents sharing an instance id and ids that differ only in : and _", async () => {
  await withProject(async ({ open }) => {
    const first = await open({ agent: "alpha", instanceId: "shared" });
    const second = await open({ agent: "beta", instanceId: "shared" });
    const third = await open({ agent: "alpha", instanceId: "x:y_z" });
    const fourth = await open({ agent: "alpha", instanceId: "x_y:z" });
    assert.equal(new Set([first.root, second.root, third.root, fourth.root]).size, 4);
    await first.writeFile("mine.txt", "alpha");
    await third.writeFile("mine.txt", "x:y_z");
    assert.equal(await second.exists("mine.txt"), false);
    assert.equal(await fourth.exists("mine.txt"), false);
    assert.equal(await third.readFile("mine.txt"), "x:y_z");
  });
});

Deno.test("createVirtualSandbox() seeds a new workspace once and leaves out .git, state and outside links", async () => {
  await withProject(async ({ projectDir, open }) => {
    const seed = `${projectDir}/seed`;
    await Deno.mkdir(`${seed}/src`, { recursive: true });
    await Deno.mkdir(`${seed}/.git`);
    await Deno.writeTextFile(`${seed}/src/a.ts`, "seeded");
    await Deno.writeTextFile(`${seed}/.git/config`, "[core]");
    await Deno.symlink("src/a.ts", `${seed}/inside-link`);
    await Deno.symlink("/etc/hostname", `${seed}/outside-link`);
    await Deno.symlink("../../etc", `${seed}/climbing-link`);
    const first = await open({ seedFrom: seed });
    assert.deepEqual(await names(first.root), ["inside-link", "src"]);
    assert.equal(await first.readFile("inside-link"), "seeded");
    await first.writeFile("src/a.ts", "changed by the agent");
    await first.close();
    await Deno.writeTextFile(`${seed}/src/a.ts`, "seed changed later");
    const again = await open({ seedFrom: seed });
    assert.equal(again.root, first.root);
    assert.equal(await again.readFile("src/a.ts"), "changed by the agent");
    assert.deepEqual(await names(`${first.root}/..`), ["main"], "a staging directory was left behind");
  });
});

Deno.test("createVirtualSandbox() seeded from the project leaves out the state directory", async () => {
  await withProject(async ({ projectDir, open }) => {
    await Deno.writeTextFile(`${projectDir}/AGENTS.md`, "instructions");
    const sandbox = await open({ seedFrom: projectDir });
    assert.deepEqual(await names(sandbox.root), ["AGENTS.md"]);
  });
});

Deno.test("createVirtualSandbox() refuses writes without allowWrite and writes nothing", async () => {
  await withProject(async ({ open }) => {
    const sandbox = await open({ policy: DENY_ALL_POLICY });
    for (const attempt of [sandbox.writeFile("a.txt", "x"), sandbox.mkdir("dir"), sandbox.remove("a.txt")]) {
      await assert.rejects(attempt, (error: unknown) => {
        assert.ok(error instanceof PolicyDeniedError);
        assert.equal(error.option, "allowWrite");
        return true;
      });
    }
    assert.deepEqual(await names(sandbox.root), []);
  });
});

Deno.test("createVirtualSandbox() refuses writes into .git/", async () => {
  await withProject(async ({ open }) => {
    const sandbox = await open();
    await assert.rejects(sandbox.writeFile(".git/config", "[alias]"), /Writing into "\.git\/"/);
    assert.equal(await sandbox.exists(".git"), false);
  });
});

Deno.test("createVirtualSandbox() refuses a workspace replaced by a link leaving the sandboxes folder", async () => {
  await withProject(async ({ projectDir, stateDir, open }) => {
    const path = virtualWorkspacePath(stateDir, "triage", "one", "main");
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.symlink(projectDir, path);
    await assert.rejects(open(), PolicyDeniedError);
  });
});

Deno.test("createVirtualSandbox() rejects a malformed context", async () => {
  await withProject(async ({ open }) => {
    await assert.rejects(open({ agent: "" }), TypeError);
    await assert.rejects(open({ stateDir: "relative/.flue" }), TypeError);
    await assert.rejects(open({ seedFrom: "/nonexistent/seed" }), /Seed directory/);
  });
});

Deno.test({
  name: "createVirtualSandbox() exec runs commands in the workspace under the shell policy",
  ignore: !HAS_BUBBLEWRAP,
  fn: () =>
    withProject(async ({ open }) => {
      const denied = await open({ session: "denied" });
      await assert.rejects(denied.exec("cat a.txt"), PolicyDeniedError);
      const sandbox = await open({
        session: "shell",
        policy: { ...WRITE_POLICY, allowShell: true, allowedCommands: ["cat"] },
      });
      await sandbox.writeFile("sub/a.txt", "from the workspace");
      const result = await sandbox.exec("cat a.txt", { cwd: "sub" });
      assert.equal(result.stdout, "from the workspace");
      assert.equal(result.exitCode, 0);
      await assert.rejects(sandbox.exec("cat a.txt", { cwd: "../.." }), PolicyDeniedError);
    }),
});
