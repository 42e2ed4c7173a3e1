import assert from "node:assert/strict";
import { PolicyDeniedError, SandboxUnavailableError } from "../../errors.ts";
import { DenoRunner, type DenoRunnerOptions } from "./deno_runner.ts";
import { buildRunnerArgs } from "./_runner_command.ts";

const isLinux = Deno.build.os === "linux";

interface Scene {
  /** The workspace (real path). */
  workspace: string;
  /** A directory beside the workspace holding `secret.txt`. */
  outside: string;
  start(options?: Partial<DenoRunnerOptions>): Promise<DenoRunner>;
}

async function withScene(test: (scene: Scene) => Promise<void>): Promise<void> {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue_runner_" }));
  const runners: DenoRunner[] = [];
  try {
    const workspace = `${base}/ws`;
    const outside = `${base}/outside`;
    await Deno.mkdir(workspace);
    await Deno.mkdir(outside);
    await Deno.writeTextFile(`${outside}/secret.txt`, "top secret");
    await test({
      workspace,
      outside,
      async start(options = {}) {
        const runner = await DenoRunner.start({ workspace, allowWrite: true, ...options });
        runners.push(runner);
        return runner;
      },
    });
  } finally {
    await Promise.all(runners.map((runner) => runner.close()));
    await Deno.remove(base, { recursive: true });
  }
}

function isPolicyDenial(option: string, fragment?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof PolicyDeniedError, `expected PolicyDeniedError, got ${error}`);
    assert.equal(error.option, option);
    if (fragment !== undefined) assert.match(error.message, fragment);
    return true;
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("DenoRunner writes, reads, lists, stats and removes files in the workspace", async () => {
  await withScene(async ({ workspace, start }) => {
    const runner = await start();
    assert.deepEqual(await Array.fromAsync(Deno.readDir(workspace)), [], "starting the runner left files behind");
    await runner.writeFile("src/lib/a.ts", "export const a = 1;\n");
    assert.equal(await Deno.readTextFile(`${workspace}/src/lib/a.ts`), "export const a = 1;\n");
    assert.equal(await runner.readFile("/workspace/src/lib/a.ts"), "export const a = 1;\n");
    const stat = await runner.stat("src/lib/a.ts");
    assert.equal(stat.path, "src/lib/a.ts");
    assert.equal(stat.isFile, true);
    assert.equal(stat.size, 20);
    assert.equal(typeof stat.modifiedAt, "string");
    await runner.mkdir("docs/empty");
    assert.deepEqual((await runner.readdir(".")).map((entry) => entry.name), ["docs", "src"]);
    assert.equal(await runner.exists("docs/empty"), true);
    assert.equal(await runner.exists("nothing/here"), false);
    await assert.rejects(runner.remove("src"), /is not empty: pass \{ recursive: true \}/);
    await runner.remove("src", { recursive: true });
    assert.equal(await exists(`${workspace}/src`), false);
    await assert.rejects(runner.remove("."), isPolicyDenial("none", /workspace root/));
  });
});

Deno.test("DenoRunner maps runner errors to Deno errors naming the workspace path", async () => {
  await withScene(async ({ workspace, start }) => {
    const runner = await start({ maxReadBytes: 16 });
    await Deno.mkdir(`${workspace}/dir`);
    await Deno.writeTextFile(`${workspace}/big.txt`, "x".repeat(17));
    await assert.rejects(runner.readFile("missing/file.txt"), (error: unknown) => {
      assert.ok(error instanceof Deno.errors.NotFound);
      assert.match(error.message, /"missing\/file\.txt"/);
      assert.ok(!error.message.includes(workspace), "the host path leaked into the message");
      return true;
    });
    await assert.rejects(runner.readFile("dir"), Deno.errors.IsADirectory);
    await assert.rejects(runner.readFile("big.txt"), RangeError);
  });
});

Deno.test("DenoRunner refuses paths that leave the workspace, in the first layer and in the runner", async () => {
  await withScene(async ({ start }) => {
    const runner = await start();
    for (const path of ["../x", "a/../../x", "/etc/passwd", "/workspace/../etc/passwd", "a\0b"]) {
      await assert.rejects(runner.readFile(path), isPolicyDenial("none"), path);
      await assert.rejects(runner.writeFile(path, "x"), isPolicyDenial("none"), path);
    }
    // Raw requests skip the first layer: the runner's own check answers.
    await assert.rejects(runner.request("readFile", { path: "/etc/hostname" }), isPolicyDenial("none", /leaves/));
    await assert.rejects(runner.request("readFile", { path: "../../../../etc/hostname" }), isPolicyDenial("none"));
    await assert.rejects(runner.request("readFile", { path: `${Deno.cwd()}/deno.json` }), isPolicyDenial("none"));
  });
});

Deno.test("DenoRunner refuses a symlink leaving the workspace, to a file or a directory, for reads and writes", async () => {
  await withScene(async ({ workspace, outside, start }) => {
    const runner = await start();
    // Created after the runner started, as a command in the workspace could.
    await Deno.symlink(`${outside}/secret.txt`, `${workspace}/file-link`);
    await Deno.symlink(outside, `${workspace}/dir-link`);
    await Deno.symlink("../outside/new.txt", `${workspace}/dangling-link`);
    const leaves = isPolicyDenial("none", /symbolic link that leaves the workspace/);
    await assert.rejects(runner.readFile("file-link"), leaves);
    await assert.rejects(runner.readFile("dir-link/secret.txt"), leaves);
    await assert.rejects(runner.readdir("dir-link"), leaves);
    await assert.rejects(runner.stat("dir-link/secret.txt"), leaves);
    await assert.rejects(runner.writeFile("file-link", "changed"), leaves);
    await assert.rejects(runner.writeFile("dir-link/new.txt", "planted"), leaves);
    await assert.rejects(runner.writeFile("dangling-link", "planted"), leaves);
    await assert.rejects(runner.mkdir("dir-link/sub"), leaves);
    assert.equal(await Deno.readTextFile(`${outside}/secret.txt`), "top secret");
    assert.deepEqual((await Array.fromAsync(Deno.readDir(outside))).map((entry) => entry.name), ["secret.txt"]);
    // Removing a link removes the link only.
    await runner.remove("dir-link");
    assert.equal(await exists(`${outside}/secret.txt`), true);
  });
});

Deno.test("DenoRunner follows symlinks that stay inside the workspace", async () => {
  await withScene(async ({ workspace, start }) => {
    const runner = await start();
    await Deno.mkdir(`${workspace}/real`);
    await Deno.writeTextFile(`${workspace}/real/a.txt`, "inside");
    await Deno.symlink("real", `${workspace}/dir-link`);
    await Deno.symlink(`${workspace}/real/a.txt`, `${workspace}/file-link`);
    await Deno.symlink("real/later.txt", `${workspace}/dangling-inside`);
    assert.equal(await runner.readFile("file-link"), "inside");
    assert.equal(await runner.readFile("dir-link/a.txt"), "inside");
    await runner.writeFile("dir-link/b.txt", "through a link");
    assert.equal(await Deno.readTextFile(`${workspace}/real/b.txt`), "through a link");
    await runner.writeFile("dangling-inside", "created");
    assert.equal(await Deno.readTextFile(`${workspace}/real/later.txt`), "created");
    const stat = await runner.stat("file-link");
    assert.equal(stat.isSymlink, true);
    assert.equal(stat.isFile, true);
  });
});

Deno.test("DenoRunner refuses writes without allowWrite and writes nothing", async () => {
  await withScene(async ({ workspace, start }) => {
    await Deno.writeTextFile(`${workspace}/keep.txt`, "original");
    const runner = await start({ allowWrite: false });
    assert.equal(await runner.readFile("keep.txt"), "original");
    const needsWrite = isPolicyDenial("allowWrite", /set "allowWrite"/);
    await assert.rejects(runner.writeFile("new.txt", "x"), needsWrite);
    await assert.rejects(runner.writeFile("keep.txt", "changed"), needsWrite);
    await assert.rejects(runner.mkdir("made"), needsWrite);
    await assert.rejects(runner.remove("keep.txt"), needsWrite);
    assert.deepEqual((await Array.fromAsync(Deno.readDir(workspace))).map((entry) => entry.name), ["keep.txt"]);
    assert.equal(await Deno.readTextFile(`${workspace}/keep.txt`), "original");
  });
});

Deno.test("DenoRunner's permission flags refuse outside paths even without its own path checks", async () => {
  await withScene(async ({ workspace, outside, start }) => {
    const runner = await start({ unsafeSkipRunnerPathChecks: true, readOnlyPaths: [".git"], hiddenPaths: [".flue"] });
    const refused = isPolicyDenial("none", /refused by the file runner's permissions/);
    await assert.rejects(runner.request("readFile", { path: "/etc/hostname" }), refused);
    await assert.rejects(runner.request("readFile", { path: `${Deno.cwd()}/deno.json` }), refused);
    await assert.rejects(runner.request("readdir", { path: outside }), refused);
    await assert.rejects(runner.request("writeFile", { path: `${outside}/new.txt`, content: "x" }), refused);
    // The runner operates on resolved paths, so the flags see where a link really leads.
    await Deno.symlink(`${outside}/secret.txt`, `${workspace}/file-link`);
    await Deno.symlink(outside, `${workspace}/dir-link`);
    await assert.rejects(runner.readFile("file-link"), refused);
    await assert.rejects(runner.writeFile("dir-link/new.txt", "planted"), refused);
    await assert.rejects(runner.writeFile(".git/config", "[core]\n\tfsmonitor = touch /tmp/pwned\n"), refused);
    await Deno.mkdir(`${workspace}/.flue`);
    await Deno.writeTextFile(`${workspace}/.flue/state.db`, "state");
    await assert.rejects(runner.readFile(".flue/state.db"), refused);
    assert.deepEqual((await Array.fromAsync(Deno.readDir(outside))).map((entry) => entry.name), ["secret.txt"]);
    assert.equal(await exists(`${workspace}/.git`), false);
  });
});

Deno.test("DenoRunner keeps read-only paths unwritable and hidden paths out of sight", async () => {
  await withScene(async ({ workspace, start }) => {
    await Deno.mkdir(`${workspace}/.git`);
    await Deno.writeTextFile(`${workspace}/.git/config`, "[core]\n");
    await Deno.mkdir(`${workspace}/.flue`);
    await Deno.writeTextFile(`${workspace}/.flue/state.db`, "needle");
    await Deno.symlink(".git", `${workspace}/git-link`);
    await Deno.symlink(".flue/state.db", `${workspace}/state-link`);
    const runner = await start({ readOnlyPaths: [".git"], hiddenPaths: [".flue"] });
    assert.equal(await runner.readFile(".git/config"), "[core]\n");
    const gitRefused = isPolicyDenial("none", /Writing into "\.git\/"/);
    await assert.rejects(runner.writeFile(".git/config", "[alias]\n"), gitRefused);
    await assert.rejects(runner.writeFile(".GIT/hooks/pre-commit", "x"), gitRefused);
    await assert.rejects(runner.writeFile("git-link/config", "[alias]\n"), gitRefused);
    await assert.rejects(runner.remove(".git", { recursive: true }), gitRefused);
    assert.equal(await Deno.readTextFile(`${workspace}/.git/config`), "[core]\n");
    const hidden = isPolicyDenial("none", /holds sandbox state/);
    await assert.rejects(runner.readFile(".flue/state.db"), hidden);
    await assert.rejects(runner.readFile("state-link"), hidden);
    assert.ok(!(await runner.readdir(".")).some((entry) => entry.name === ".flue"));
    assert.deepEqual((await runner.grep("needle")).matches, []);
  });
});

Deno.test("DenoRunner.glob() matches *, **, ?, classes and braces, and skips dependency folders", async () => {
  await withScene(async ({ workspace, start }) => {
    for (const path of ["a.ts", "b.js", "src/c.ts", "src/deep/d.ts", "src/e.md", "node_modules/x/f.ts", "x1.txt"]) {
      await Deno.mkdir(`${workspace}/${path}`.replace(/\/[^/]+$/, ""), { recursive: true });
      await Deno.writeTextFile(`${workspace}/${path}`, "");
    }
    const runner = await start();
    assert.deepEqual((await runner.glob("*.ts")).paths, ["a.ts"]);
    assert.deepEqual((await runner.glob("**/*.ts")).paths, ["a.ts", "src/c.ts", "src/deep/d.ts"]);
    assert.deepEqual((await runner.glob("src/**")).paths, ["src/c.ts", "src/deep/d.ts", "src/e.md"]);
    assert.deepEqual((await runner.glob("*.{js,txt}")).paths, ["b.js", "x1.txt"]);
    assert.deepEqual((await runner.glob("x?.[a-z]xt")).paths, ["x1.txt"]);
    assert.deepEqual((await runner.glob("*.ts", { path: "src" })).paths, ["src/c.ts"]);
    assert.deepEqual((await runner.glob("node_modules/x/*.ts")).paths, ["node_modules/x/f.ts"]);
    assert.deepEqual(await runner.glob("**/*", { maxResults: 2 }), {
      paths: ["a.ts", "b.js"],
      truncated: true,
      isComplete: true,
      searched: ".",
    });
    await assert.rejects(runner.glob("/etc/*"), SyntaxError);
    await assert.rejects(runner.glob("../*"), PolicyDeniedError);
  });
});

Deno.test("DenoRunner.grep() returns file, line and text, and skips binaries and outside links", async () => {
  await withScene(async ({ workspace, outside, start }) => {
    await Deno.mkdir(`${workspace}/src`);
    await Deno.writeTextFile(`${workspace}/src/a.ts`, "const one = 1;\n// TODO fix\nconst two = 2;\n");
    await Deno.writeTextFile(`${workspace}/notes.md`, "todo: write docs\n");
    await Deno.writeFile(`${workspace}/blob.bin`, new Uint8Array([84, 79, 68, 79, 0, 1, 2]));
    await Deno.writeTextFile(`${outside}/secret.txt`, "TODO secret");
    await Deno.symlink(`${outside}/secret.txt`, `${workspace}/secret-link.txt`);
    const runner = await start();
    assert.deepEqual((await runner.grep("TODO")).matches, [
      { path: "src/a.ts", line: 2, text: "// TODO fix", length: 11 },
    ]);
    assert.deepEqual((await runner.grep("todo", { ignoreCase: true, glob: "*.md" })).matches, [
      { path: "notes.md", line: 1, text: "todo: write docs", length: 16 },
    ]);
    assert.deepEqual(await runner.grep("const \\w+", { path: "src/a.ts", maxMatches: 1 }), {
      matches: [{ path: "src/a.ts", line: 1, text: "const one = 1;", length: 14 }],
      truncated: true,
      isComplete: true,
      searched: "src/a.ts",
      filesOverSize: 0,
      bytesSearched: 42,
      stoppedAtBytes: false,
    });
    await assert.rejects(runner.grep("(unclosed"), SyntaxError);
  });
});

Deno.test("DenoRunner.glob() walks breadth first within maxFiles, leaves links out and reports what it searched", async () => {
  await withScene(async ({ workspace, outside, start }) => {
    for (const path of ["b.txt", "a/z.txt", "a/b/y.txt", "c.txt"]) {
      await Deno.mkdir(`${workspace}/${path}`.replace(/\/[^/]+$/, ""), { recursive: true });
      await Deno.writeTextFile(`${workspace}/${path}`, "");
    }
    await Deno.symlink("c.txt", `${workspace}/inside-link.txt`);
    await Deno.symlink(`${outside}/secret.txt`, `${workspace}/outside-link.txt`);
    await Deno.symlink("a", `${workspace}/dir-link`);
    const runner = await start();
    // Breadth first: the two files at the top come before any file below.
    assert.deepEqual(await runner.glob("**", { maxFiles: 2 }), {
      paths: ["b.txt", "c.txt"],
      truncated: false,
      isComplete: false,
      searched: ".",
    });
    assert.deepEqual((await runner.glob("**")).paths, ["a/b/y.txt", "a/z.txt", "b.txt", "c.txt"]);
    assert.deepEqual(await runner.glob("*.txt", { path: "dir-link" }), {
      paths: ["a/z.txt"],
      truncated: false,
      isComplete: true,
      searched: "a",
    });
    // A file is its only candidate, matched by its name.
    assert.deepEqual((await runner.glob("*.txt", { path: "a/z.txt" })).paths, ["a/z.txt"]);
    assert.deepEqual((await runner.glob("*.md", { path: "a/z.txt" })).paths, []);
    await assert.rejects(runner.glob("*", { path: "missing" }), Deno.errors.NotFound);
    await assert.rejects(runner.glob("*", { path: "outside-link.txt" }), isPolicyDenial("none", /leaves/));
    await assert.rejects(runner.glob("*", { maxFiles: 0 }), TypeError);
  });
});

Deno.test("DenoRunner.grep() counts files over maxFileBytes, stops at maxTotalBytes and cuts lines", async () => {
  await withScene(async ({ workspace, start }) => {
    await Deno.writeTextFile(`${workspace}/a.txt`, "needle one\r\n");
    await Deno.writeTextFile(`${workspace}/b.txt`, `needle ${"x".repeat(40)}\n`);
    await Deno.writeTextFile(`${workspace}/c.txt`, "needle three\n");
    await Deno.symlink("a.txt", `${workspace}/link.txt`);
    const runner = await start();
    const bounded = await runner.grep("needle", { maxFileBytes: 20, maxTotalBytes: 15, maxLineLength: 10 });
    assert.deepEqual(bounded, {
      matches: [{ path: "a.txt", line: 1, text: "needle one", length: 10 }],
      truncated: false,
      isComplete: true,
      searched: ".",
      filesOverSize: 1,
      bytesSearched: 12,
      stoppedAtBytes: true,
    });
    const cut = await runner.grep("needle", { path: "b.txt", maxLineLength: 10 });
    assert.deepEqual(cut.matches, [{ path: "b.txt", line: 1, text: "needle xxx...", length: 47 }]);
    // The walk goes on after maxMatches, without reading, to tell whether it saw every file.
    const capped = await runner.grep("needle", { maxMatches: 1, maxFiles: 2 });
    assert.deepEqual([capped.truncated, capped.isComplete, capped.matches.length], [true, false, 1]);
    assert.deepEqual((await runner.grep("needle", { maxMatches: 1, maxFiles: 3 })).isComplete, true);
  });
});

Deno.test({
  name: "DenoRunner refuses to read a FIFO instead of waiting on it",
  ignore: !isLinux,
  async fn() {
    await withScene(async ({ workspace, start }) => {
      const made = await new Deno.Command("mkfifo", { args: [`${workspace}/pipe`] }).output();
      assert.ok(made.success);
      const runner = await start({ requestTimeoutMs: 5_000 });
      await assert.rejects(runner.readFile("pipe"), /not a regular file/);
      assert.deepEqual((await runner.grep("x")).matches, []);
    });
  },
});

Deno.test("DenoRunner carries long and multi-byte contents intact across many pipe chunks", async () => {
  await withScene(async ({ start }) => {
    const runner = await start();
    // Several 64 KiB chunks each way, with multi-byte characters falling across chunk boundaries.
    const content = "ab\u00e9\u20ac\ud83d\ude00\n".repeat(60_000);
    await Promise.all([runner.writeFile("big.txt", content), runner.writeFile("small.txt", "small")]);
    const [big, small] = await Promise.all([runner.readFile("big.txt"), runner.readFile("small.txt")]);
    assert.equal(big.length, content.length);
    assert.ok(big === content);
    assert.equal(small, "small");
  });
});

Deno.test("DenoRunner answers several concurrent requests each with its own reply", async () => {
  await withScene(async ({ start }) => {
    const runner = await start();
    const names = Array.from({ length: 40 }, (_, index) => `files/${index}.txt`);
    await Promise.all(names.map((name, index) => runner.writeFile(name, `content ${index}`)));
    const contents = await Promise.all(names.map((name) => runner.readFile(name)));
    assert.deepEqual(contents, names.map((_, index) => `content ${index}`));
    const mixed = await Promise.all([runner.glob("files/*.txt"), runner.exists("files/3.txt"), runner.stat("files")]);
    assert.equal(mixed[0].paths.length, 40);
    assert.equal(mixed[1], true);
    assert.equal(mixed[2].isDirectory, true);
  });
});

Deno.test({
  name: "DenoRunner starts its subprocess with an empty environment",
  ignore: !isLinux,
  async fn() {
    await withScene(async ({ start }) => {
      const runner = await start();
      const environ = await Deno.readFile(`/proc/${runner.pid}/environ`);
      assert.equal(environ.length, 0, new TextDecoder().decode(environ));
    });
  },
});

Deno.test({
  name: "DenoRunner.close() ends the subprocess and later requests fail",
  ignore: !isLinux,
  async fn() {
    await withScene(async ({ start }) => {
      const runner = await start();
      const pid = runner.pid;
      assert.equal(await exists(`/proc/${pid}`), true);
      await runner.close();
      assert.equal(await exists(`/proc/${pid}`), false);
      assert.equal(runner.pid, undefined);
      await assert.rejects(runner.readFile("a.txt"), /was closed/);
      await runner.close();
    });
  },
});

Deno.test({
  name: "DenoRunner replaces a crashed subprocess and fails the requests it held",
  ignore: !isLinux,
  async fn() {
    await withScene(async ({ workspace, start }) => {
      await Deno.writeTextFile(`${workspace}/a.txt`, "alive");
      // Without bubblewrap, so that the pid is deno's own and SIGSTOP stops it.
      const runner = await start({ isolation: "none" });
      const first = runner.pid as number;
      // Stopped, the runner cannot answer; killed, it fails what it held instead of answering it.
      Deno.kill(first, "SIGSTOP");
      const held = runner.writeFile("b.txt", "never");
      Deno.kill(first, "SIGKILL");
      await assert.rejects(held, /exited unexpectedly on signal SIGKILL during "writeFile"/);
      assert.equal(await runner.readFile("a.txt"), "alive");
      assert.notEqual(runner.pid, first);
      // A runner killed between requests is noticed and replaced without failing a read.
      const second = runner.pid as number;
      Deno.kill(second, "SIGKILL");
      assert.equal(await runner.readFile("a.txt"), "alive");
      assert.notEqual(runner.pid, second);
    });
  },
});

Deno.test({
  name: "DenoRunner times out a request that gets no answer and restarts the subprocess",
  ignore: !isLinux,
  async fn() {
    await withScene(async ({ workspace, start }) => {
      await Deno.writeTextFile(`${workspace}/a.txt`, "alive");
      // Without bubblewrap, so that the pid is deno's own and SIGSTOP stops it.
      const runner = await start({ requestTimeoutMs: 300, isolation: "none" });
      const stuck = runner.pid as number;
      Deno.kill(stuck, "SIGSTOP");
      await assert.rejects(runner.readFile("a.txt"), Deno.errors.TimedOut);
      assert.equal(await runner.readFile("a.txt"), "alive");
      assert.notEqual(runner.pid, stuck);
    });
  },
});

Deno.test("DenoRunner.start() reports a missing deno binary as SandboxUnavailableError", async () => {
  await withScene(async ({ start }) => {
    await assert.rejects(start({ denoPath: "/nonexistent/deno" }), (error: unknown) => {
      assert.ok(error instanceof SandboxUnavailableError);
      assert.match(error.message, /FLUE_DENO_PATH/);
      return true;
    });
  });
});

Deno.test("DenoRunner.start() takes the deno binary from FLUE_DENO_PATH when no option names one", async () => {
  // The variable is set in a child process only: the environment is shared by every test running in parallel.
  const workspace = await Deno.makeTempDir({ prefix: "flue-runner-env-" });
  try {
    const script = `
      import { DenoRunner } from ${JSON.stringify(new URL("./deno_runner.ts", import.meta.url).href)};
      try {
        await DenoRunner.start({ workspace: ${JSON.stringify(workspace)}, allowWrite: false });
        console.log("started");
      } catch (error) {
        console.log(error.name + ": " + error.message);
      }
    `;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--config", new URL("../../../deno.json", import.meta.url).pathname, script],
      env: { FLUE_DENO_PATH: "/nonexistent/from-env/deno" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const printed = new TextDecoder().decode(output.stdout);
    assert.match(
      printed,
      /SandboxUnavailableError: .*"\/nonexistent\/from-env\/deno"/,
      new TextDecoder().decode(output.stderr),
    );
  } finally {
    await Deno.remove(workspace, { recursive: true });
  }
});

Deno.test("DenoRunner.start() refuses a workspace whose path has a comma, which permission flags cannot express", async () => {
  await withScene(async ({ workspace }) => {
    await Deno.mkdir(`${workspace}/a,b`);
    await assert.rejects(DenoRunner.start({ workspace: `${workspace}/a,b`, allowWrite: true }), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /contains a comma/);
      return true;
    });
  });
});

Deno.test("buildRunnerArgs() uses deno run with workspace-scoped flags and never deno eval", () => {
  const readOnly = buildRunnerArgs("/srv/ws", { allowWrite: false, maxReadBytes: 1 });
  assert.equal(readOnly[0], "run");
  assert.ok(!readOnly.includes("eval"));
  for (const flag of ["--no-prompt", "--no-config", "--no-lock", "--no-remote", "--no-npm", "--allow-read=/srv/ws"]) {
    assert.ok(readOnly.includes(flag), flag);
  }
  assert.ok(!readOnly.some((arg) => arg.startsWith("--allow-write") || arg === "-A" || arg === "--allow-all"));
  assert.ok(readOnly.some((arg) => arg.startsWith("data:application/typescript;base64,")));
  const writable = buildRunnerArgs("/srv/ws", {
    allowWrite: true,
    maxReadBytes: 1,
    readOnlyPaths: [".git"],
    hiddenPaths: [".flue"],
  });
  assert.ok(writable.includes("--allow-write=/srv/ws"));
  assert.ok(writable.includes("--deny-write=/srv/ws/.git,/srv/ws/.flue"));
  assert.ok(writable.includes("--deny-read=/srv/ws/.flue"));
  assert.throws(() => buildRunnerArgs("/srv/ws", { allowWrite: true, maxReadBytes: 1, readOnlyPaths: ["../x"] }));
});

Deno.test("DenoRunner stops its subprocess after idleMs and starts a new one on the next request", async () => {
  await withScene(async (scene) => {
    const runner = await scene.start({ idleMs: 50 });
    await runner.writeFile("a.txt", "kept on disk");
    const first = runner.pid;
    assert.ok(first !== undefined);
    const deadline = Date.now() + 10_000;
    while (runner.pid !== undefined && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
    assert.equal(runner.pid, undefined, "the idle subprocess was stopped");
    while ((await exists(`/proc/${first}`)) && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 20));
    }
    assert.equal(await exists(`/proc/${first}`), false, "and has exited");
    assert.equal(await runner.readFile("a.txt"), "kept on disk");
    assert.notEqual(runner.pid, first, "a new subprocess answers");
  });
});

Deno.test("DenoRunner answers 300 requests in flight without a short idleMs interrupting them", async () => {
  await withScene(async (scene) => {
    const runner = await scene.start({ idleMs: 30 });
    const files = Array.from({ length: 300 }, (_, index) => runner.writeFile(`f${index}.txt`, "x".repeat(1000)));
    await Promise.all(files);
    const pid = runner.pid;
    const listing = await runner.readdir(".");
    assert.equal(listing.length, 300);
    assert.ok(pid !== undefined);
  });
});

Deno.test("DenoRunner rejects an idleMs that is not a positive whole number", async () => {
  await withScene(async (scene) => {
    await assert.rejects(scene.start({ idleMs: 0 }), /idleMs/);
  });
});
