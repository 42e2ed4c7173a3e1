/**
 * The conformance suite every {@linkcode Sandbox} passes: file operations, the policy checks of the first layer
 * (paths, `allowWrite`, `allowShell`, `allowedCommands`, `allowCompoundCommands`), commands with their environment,
 * exit codes, timeouts, aborts and output caps, and `close()`. Call it from a test file with a factory for your
 * sandbox; it registers one `Deno.test` per behaviour, each on a fresh sandbox that it closes and cleans up.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AbortError, PolicyDeniedError } from "../errors.ts";
import type { Sandbox, SandboxPolicy } from "./sandbox.ts";

/** A fresh sandbox for one test, and how to remove what it left behind. */
export interface SandboxUnderTest {
  /** An empty sandbox under the policy asked for. */
  sandbox: Sandbox;
  /** Removes what the sandbox created; called after it is closed. */
  cleanup(): Promise<void>;
}

/** Options of {@linkcode defineSandboxContractTests}. */
export interface SandboxContractOptions {
  /** Skip the tests of commands (for a sandbox without a shell). */
  skipCommands?: boolean;
  /** Run the tests but ignore them, with a reason printed, as when a test needs something this machine lacks. */
  ignore?: string;
}

const COMMANDS = ["cat", "ls", "echo", "sleep", "head", "printenv", "false", "sh", "ln"];

function policy(overrides: Partial<SandboxPolicy>): SandboxPolicy {
  return {
    allowWrite: false,
    allowShell: false,
    allowedCommands: COMMANDS,
    allowCompoundCommands: false,
    allowNet: false,
    // The suite runs `sh -c` to prove what a command sees; interpreters are an explicit opt-in.
    allowInterpreters: true,
    ...overrides,
  };
}

const WRITE = policy({ allowWrite: true });
const SHELL = policy({ allowWrite: true, allowShell: true });
const COMPOUND = policy({ allowWrite: true, allowShell: true, allowCompoundCommands: true });

function deniedBy(option: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof PolicyDeniedError, `expected PolicyDeniedError, got ${error}`);
    assert.equal(error.option, option);
    return true;
  };
}

/**
 * Registers the sandbox conformance tests. Each test gets its own sandbox from `makeSandbox` with the policy it needs,
 * closes it when done (so `close()` must be safe to call twice) and then calls `cleanup`. The sandbox's commands must
 * include `cat`, `ls`, `echo`, `sleep`, `head`, `printenv`, `false`, `ln` and `sh` (a POSIX shell), since the suite runs
 * them.
 *
 * @example Check a sandbox implementation
 * ```ts ignore
 * // my_sandbox_test.ts, run with `deno test -A`
 * import { createMemorySandbox } from "./memory_sandbox.ts";
 * import { defineSandboxContractTests } from "./sandbox_contract.ts";
 *
 * defineSandboxContractTests("memory", async (policy) => ({
 *   sandbox: await createMemorySandbox({
 *     projectDir: "/p", stateDir: "/p/.flue", agent: "a", instanceId: "1", session: "s", policy,
 *   }),
 *   cleanup: async () => {},
 * }));
 * ```
 *
 * @param name A label for the implementation, used as the test name prefix.
 * @param makeSandbox Creates an empty sandbox under a policy.
 * @param options Which tests to skip or ignore.
 */
export function defineSandboxContractTests(
  name: string,
  makeSandbox: (policy: SandboxPolicy) => Promise<SandboxUnderTest>,
  options: SandboxContractOptions = {},
): void {
  const test = (
    behaviour: string,
    given: SandboxPolicy,
    body: (sandbox: Sandbox) => Promise<void>,
    needsCommands = false,
  ): void => {
    if (needsCommands && options.skipCommands) return;
    Deno.test({
      name: `${name}: ${behaviour}`,
      ignore: options.ignore !== undefined,
      async fn() {
        const { sandbox, cleanup } = await makeSandbox(given);
        try {
          await body(sandbox);
        } finally {
          await sandbox.close();
          await sandbox.close();
          await cleanup();
        }
      },
    });
  };
  if (options.ignore !== undefined) console.log(`SKIPPED: ${name} sandbox contract: ${options.ignore}`);

  test("writes a file with its parents and reads it back", WRITE, async (sandbox) => {
    await sandbox.writeFile("notes/deep/hello.txt", "hello, wörld\n");
    assert.equal(await sandbox.readFile("notes/deep/hello.txt"), "hello, wörld\n");
    await sandbox.writeFile("notes/deep/hello.txt", "replaced");
    assert.equal(await sandbox.readFile("./notes/../notes/deep/hello.txt"), "replaced");
  });

  test("stat(), exists() and readdir() describe files and directories", WRITE, async (sandbox) => {
    await sandbox.writeFile("lib/a.ts", "export {};\n");
    await sandbox.mkdir("lib/empty");
    const file = await sandbox.stat("lib/a.ts");
    assert.equal(file.path, "lib/a.ts");
    assert.equal(file.isFile, true);
    assert.equal(file.isDirectory, false);
    assert.equal(file.size, 11);
    assert.equal((await sandbox.stat("lib")).isDirectory, true);
    assert.equal(await sandbox.exists("lib/a.ts"), true);
    assert.equal(await sandbox.exists("lib/missing.ts"), false);
    const entries = (await sandbox.readdir("lib")).sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(entries.map(({ name, isFile, isDirectory }) => ({ name, isFile, isDirectory })), [
      { name: "a.ts", isFile: true, isDirectory: false },
      { name: "empty", isFile: false, isDirectory: true },
    ]);
  });

  test("missing paths are Deno.errors.NotFound", WRITE, async (sandbox) => {
    await assert.rejects(sandbox.readFile("missing.txt"), Deno.errors.NotFound);
    await assert.rejects(sandbox.stat("missing.txt"), Deno.errors.NotFound);
    await assert.rejects(sandbox.readdir("missing"), Deno.errors.NotFound);
    await assert.rejects(sandbox.remove("missing.txt"), Deno.errors.NotFound);
  });

  test("remove() needs recursive for a directory that is not empty", WRITE, async (sandbox) => {
    await sandbox.writeFile("dir/inner/file.txt", "x");
    await assert.rejects(sandbox.remove("dir"));
    assert.equal(await sandbox.exists("dir/inner/file.txt"), true);
    await sandbox.remove("dir", { recursive: true });
    assert.equal(await sandbox.exists("dir"), false);
    await sandbox.writeFile("single.txt", "x");
    await sandbox.remove("single.txt");
    assert.equal(await sandbox.exists("single.txt"), false);
  });

  test("refuses paths that leave the workspace, before touching anything", WRITE, async (sandbox) => {
    for (const path of ["../outside.txt", "/etc/passwd", "a/../../outside.txt", "/workspace/../etc/passwd", ""]) {
      await assert.rejects(sandbox.readFile(path), PolicyDeniedError, path);
      await assert.rejects(sandbox.writeFile(path, "escape"), PolicyDeniedError, path);
      await assert.rejects(sandbox.stat(path), PolicyDeniedError, path);
    }
    await assert.rejects(sandbox.remove("."), PolicyDeniedError);
  });

  test("escape: refuses a symlink a command made that leads out of the workspace", COMPOUND, async (sandbox) => {
    await sandbox.exec("ln -s /etc outside; ln -s .. up");
    await sandbox.writeFile("real.txt", "inside\n");
    await sandbox.exec("ln -s real.txt alias");
    for (const path of ["outside/passwd", "up/escape.txt"]) {
      await assert.rejects(sandbox.readFile(path), PolicyDeniedError, path);
      await assert.rejects(sandbox.writeFile(path, "escaped"), PolicyDeniedError, path);
    }
    assert.equal(await sandbox.readFile("alias"), "inside\n");
  }, true);

  test("refuses writes without allowWrite and names the option", policy({}), async (sandbox) => {
    await assert.rejects(sandbox.writeFile("a.txt", "x"), deniedBy("allowWrite"));
    await assert.rejects(sandbox.mkdir("dir"), deniedBy("allowWrite"));
    await assert.rejects(sandbox.remove("a.txt"), deniedBy("allowWrite"));
    assert.equal(await sandbox.exists("a.txt"), false);
  });

  test("refuses commands without allowShell", policy({ allowWrite: true }), async (sandbox) => {
    await assert.rejects(sandbox.exec("echo hi"), deniedBy("allowShell"));
  }, true);

  test("refuses a program allowedCommands does not list", SHELL, async (sandbox) => {
    await assert.rejects(sandbox.exec("rm -rf ."), deniedBy("allowedCommands"));
    await assert.rejects(sandbox.exec("curl https://example.com"), deniedBy("allowedCommands"));
  }, true);

  test("refuses compound syntax without allowCompoundCommands", SHELL, async (sandbox) => {
    for (const command of ["echo a; echo b", "echo a && echo b", "echo a | cat", "echo a > out.txt", "echo $(ls)"]) {
      await assert.rejects(sandbox.exec(command), deniedBy("allowCompoundCommands"), command);
    }
    assert.equal(await sandbox.exists("out.txt"), false);
  }, true);

  test("runs allowed commands with their arguments literally and reports exit codes", SHELL, async (sandbox) => {
    await sandbox.writeFile("greeting.txt", "hello from a file\n");
    const cat = await sandbox.exec("cat greeting.txt");
    assert.equal(cat.stdout, "hello from a file\n");
    assert.equal(cat.exitCode, 0);
    assert.equal(cat.timedOut, false);
    const literal = await sandbox.exec("echo '$HOME; ls' \"a  b\"");
    assert.equal(literal.stdout, "$HOME; ls a  b\n");
    assert.notEqual((await sandbox.exec("false")).exitCode, 0);
    const missing = await sandbox.exec("cat missing.txt");
    assert.notEqual(missing.exitCode, 0);
    assert.match(missing.stderr, /missing\.txt/);
  }, true);

  test("runs compound commands with allowCompoundCommands, in the workspace", COMPOUND, async (sandbox) => {
    const result = await sandbox.exec("echo one > out.txt && echo two >> out.txt; cat out.txt | head -n 1");
    assert.equal(result.stdout, "one\n");
    assert.equal(await sandbox.readFile("out.txt"), "one\ntwo\n");
  }, true);

  test("gives a command its cwd and its own environment only", SHELL, async (sandbox) => {
    await sandbox.writeFile("sub/inner.txt", "inner\n");
    assert.equal((await sandbox.exec("cat inner.txt", { cwd: "sub" })).stdout, "inner\n");
    const first = await sandbox.exec("printenv FLUE_CONTRACT_VALUE", { env: { FLUE_CONTRACT_VALUE: "per-call" } });
    assert.match(first.stdout, /per-call|\[REDACTED/);
    const second = await sandbox.exec("printenv FLUE_CONTRACT_VALUE");
    assert.equal(second.stdout, "");
    assert.notEqual(second.exitCode, 0);
    await assert.rejects(sandbox.exec("ls", { cwd: "../.." }), PolicyDeniedError);
  }, true);

  test("stops a command at its timeout and says so", SHELL, async (sandbox) => {
    const result = await sandbox.exec("sleep 30", { timeoutMs: 300 });
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, 124);
  }, true);

  test("stops a command on abort, and refuses to start after one", SHELL, async (sandbox) => {
    const controller = new AbortController();
    const running = sandbox.exec("sleep 30", { signal: controller.signal });
    setTimeout(() => controller.abort("stop"), 200);
    const result = await running;
    assert.equal(result.aborted, true);
    assert.equal(result.exitCode, 130);
    await assert.rejects(sandbox.exec("echo late", { signal: controller.signal }), AbortError);
  }, true);

  test("cuts output at maxOutputBytes with a note", COMPOUND, async (sandbox) => {
    const result = await sandbox.exec("sh -c 'i=0; while [ $i -lt 400 ]; do echo 0123456789; i=$((i+1)); done'", {
      maxOutputBytes: 1000,
    });
    assert.equal(result.truncated, true);
    assert.ok(result.stdout.startsWith("0123456789\n0123456789\n"));
    // Sandboxes word the note their own way; each says that output was cut, and keeps no more than the cap.
    const note = /\n?\[output (cut at|truncated:)[^\]]*\]$/.exec(result.stdout);
    assert.ok(note, result.stdout.slice(-200));
    assert.ok(new TextEncoder().encode(result.stdout.slice(0, note.index)).length <= 1000);
  }, true);

  test("refuses every call after close()", WRITE, async (sandbox) => {
    await sandbox.writeFile("a.txt", "x");
    await sandbox.close();
    await assert.rejects(sandbox.readFile("a.txt"));
    await assert.rejects(sandbox.writeFile("a.txt", "y"));
  });
}
