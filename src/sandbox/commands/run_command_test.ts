import assert from "node:assert/strict";
import { AbortError, PolicyDeniedError, SandboxUnavailableError } from "../../errors.ts";
import type { SandboxPolicy } from "../sandbox.ts";
import { BUBBLEWRAP_INSTALL_COMMAND, isBubblewrapAvailable, runCommand } from "./run_command.ts";
import { detectCgroupSupport } from "./_command_cgroup.ts";

const isConfinedAvailable = await isBubblewrapAvailable();

function policy(allowedCommands: string[], overrides: Partial<SandboxPolicy> = {}): SandboxPolicy {
  return {
    allowWrite: false,
    allowShell: true,
    allowedCommands,
    allowCompoundCommands: false,
    allowNet: false,
    ...overrides,
  };
}

async function withWorkspace(run: (workspace: string) => Promise<void>): Promise<void> {
  const workspace = await Deno.makeTempDir({ prefix: "flue-run-command-" });
  try {
    await run(workspace);
  } finally {
    await Deno.remove(workspace, { recursive: true });
  }
}

/**
 * A test that needs bubblewrap. Where it is missing, the test proves that commands are refused instead of running
 * unconfined, and says which of the two it tested.
 */
function confinedTest(name: string, run: (workspace: string) => Promise<void>): void {
  Deno.test(name, async () => {
    await withWorkspace(async (workspace) => {
      if (!isConfinedAvailable) {
        await assert.rejects(
          runCommand("pwd", { workspace, policy: policy(["pwd"]) }),
          (error: unknown) =>
            error instanceof SandboxUnavailableError && error.installCommand === BUBBLEWRAP_INSTALL_COMMAND,
        );
        console.log("bubblewrap: refusal tested");
        return;
      }
      await run(workspace);
      console.log("bubblewrap: confined path tested");
    });
  });
}

confinedTest("runCommand() runs a command in the workspace, seen at /workspace", async (workspace) => {
  await Deno.writeTextFile(`${workspace}/notes.txt`, "hello");
  const listed = await runCommand("ls /workspace", { workspace, policy: policy(["ls"]) });
  assert.equal(listed.exitCode, 0, listed.stderr);
  assert.equal(listed.stdout, "notes.txt\n");
  const where = await runCommand("pwd", { workspace, policy: policy(["pwd"]) });
  assert.equal(where.stdout, "/workspace\n");
  assert.deepEqual({ ...where, stdout: "" }, {
    stdout: "",
    stderr: "",
    exitCode: 0,
    truncated: false,
    timedOut: false,
    aborted: false,
  });
});

confinedTest("runCommand() starts in the given working directory inside the workspace", async (workspace) => {
  await Deno.mkdir(`${workspace}/src/lib`, { recursive: true });
  const result = await runCommand("pwd", { workspace, policy: policy(["pwd"]), cwd: "src/lib" });
  assert.equal(result.stdout, "/workspace/src/lib\n");
});

Deno.test("runCommand() refuses a working directory that leaves the workspace through a symlink", async () => {
  await withWorkspace(async (workspace) => {
    await Deno.symlink("/etc", `${workspace}/escape`);
    await assert.rejects(
      runCommand("pwd", { workspace, policy: policy(["pwd"]), cwd: "escape", isolation: "unconfined" }),
      (error: unknown) => error instanceof PolicyDeniedError && /leaves the workspace/.test(error.message),
    );
    await assert.rejects(
      runCommand("pwd", { workspace, policy: policy(["pwd"]), cwd: "../" }),
      PolicyDeniedError,
    );
  });
});

confinedTest("runCommand() refuses writes without allowWrite and allows them with it", async (workspace) => {
  const denied = await runCommand("touch created.txt", { workspace, policy: policy(["touch"]) });
  assert.notEqual(denied.exitCode, 0);
  assert.match(denied.stderr, /Read-only file system/);
  await assert.rejects(Deno.stat(`${workspace}/created.txt`), Deno.errors.NotFound);

  const allowed = await runCommand("touch created.txt", { workspace, policy: policy(["touch"], { allowWrite: true }) });
  assert.equal(allowed.exitCode, 0, allowed.stderr);
  assert.ok((await Deno.stat(`${workspace}/created.txt`)).isFile);

  const outside = await runCommand("touch /created.txt", {
    workspace,
    policy: policy(["touch"], { allowWrite: true }),
  });
  assert.match(outside.stderr, /Read-only file system/);
});

confinedTest("runCommand() hides home directories, other projects and secrets of the host", async (workspace) => {
  const root = await runCommand("ls -a /", { workspace, policy: policy(["ls"]) });
  const visible = new Set([
    ".",
    "..",
    "bin",
    "sbin",
    "lib",
    "lib32",
    "lib64",
    "libx32",
    "usr",
    "etc",
    "proc",
    "dev",
    "tmp",
  ]);
  visible.add("workspace");
  for (const entry of root.stdout.trim().split("\n")) assert.ok(visible.has(entry), `unexpected /${entry}`);

  const project = Deno.cwd();
  for (const path of ["/root", "/home", project, "/etc/shadow", "/etc/sudoers", "/var"]) {
    const result = await runCommand(`ls ${JSON.stringify(path)}`, { workspace, policy: policy(["ls"]) });
    assert.notEqual(result.exitCode, 0, path);
    assert.match(result.stderr, /No such file or directory/, path);
  }
  const shadow = await runCommand("cat /etc/shadow", { workspace, policy: policy(["cat"]) });
  assert.match(shadow.stderr, /No such file or directory/);
  const accounts = await runCommand("cat /etc/passwd", { workspace, policy: policy(["cat"]) });
  const names = accounts.stdout.trim().split("\n").map((line) => line.split(":")[0]);
  assert.ok(names.every((name) => ["root", "sandbox", "nobody"].includes(name)), names.join(", "));
  const self = await runCommand("id -un", { workspace, policy: policy(["id"]) });
  assert.equal(self.exitCode, 0, self.stderr);
});

confinedTest(
  "runCommand() gives the command only the cleared environment and the granted values",
  async (workspace) => {
    Deno.env.set("FLUE_HOST_ONLY_SECRET", "must-not-leak");
    try {
      const result = await runCommand("printenv", {
        workspace,
        policy: policy(["printenv"]),
        env: { FLUE_GRANTED: "granted-value" },
      });
      const env = Object.fromEntries(result.stdout.trim().split("\n").map((line) => line.split(/=(.*)/s).slice(0, 2)));
      const names = Object.keys(env).filter((name) => !/^GIT_CONFIG_(KEY|VALUE)_\d+$/.test(name)).sort();
      assert.deepEqual(names, [
        "BASH_FUNC_git%%",
        "BASH_FUNC_sed%%",
        "BASH_FUNC_tar%%",
        "FLUE_GRANTED",
        "GIT_CONFIG_COUNT",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_TERMINAL_PROMPT",
        "HOME",
        "LANG",
        "LESSSECURE",
        "PATH",
        "PWD",
      ]);
      assert.equal(env.FLUE_GRANTED, "granted-value");
      assert.equal(env.HOME, "/tmp");
      assert.doesNotMatch(result.stdout, /must-not-leak/);
    } finally {
      Deno.env.delete("FLUE_HOST_ONLY_SECRET");
    }
  },
);

confinedTest("runCommand() cuts the network off unless allowNet", async (workspace) => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  const rules = policy(["echo"], { allowCompoundCommands: true });
  const connect = `echo hello > /dev/tcp/127.0.0.1/${port}`;

  const isolated = await runCommand(connect, { workspace, policy: rules, timeoutMs: 10_000 });
  assert.notEqual(isolated.exitCode, 0);
  assert.match(isolated.stderr, /Connection refused|Network is unreachable/);

  const accepted = (async () => {
    const connection = await listener.accept();
    const text = await new Response(connection.readable).text();
    return text;
  })();
  const connected = await runCommand(connect, { workspace, policy: { ...rules, allowNet: true }, timeoutMs: 10_000 });
  assert.equal(connected.exitCode, 0, connected.stderr);
  assert.equal(await accepted, "hello\n");
});

confinedTest("runCommand() kills the whole tree on timeout while a grandchild holds the pipe", async (workspace) => {
  const rules = policy(["echo", "sleep"], { allowCompoundCommands: true });
  const started = performance.now();
  const result = await runCommand("echo partial; (sleep 30 &); sleep 30", { workspace, policy: rules, timeoutMs: 300 });
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 1_500, `took ${elapsed} ms`);
  assert.equal(result.stdout, "partial\n");
  assert.equal(result.exitCode, 124);
  assert.equal(result.timedOut, true);
  assert.equal(result.aborted, false);
});

confinedTest("runCommand() kills the whole tree on abort and keeps the output so far", async (workspace) => {
  const rules = policy(["echo", "sleep", "touch"], { allowCompoundCommands: true, allowWrite: true });
  const controller = new AbortController();
  using watcher = Deno.watchFs(workspace);
  const running = runCommand("echo partial; (sleep 30 &); touch started; sleep 30", {
    workspace,
    policy: rules,
    signal: controller.signal,
  });
  for await (const event of watcher) {
    if (event.paths.some((path) => path.endsWith("/started"))) break;
  }
  const aborted = performance.now();
  controller.abort();
  const result = await running;
  assert.ok(performance.now() - aborted < 1_000);
  assert.equal(result.stdout, "partial\n");
  assert.equal(result.exitCode, 130);
  assert.equal(result.aborted, true);
  assert.equal(result.timedOut, false);
});

Deno.test("runCommand() throws an AbortError without running anything when the signal is already aborted", async () => {
  await withWorkspace(async (workspace) => {
    await assert.rejects(
      runCommand("touch x", {
        workspace,
        policy: policy(["touch"], { allowWrite: true }),
        signal: AbortSignal.abort(),
      }),
      AbortError,
    );
    await assert.rejects(Deno.stat(`${workspace}/x`), Deno.errors.NotFound);
  });
});

confinedTest("runCommand() caps output and notes how much was cut", async (workspace) => {
  const result = await runCommand("head -c 50000000 /dev/zero", {
    workspace,
    policy: policy(["head"]),
    maxOutputBytes: 1000,
  });
  assert.equal(result.exitCode, 0);
  assert.equal(result.truncated, true);
  assert.equal(result.stdout, `${"\0".repeat(1000)}\n[output truncated: 49999000 more bytes]`);
});

confinedTest("runCommand() does not grow memory with a command's output", async (workspace) => {
  const before = Deno.memoryUsage().rss;
  const result = await runCommand("head -c 300000000 /dev/zero", { workspace, policy: policy(["head"]) });
  const growth = Deno.memoryUsage().rss - before;
  assert.match(result.stdout, /\[output truncated: 298951424 more bytes\]$/);
  assert.ok(growth < 100 * 1024 * 1024, `RSS grew by ${growth} bytes`);
});

confinedTest(
  "runCommand() bounds the processes a command starts, and the host can still start more",
  async (workspace) => {
    const rules = policy(["bomb", "sleep"], { allowCompoundCommands: true });
    const limits = { maxProcesses: 32 };
    if (detectCgroupSupport() !== undefined || Deno.uid() !== 0) {
      // The kernel refuses the fork past the limit (pids.max, or RLIMIT_NPROC for other uids), so a real fork bomb is
      // safe here; with a control group the command is killed at the first refused fork.
      const result = await runCommand("bomb() { bomb | bomb; }; bomb", {
        workspace,
        policy: rules,
        timeoutMs: 20_000,
        limits,
      });
      if (detectCgroupSupport() !== undefined) {
        assert.equal(result.timedOut, false, result.stderr);
        assert.match(result.stderr, /\[killed: the command tried to run more than 32 processes\]$/);
        console.log("process limit: pids.max against a fork bomb tested");
      } else {
        assert.match(result.stderr, /Resource temporarily unavailable/);
        console.log("process limit: RLIMIT_NPROC against a fork bomb tested");
      }
    } else {
      // As root without a control group the sandbox's processes are counted. A real fork bomb would race that count
      // and could exhaust a shared machine; 60 long sleeps exceed it just as surely, however slowly they start.
      const result = await runCommand("for i in {1..60}; do sleep 47 & done; sleep 47", {
        workspace,
        policy: rules,
        timeoutMs: 30_000,
        limits,
      });
      assert.match(result.stderr, /\[killed: the command tried to run more than 32 processes\]$/);
      assert.equal(result.timedOut, false);
      console.log("process limit: root's process count tested");
    }
    const host = await new Deno.Command("true").output();
    assert.equal(host.success, true);
  },
);

confinedTest("runCommand() applies the per-process limits inside the sandbox", async (workspace) => {
  const limits = { maxMemoryBytes: 512 * 1024 ** 2, maxFileSizeBytes: 8 * 1024 ** 2 };
  const result = await runCommand("cat /proc/self/limits", { workspace, policy: policy(["cat"]), limits });
  assert.match(result.stdout, /^Max data size\s+536870912\s+536870912\s+bytes/m);
  assert.match(result.stdout, /^Max file size\s+8388608\s+8388608\s+bytes/m);
  assert.match(result.stdout, /^Max core file size\s+0\s+/m);
});

confinedTest("runCommand() kills a command tree that passes its memory limit, and says so", async (workspace) => {
  if (detectCgroupSupport()?.parents.memory === undefined) {
    console.log("memory limit: no memory controller on this host, not tested");
    return;
  }
  // awk doubles a string until the tree's 64 MiB are gone; the per-process limit (4 GiB) is far above.
  const result = await runCommand(`awk 'BEGIN { s = "x"; while (1) s = s s }'`, {
    workspace,
    policy: policy(["awk"]),
    timeoutMs: 60_000,
    limits: { maxTreeMemoryBytes: 64 * 1024 ** 2 },
  });
  assert.equal(result.timedOut, false);
  assert.notEqual(result.exitCode, 0);
  assert.match(result.stderr, /\[killed: the command used more than 67108864 bytes of memory\]$/);
});

confinedTest("runCommand() keeps protected paths read-only or hidden from commands", async (workspace) => {
  await Deno.mkdir(`${workspace}/.git/hooks`, { recursive: true });
  await Deno.mkdir(`${workspace}/.flue`);
  await Deno.writeTextFile(`${workspace}/.flue/history.db`, "other sessions");
  const rules = policy(["ls", "touch", "cat", "mv"], { allowWrite: true });
  const protectedPaths = { readOnly: [".git"], hidden: [".flue"] };
  const run = (command: string, cwd?: string) => runCommand(command, { workspace, policy: rules, protectedPaths, cwd });

  const hook = await run("touch .git/hooks/pre-commit");
  assert.match(hook.stderr, /Read-only file system/);
  assert.match((await run("mv .git moved")).stderr, /Device or resource busy/);
  assert.equal((await run("ls -A .flue")).stdout, "");
  assert.match((await run("cat .flue/history.db")).stderr, /No such file or directory/);
  assert.match((await run("touch .flue/planted")).stderr, /Read-only file system/);
  await assert.rejects(
    run("ls", ".flue"),
    (error: unknown) => error instanceof PolicyDeniedError && /hidden/.test(error.message),
  );
  assert.equal((await run("touch elsewhere.txt")).exitCode, 0);
  assert.deepEqual(await Array.fromAsync(Deno.readDir(`${workspace}/.git/hooks`)), []);
  assert.deepEqual((await Array.fromAsync(Deno.readDir(`${workspace}/.flue`))).map((entry) => entry.name), [
    "history.db",
  ]);
});

confinedTest("runCommand() keeps git from running a repository's fsmonitor command", async (workspace) => {
  const git = (...args: string[]) =>
    new Deno.Command("git", { args, cwd: workspace, env: { GIT_CONFIG_NOSYSTEM: "1", HOME: workspace } }).output();
  await git("init", "-q");
  await Deno.writeTextFile(`${workspace}/file.txt`, "content\n");
  await git("config", "core.fsmonitor", "touch fsmonitor-ran");
  // The hook really runs for plain git, so the check below can fail.
  await git("status", "--short");
  await Deno.remove(`${workspace}/fsmonitor-ran`);

  const rules = policy(["git"], { allowWrite: true });
  const result = await runCommand("git status --short", { workspace, policy: rules });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.match(result.stdout, /\?\? file\.txt/);
  await assert.rejects(Deno.stat(`${workspace}/fsmonitor-ran`), Deno.errors.NotFound);
});

confinedTest("runCommand() keeps git from using transports a repository's config allows", async (workspace) => {
  const git = (...args: string[]) =>
    new Deno.Command("git", { args, cwd: workspace, env: { GIT_CONFIG_NOSYSTEM: "1", HOME: workspace } }).output();
  await git("init", "-q");
  await git("config", "protocol.ext.allow", "always");
  await git("config", "remote.origin.url", "ext::sh -c touch% transport-ran");
  // Plain git does run it, so the check below can fail.
  await git("fetch", "origin");
  await Deno.remove(`${workspace}/transport-ran`);

  const result = await runCommand("git fetch origin", { workspace, policy: policy(["git"], { allowWrite: true }) });
  assert.notEqual(result.exitCode, 0);
  assert.match(result.stderr, /transport 'ext' not allowed/);
  await assert.rejects(Deno.stat(`${workspace}/transport-ran`), Deno.errors.NotFound);
});

Deno.test("runCommand() refuses to run without bubblewrap instead of falling back to the host", async () => {
  await withWorkspace(async (workspace) => {
    const error = await runCommand("pwd", {
      workspace,
      policy: policy(["pwd"]),
      bubblewrapPath: "/nonexistent/bwrap",
    }).catch((caught: unknown) => caught);
    assert.ok(error instanceof SandboxUnavailableError);
    assert.equal(error.installCommand, BUBBLEWRAP_INSTALL_COMMAND);
    assert.match(error.message, /bubblewrap .* not available: "\/nonexistent\/bwrap" is not an executable file/);
    assert.equal(await isBubblewrapAvailable("/nonexistent/bwrap"), false);
  });
});

Deno.test("runCommand() checks the policy before looking for bubblewrap", async () => {
  await withWorkspace(async (workspace) => {
    await assert.rejects(
      runCommand("rm -rf .", { workspace, policy: policy(["ls"]), bubblewrapPath: "/nonexistent/bwrap" }),
      PolicyDeniedError,
    );
  });
});

Deno.test("runCommand() runs on the host only when the unconfined mode is asked for", async () => {
  await withWorkspace(async (workspace) => {
    const result = await runCommand("pwd", { workspace, policy: policy(["pwd"]), isolation: "unconfined" });
    assert.equal(result.stdout, `${await Deno.realPath(workspace)}\n`);
    const env = await runCommand("printenv HOME", {
      workspace,
      policy: policy(["printenv"]),
      isolation: "unconfined",
      env: { FLUE_GRANTED: "1" },
    });
    assert.equal(env.stdout, "/tmp\n");
  });
});

Deno.test("runCommand() kills the process group in the unconfined mode on timeout", async () => {
  await withWorkspace(async (workspace) => {
    const rules = policy(["echo", "sleep"], { allowCompoundCommands: true });
    const started = performance.now();
    const result = await runCommand("echo partial; (sleep 30 &); sleep 30", {
      workspace,
      policy: rules,
      timeoutMs: 300,
      isolation: "unconfined",
    });
    assert.ok(performance.now() - started < 1_500);
    assert.equal(result.stdout, "partial\n");
    assert.equal(result.exitCode, 124);
    assert.equal(result.timedOut, true);
  });
});

Deno.test("runCommand() validates its options", async () => {
  await withWorkspace(async (workspace) => {
    const base = { workspace, policy: policy(["pwd"]), isolation: "unconfined" as const };
    await assert.rejects(runCommand("pwd", { ...base, timeoutMs: 0 }), RangeError);
    await assert.rejects(runCommand("pwd", { ...base, maxOutputBytes: -1 }), RangeError);
    await assert.rejects(runCommand("pwd", { ...base, workspace: "relative" }), TypeError);
    await assert.rejects(runCommand("pwd", { ...base, workspace: `${workspace}/missing` }), TypeError);
    await assert.rejects(runCommand("pwd", { ...base, isolation: "none" as "unconfined" }), TypeError);
  });
});
