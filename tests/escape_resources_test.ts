/**
 * Escape attempts against the host's processes, secrets on disk, network and resources: `/proc`, host directories,
 * signals, a listener on 127.0.0.1, a bounded fork bomb, a gigabyte of output, a timeout with grandchildren holding
 * the pipes, and an abort.
 *
 * Safe on a small machine running as root: no real fork bomb runs as root (the kernel does not apply RLIMIT_NPROC to
 * uid 0), every process count is bounded by the command itself, and every command has a short timeout.
 */

import assert from "node:assert/strict";
import { AbortError, type Sandbox, type SandboxContext, type ShellResult } from "../mod.ts";
import { createSandbox } from "../src/sandbox/registry.ts";
import { detectCgroupSupport } from "../src/sandbox/commands/_command_cgroup.ts";
import { confinedTest, type EscapeProject, runHostileModel } from "./_escape_helpers.ts";

const HOST_SECRET = "host-only-secret-5d1e";

async function shellSession(project: EscapeProject, allowedCommands: string[], allowCompoundCommands = false) {
  const agent = await project.open({ allowWrite: true, allowShell: true, allowedCommands, allowCompoundCommands });
  return await agent.session();
}

/** Host pids running `program` (by file name) with exactly `args`, to prove a command's descendants are gone. */
async function hostProcesses(program: string, ...args: string[]): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const [argv0, ...rest] = (await Deno.readTextFile(`/proc/${entry.name}/cmdline`)).split("\0").slice(0, -1);
      const name = argv0.slice(argv0.lastIndexOf("/") + 1);
      if (name === program && rest.join("\0") === args.join("\0")) found.push(Number(entry.name));
    } catch {
      // The process ended while listed.
    }
  }
  return found;
}

/** Asserts that no host process runs `program` with `args`, allowing the kernel a moment to reap a killed sandbox. */
async function assertNoHostProcesses(program: string, ...args: string[]): Promise<void> {
  const deadline = performance.now() + 2_000;
  let found = await hostProcesses(program, ...args);
  while (found.length > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    found = await hostProcesses(program, ...args);
  }
  assert.deepEqual(found, [], `${program} ${args.join(" ")} outlived the sandbox`);
}

confinedTest(
  "escape: /proc/self/environ, /proc/1/environ and the parent's environ show nothing of the host",
  async (project) => {
    Deno.env.set("FLUE_ESCAPE_HOST_SECRET", HOST_SECRET);
    try {
      const session = await shellSession(project, ["cat"]);
      for (const path of ["/proc/self/environ", "/proc/1/environ"]) {
        const result = await session.shell(`cat ${path}`);
        assert.doesNotMatch(result.stdout, new RegExp(HOST_SECRET), path);
        assert.doesNotMatch(result.stdout, /FLUE_ESCAPE_HOST_SECRET/, path);
      }
      for (const pid of [Deno.pid, Deno.ppid]) {
        const result = await session.shell(`cat /proc/${pid}/environ`);
        assert.notEqual(result.exitCode, 0, `pid ${pid}`);
        assert.match(result.stderr, /No such file or directory/);
      }
    } finally {
      Deno.env.delete("FLUE_ESCAPE_HOST_SECRET");
    }
  },
);

confinedTest(
  "escape: /etc/shadow, /root, /home, /var and the Deno cache do not exist for commands",
  async (project) => {
    const session = await shellSession(project, ["cat", "ls"]);
    const denoDir = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;
    for (const path of ["/etc/shadow", "/root", "/home", "/var", denoDir, "/etc/hostname", "/etc/sudoers"]) {
      const result = await session.shell(`ls -d ${path}`);
      assert.notEqual(result.exitCode, 0, path);
      assert.match(result.stderr, /No such file or directory/, path);
    }
    const shadow = await session.shell("cat /etc/shadow");
    assert.equal(shadow.stdout, "");
  },
);

confinedTest("escape: kill -9 from inside reaches neither the parent nor any host process", async (project) => {
  const bystander = new Deno.Command("sleep", { args: ["29.3"], stdin: "null", stdout: "null", stderr: "null" })
    .spawn();
  try {
    const session = await shellSession(project, ["kill"]);
    for (const target of [String(Deno.pid), String(bystander.pid), "-1"]) {
      await session.shell(`kill -9 ${target}`);
    }
    const parent = await session.shell(`kill -9 ${Deno.pid}`);
    assert.match(parent.stderr, /No such process/);
    assert.deepEqual(await hostProcesses("sleep", "29.3"), [bystander.pid]);
    assert.equal((await session.shell("kill -0 1")).exitCode, 0, "the sandbox's own processes are all it sees");
  } finally {
    bystander.kill("SIGKILL");
    await bystander.status;
  }
});

confinedTest("escape: a command cannot reach a listener on 127.0.0.1", async (project) => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const accepting = (async () => {
    for await (const connection of listener) {
      accepted++;
      connection.close();
    }
  })().catch(() => {});
  try {
    const { port } = listener.addr;
    // bash is an interpreter: it needs the opt-in besides being listed.
    const agent = await project.open({
      allowShell: true,
      allowedCommands: ["curl", "bash", "getent"],
      allowInterpreters: true,
    });
    const session = await agent.session();
    const curl = await session.shell(`curl -sS --max-time 3 http://127.0.0.1:${port}/`, { timeoutMs: 5_000 });
    assert.notEqual(curl.exitCode, 0);
    assert.match(curl.stderr, /Failed to connect|Couldn't connect/);
    const tcp = await session.shell(`bash -c 'echo hi > /dev/tcp/127.0.0.1/${port}'`, { timeoutMs: 5_000 });
    assert.match(tcp.stderr, /Connection refused|Network is unreachable/);
    const dns = await session.shell("getent hosts example.com", { timeoutMs: 5_000 });
    assert.notEqual(dns.exitCode, 0);
    assert.equal(accepted, 0);
  } finally {
    listener.close();
    await accepting;
  }
});

confinedTest(
  "escape: a command that starts hundreds of processes is stopped and the host stays healthy",
  async (project) => {
    const session = await shellSession(project, ["sleep"], true);
    // 600 sleeps pass the default limit of 512 for certain, and each outlives the whole test, so the count only grows
    // however slowly a loaded machine forks. The kernel refuses the fork past the limit and the command is killed for
    // it; the timeout is far away and must not be what stops it.
    const result = await session.shell("for i in {1..600}; do sleep 47.3 & done; sleep 47.3", { timeoutMs: 40_000 });
    assert.equal(result.timedOut, false, result.stderr);
    assert.match(result.stderr, /\[killed: the command tried to run more than 512 processes\]$/);
    console.log(
      `process limit: ${detectCgroupSupport() === undefined ? "watchdog or RLIMIT_NPROC" : "pids.max"} tested`,
    );
    await assertNoHostProcesses("sleep", "47.3");
    assert.equal((await new Deno.Command("true").output()).success, true);
    assert.equal((await session.shell("sleep 0")).exitCode, 0);
  },
);

confinedTest("escape: a gigabyte of output is cut at the cap without growing memory", async (project) => {
  const session = await shellSession(project, ["head"]);
  const before = Deno.memoryUsage().rss;
  const result = await session.shell("head -c 1000000000 /dev/zero");
  const growth = Deno.memoryUsage().rss - before;
  assert.equal(result.exitCode, 0);
  assert.equal(result.truncated, true);
  assert.match(result.stdout, /\n\[output truncated: 998951424 more bytes\]$/);
  // Parallel test files share this process's memory, so the bound is loose; kept whole, the output alone would be 1 GB.
  assert.ok(growth < 400 * 1024 * 1024, `RSS grew by ${growth} bytes`);
  assert.equal(result.timedOut, false);

  const run = await runHostileModel(project, { allowShell: true, allowedCommands: ["head"] }, [
    { name: "bash", args: { command: "head -c 1000000000 /dev/zero" } },
  ]);
  assert.ok(run.results[0].content.length < 60_000, `the model got ${run.results[0].content.length} characters`);
  assert.match(run.results[0].content, /\[output was cut at the size limit/);
});

confinedTest("escape: a timeout kills the whole tree while grandchildren hold the pipes", async (project) => {
  const session = await shellSession(project, ["echo", "sleep"], true);
  const started = performance.now();
  const result = await session.shell("echo partial; (sleep 31.7 &); sleep 31.7", { timeoutMs: 500 });
  // Well before the sleeps would end: the pipes they hold did not keep the call waiting.
  assert.ok(performance.now() - started < 15_000, `took ${performance.now() - started} ms`);
  assert.equal(result.timedOut, true);
  assert.equal(result.exitCode, 124);
  assert.equal(result.stdout, "partial\n");
  await assertNoHostProcesses("sleep", "31.7");
});

confinedTest("escape: an abort kills the whole tree within a second and keeps the output so far", async (project) => {
  let sandbox: Sandbox | undefined;
  const agent = await project.open({
    sandbox: async (context: SandboxContext) => (sandbox = await createSandbox("local", context)),
    allowWrite: true,
    allowShell: true,
    allowedCommands: ["echo", "sleep", "touch"],
    allowCompoundCommands: true,
  });
  const session = await agent.session();
  const script = (marker: string) => `echo partial; (sleep 33.1 &); touch ${marker}; sleep 33.1`;
  // Leaving a `for await` loop closes the watcher, so each wait has its own, started before the command.
  const watchFor = async (marker: string): Promise<void> => {
    for await (const event of Deno.watchFs(project.projectDir)) {
      if (event.kind === "create" && event.paths.some((path) => path.endsWith(`/${marker}`))) return;
    }
  };

  const firstStarted = watchFor("started-1");
  const handle = session.shell(script("started-1"));
  await firstStarted;
  let aborted = performance.now();
  handle.abort("enough");
  await assert.rejects(handle, AbortError);
  assert.ok(performance.now() - aborted < 1_000, `session.shell took ${performance.now() - aborted} ms`);
  await assertNoHostProcesses("sleep", "33.1");

  // The sandbox the session uses keeps the output so far.
  const controller = new AbortController();
  const secondStarted = watchFor("started-2");
  const running = sandbox!.exec(script("started-2"), { signal: controller.signal });
  await secondStarted;
  aborted = performance.now();
  controller.abort();
  const result = await running;
  assert.ok(performance.now() - aborted < 1_000, `exec took ${performance.now() - aborted} ms`);
  assert.equal(result.aborted, true);
  assert.equal(result.exitCode, 130);
  assert.equal(result.stdout, "partial\n");
  await assertNoHostProcesses("sleep", "33.1");
});

confinedTest("escape: root inside the sandbox has no capabilities to undo its mounts", async (project) => {
  await Deno.mkdir(`${project.projectDir}/.git`);
  const agent = await project.open({
    sandbox: "local",
    allowWrite: true,
    allowShell: true,
    allowedCommands: ["grep", "mount", "umount", "unshare", "mknod"],
  });
  const session = await agent.session();
  assert.match((await session.shell("grep CapEff /proc/self/status")).stdout, /^CapEff:\s+0+$/m);
  for (
    const command of [
      "mount -o remount,bind,rw /workspace/.git",
      "umount /workspace/.git",
      "umount -l /workspace/.flue",
      "unshare -m true",
      "unshare -U true",
      "mknod disk b 8 0",
      "mount -t tmpfs none /workspace/.git",
    ]
  ) {
    const result = await session.shell(command);
    assert.notEqual(result.exitCode, 0, `${command}: ${result.stderr}`);
  }
});

const SANDBOX_DEVICES = new Set(
  "core fd full null ptmx pts random shm stderr stdin stdout tty urandom zero".split(" "),
);
const SANDBOX_ROOT = new Set("bin dev etc lib lib32 lib64 libx32 proc sbin tmp usr workspace".split(" "));

confinedTest("escape: /dev, /sys and /proc/1/root show only the sandbox", async (project) => {
  const session = await shellSession(project, ["ls"]);
  const devices = (await session.shell("ls /dev")).stdout.trim().split("\n");
  assert.deepEqual(devices.filter((device) => !SANDBOX_DEVICES.has(device)), []);
  assert.match((await session.shell("ls /sys")).stderr, /No such file or directory/);
  const root = (await session.shell("ls /proc/1/root/")).stdout.trim().split("\n");
  assert.deepEqual(root.filter((entry) => !SANDBOX_ROOT.has(entry)), []);
  assert.ok(root.includes("workspace"));
});

confinedTest(
  "abort through session.shell ends the command within a second and keeps its output so far",
  async (project) => {
    const agent = await project.open({
      sandbox: "local",
      allowWrite: true,
      allowShell: true,
      allowCompoundCommands: true,
      allowedCommands: ["echo", "sleep", "touch"],
    });
    const session = await agent.session();
    // Abort once the command has printed, whatever the machine's load: it touches a marker after its echo.
    const watcher = Deno.watchFs(project.projectDir);
    const printed = (async () => {
      for await (const event of watcher) {
        if (event.paths.some((path) => path.endsWith("/printed.marker"))) return;
      }
    })();
    const handle = session.shell("echo started; touch printed.marker; sleep 30; echo never");
    await printed;
    watcher.close();
    const abortedAt = performance.now();
    handle.abort("enough");
    const error = await handle.then(() => assert.fail("expected AbortError"), (error) => error);
    assert.ok(error instanceof AbortError);
    assert.ok(performance.now() - abortedAt < 1_000, "the command's tree was killed within a second");
    const partial = error.partial as ShellResult;
    assert.equal(partial.aborted, true);
    assert.match(partial.stdout, /started/);
    assert.doesNotMatch(partial.stdout, /never/);
  },
);
