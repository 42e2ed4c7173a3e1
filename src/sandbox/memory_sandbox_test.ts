import assert from "node:assert/strict";
import { join } from "node:path";
import { PolicyDeniedError } from "../errors.ts";
import { createMemorySandbox, type MemorySandboxOptions } from "./memory_sandbox.ts";
import { DENY_ALL_POLICY, type Sandbox, type SandboxPolicy } from "./sandbox.ts";

function memorySandbox(
  policy: Partial<SandboxPolicy> = {},
  extra: { seedFrom?: string; stateDir?: string; options?: MemorySandboxOptions } = {},
): Promise<Sandbox> {
  return createMemorySandbox({
    projectDir: "/project",
    stateDir: extra.stateDir ?? "/project/.flue",
    agent: "test",
    instanceId: "1",
    session: "main",
    policy: { ...DENY_ALL_POLICY, ...policy },
    seedFrom: extra.seedFrom,
  }, extra.options);
}

const SHELL: Partial<SandboxPolicy> = { allowShell: true, allowCompoundCommands: true };

Deno.test("createMemorySandbox() writes, reads, lists, stats and removes files", async () => {
  const sandbox = await memorySandbox({ allowWrite: true });
  assert.equal(sandbox.kind, "memory");
  assert.equal(sandbox.root, "/workspace");
  await sandbox.writeFile("src/deep/a.ts", "export const a = 1;\n");
  assert.equal(await sandbox.readFile("src/deep/a.ts"), "export const a = 1;\n");
  assert.equal(await sandbox.readFile("/workspace/src/deep/a.ts"), "export const a = 1;\n");
  assert.deepEqual(await sandbox.readdir("src"), [{
    name: "deep",
    isFile: false,
    isDirectory: true,
    isSymlink: false,
  }]);
  const stat = await sandbox.stat("src/deep/a.ts");
  assert.equal(stat.path, "src/deep/a.ts");
  assert.equal(stat.isFile, true);
  assert.equal(stat.size, 20);
  assert.equal(await sandbox.exists("src/deep/a.ts"), true);
  await sandbox.mkdir("empty/dir");
  assert.equal((await sandbox.stat("empty/dir")).isDirectory, true);
  await assert.rejects(sandbox.remove("src"), Deno.errors.NotSupported);
  await sandbox.remove("src", { recursive: true });
  assert.equal(await sandbox.exists("src/deep/a.ts"), false);
  await assert.rejects(sandbox.readFile("src/deep/a.ts"), Deno.errors.NotFound);
});

Deno.test("createMemorySandbox() refuses writes without allowWrite and names the option", async () => {
  const sandbox = await memorySandbox();
  for (const attempt of [sandbox.writeFile("a.txt", "x"), sandbox.mkdir("d"), sandbox.remove("a.txt")]) {
    await assert.rejects(attempt, (error: unknown) => {
      assert.ok(error instanceof PolicyDeniedError);
      assert.equal(error.option, "allowWrite");
      return true;
    });
  }
  assert.equal(await sandbox.exists("a.txt"), false);
});

Deno.test("createMemorySandbox() refuses paths that leave the workspace", async () => {
  const sandbox = await memorySandbox({ allowWrite: true });
  for (const path of ["../etc/passwd", "/etc/passwd", "/workspace/../etc/passwd", "a/../../b", "", "a\0b"]) {
    await assert.rejects(sandbox.readFile(path), PolicyDeniedError, `read of ${JSON.stringify(path)}`);
    await assert.rejects(sandbox.writeFile(path, "x"), PolicyDeniedError, `write of ${JSON.stringify(path)}`);
  }
  await assert.rejects(sandbox.remove(".", { recursive: true }), PolicyDeniedError);
});

Deno.test("createMemorySandbox() refuses a symlink the shell made that points out of the workspace", async () => {
  const sandbox = await memorySandbox({ ...SHELL, allowWrite: true, allowedCommands: ["ln", "mkdir"] });
  const made = await sandbox.exec("mkdir -p /tmp/outside && ln -s /tmp/outside escape && ln -s /nowhere dangling");
  assert.equal(made.exitCode, 0, made.stderr);
  await assert.rejects(sandbox.writeFile("escape/a.txt", "x"), PolicyDeniedError);
  await assert.rejects(sandbox.readdir("escape"), PolicyDeniedError);
  await assert.rejects(sandbox.writeFile("dangling", "x"), PolicyDeniedError);
  await sandbox.exec("ln -s sub inside && mkdir sub");
  await sandbox.writeFile("inside/b.txt", "ok");
  assert.equal(await sandbox.readFile("sub/b.txt"), "ok");
  assert.equal((await sandbox.stat("inside")).isSymlink, true);
});

Deno.test("createMemorySandbox() exec() needs allowShell, an allowed program and allowCompoundCommands", async () => {
  const noShell = await memorySandbox({ allowedCommands: ["echo"] });
  await assert.rejects(noShell.exec("echo hi"), (error: unknown) => {
    assert.ok(error instanceof PolicyDeniedError);
    assert.equal(error.option, "allowShell");
    return true;
  });
  const simple = await memorySandbox({ allowShell: true, allowedCommands: ["echo"] });
  assert.equal((await simple.exec("echo hi")).stdout, "hi\n");
  await assert.rejects(simple.exec("cat /etc/passwd"), (error: unknown) => {
    assert.ok(error instanceof PolicyDeniedError);
    assert.equal(error.option, "allowedCommands");
    return true;
  });
  await assert.rejects(simple.exec("echo hi; echo there"), (error: unknown) => {
    assert.ok(error instanceof PolicyDeniedError);
    assert.equal(error.option, "allowCompoundCommands");
    return true;
  });
});

Deno.test("createMemorySandbox() passes argv words literally to the simulated shell", async () => {
  const sandbox = await memorySandbox({ allowShell: true, allowedCommands: ["printf"] });
  const result = await sandbox.exec(`printf '%s|' 'a b' '$(whoami)' '; rm -rf /' "it's"`);
  assert.equal(result.stdout, "a b|$(whoami)|; rm -rf /|it's|");
});

Deno.test("createMemorySandbox() gives the shell a read-only file system without allowWrite", async () => {
  const sandbox = await memorySandbox({ ...SHELL, allowedCommands: ["touch", "echo", "rm", "mkdir", "cat"] });
  const touched = await sandbox.exec("touch a.txt");
  assert.notEqual(touched.exitCode, 0);
  const redirected = await sandbox.exec("echo hi > b.txt");
  assert.notEqual(redirected.exitCode, 0);
  assert.match(redirected.stderr, /read-only/);
  const tmp = await sandbox.exec("mkdir /tmp/x");
  assert.notEqual(tmp.exitCode, 0);
  assert.equal((await sandbox.exec("echo quiet > /dev/null")).exitCode, 0);
  assert.equal(await sandbox.exists("a.txt"), false);
  assert.equal(await sandbox.exists("b.txt"), false);
});

Deno.test("createMemorySandbox() shell writes land in the workspace with allowWrite", async () => {
  const sandbox = await memorySandbox({ ...SHELL, allowWrite: true, allowedCommands: ["echo", "cat"] });
  const result = await sandbox.exec("echo hello > notes.txt && cat notes.txt");
  assert.equal(result.stdout, "hello\n");
  assert.equal(await sandbox.readFile("notes.txt"), "hello\n");
});

Deno.test("createMemorySandbox() shell cannot see host files, host environment or the network", async () => {
  Deno.env.set("FLUE_MEMORY_SANDBOX_SECRET", "hunter2");
  try {
    const sandbox = await memorySandbox({ ...SHELL, allowedCommands: ["cat", "ls", "env", "curl", "wget"] });
    const hostFile = await sandbox.exec("cat /etc/hostname");
    assert.notEqual(hostFile.exitCode, 0);
    const root = await sandbox.exec("ls /");
    assert.doesNotMatch(root.stdout, /\b(etc|home|root)\b/);
    const env = await sandbox.exec("env");
    assert.doesNotMatch(env.stdout, /hunter2|FLUE_MEMORY_SANDBOX_SECRET/);
    const curl = await sandbox.exec("curl http://127.0.0.1:9/");
    assert.equal(curl.exitCode, 127);
    assert.equal((await sandbox.exec("wget http://127.0.0.1:9/")).exitCode, 127);
  } finally {
    Deno.env.delete("FLUE_MEMORY_SANDBOX_SECRET");
  }
});

Deno.test("createMemorySandbox() exec() applies cwd and extra environment", async () => {
  const sandbox = await memorySandbox({ allowShell: true, allowWrite: true, allowedCommands: ["pwd", "printenv"] });
  await sandbox.mkdir("sub");
  assert.equal((await sandbox.exec("pwd", { cwd: "sub" })).stdout, "/workspace/sub\n");
  assert.equal((await sandbox.exec("printenv TOKEN", { env: { TOKEN: "granted" } })).stdout, "granted\n");
  await assert.rejects(sandbox.exec("pwd", { cwd: "../" }), PolicyDeniedError);
  await assert.rejects(sandbox.exec("pwd", { env: { "BAD NAME": "x" } }), TypeError);
});

Deno.test("createMemorySandbox() exec() stops a sleeping command at the timeout", async () => {
  const sandbox = await memorySandbox({ allowShell: true, allowedCommands: ["sleep"] });
  const started = performance.now();
  const result = await sandbox.exec("sleep 10", { timeoutMs: 200 });
  assert.ok(performance.now() - started < 5_000);
  assert.equal(result.timedOut, true);
  assert.equal(result.exitCode, 124);
});

Deno.test("createMemorySandbox() exec() stops a busy loop at the timeout", async () => {
  const sandbox = await memorySandbox({ ...SHELL, allowedCommands: ["true"] });
  const result = await sandbox.exec("while true; do true; done", { timeoutMs: 300 });
  assert.equal(result.timedOut, true);
  assert.equal(result.exitCode, 124);
});

Deno.test("createMemorySandbox() exec() reports an abort with exit code 130", async () => {
  const sandbox = await memorySandbox({ allowShell: true, allowedCommands: ["sleep"] });
  const controller = new AbortController();
  const running = sandbox.exec("sleep 10", { signal: controller.signal });
  // No event says the simulated command has started; a short delay lets it reach its sleep.
  setTimeout(() => controller.abort(), 50);
  const result = await running;
  assert.equal(result.aborted, true);
  assert.equal(result.exitCode, 130);
  assert.equal(result.timedOut, false);
});

Deno.test("createMemorySandbox() exec() cuts output at the cap with a note", async () => {
  const sandbox = await memorySandbox({ allowShell: true, allowedCommands: ["seq"] });
  const result = await sandbox.exec("seq 1 100000", { maxOutputBytes: 1_000 });
  assert.equal(result.truncated, true);
  assert.match(result.stdout, /\n\[output cut at 1000 of \d+ bytes\]$/);
  assert.ok(result.stdout.startsWith("1\n2\n3\n"));
});

Deno.test("createMemorySandbox() copies seedFrom without .git, the state directory or symlinks", async () => {
  const seed = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(seed, "src"));
    await Deno.writeTextFile(join(seed, "src", "a.ts"), "export {};\n");
    await Deno.mkdir(join(seed, ".git"));
    await Deno.writeTextFile(join(seed, ".git", "config"), "[core]\n");
    await Deno.mkdir(join(seed, ".flue"));
    await Deno.writeTextFile(join(seed, ".flue", "flue.db"), "state");
    await Deno.writeTextFile(join(outside, "secret.txt"), "secret");
    await Deno.symlink(join(outside, "secret.txt"), join(seed, "link.txt"));
    await Deno.symlink(outside, join(seed, "linked-dir"));
    const sandbox = await memorySandbox({}, { seedFrom: seed, stateDir: join(seed, ".flue") });
    assert.equal(await sandbox.readFile("src/a.ts"), "export {};\n");
    assert.deepEqual((await sandbox.readdir(".")).map((entry) => entry.name).sort(), ["src"]);
  } finally {
    await Deno.remove(seed, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("createMemorySandbox() refuses a seed directory over its limits", async () => {
  const seed = await Deno.makeTempDir();
  try {
    for (const name of ["a", "b", "c"]) await Deno.writeTextFile(join(seed, name), "x".repeat(40_000));
    await assert.rejects(memorySandbox({}, { seedFrom: seed, options: { maxSeedFiles: 2 } }), RangeError);
    await assert.rejects(memorySandbox({}, { seedFrom: seed, options: { maxFileSystemBytes: 50_000 } }), RangeError);
    const fits = await memorySandbox({}, { seedFrom: seed, options: { maxSeedFiles: 3, maxFileSystemBytes: 120_000 } });
    assert.equal((await fits.readdir(".")).length, 3);
  } finally {
    await Deno.remove(seed, { recursive: true });
  }
});

Deno.test("createMemorySandbox() refuses calls after close()", async () => {
  const sandbox = await memorySandbox({ allowWrite: true });
  await sandbox.close();
  await assert.rejects(sandbox.readFile("a.txt"), TypeError);
});

Deno.test("the memory sandbox's revision moves with every write, removal and command, and is unknown during one", async () => {
  const sandbox = await memorySandbox({ allowWrite: true, ...SHELL, allowedCommands: ["echo"] });
  const seen = [sandbox.revision];
  await sandbox.readFile("missing.txt").catch(() => {});
  assert.equal(sandbox.revision, seen[0], "a read changes nothing");
  const writing = sandbox.writeFile("a.txt", "x");
  assert.equal(sandbox.revision, undefined, "unknown while the write runs");
  await writing;
  seen.push(sandbox.revision);
  await sandbox.exec("echo y > b.txt");
  seen.push(sandbox.revision);
  await sandbox.mkdir("dir");
  seen.push(sandbox.revision);
  await sandbox.remove("a.txt");
  seen.push(sandbox.revision);
  await sandbox.writeFile("/etc/passwd", "x").catch(() => {});
  seen.push(sandbox.revision);
  assert.equal(new Set(seen).size, seen.length, `every change moved it: ${seen.join(", ")}`);
});
