import assert from "node:assert/strict";
import { commandEnvironment, GIT_DRIVER_SCRIPT, planArgv } from "./_command_environment.ts";

const argv = (...words: string[]) => planArgv({ kind: "argv", argv: words }, "/workspace", false);

Deno.test("planArgv() runs sed with --sandbox and tar with --force-local before any --", () => {
  assert.deepEqual(argv("sed", "-n", "p", "a.txt"), ["sed", "--sandbox", "-n", "p", "a.txt"]);
  assert.deepEqual(argv("/usr/bin/sed", "p"), ["/usr/bin/sed", "--sandbox", "p"]);
  assert.deepEqual(argv("tar", "cf", "a.tar", "dir"), ["tar", "cf", "a.tar", "dir", "--force-local"]);
  assert.deepEqual(argv("tar", "-cf", "a.tar", "--", "-x"), ["tar", "-cf", "a.tar", "--force-local", "--", "-x"]);
  assert.deepEqual(argv("ls", "-la"), ["ls", "-la"]);
});

Deno.test("planArgv() sends git commands that read the work tree through the driver scan, and not read-only ones", () => {
  const status = argv("git", "-C", "sub", "status");
  assert.deepEqual(status.slice(0, 5), ["sh", "-c", GIT_DRIVER_SCRIPT, "sh", "git"]);
  assert.deepEqual(status.slice(-3), ["-C", "sub", "status"]);
  const log = argv("git", "log", "-p");
  assert.equal(log[0], "git");
  assert.deepEqual(log.slice(-4), ["log", "--no-ext-diff", "--no-textconv", "-p"]);
  assert.equal(argv("git", "--version")[0], "git");
});

Deno.test("commandEnvironment() refuses LESSOPEN and sets LESSSECURE", () => {
  assert.throws(() => commandEnvironment("/workspace", false, { LESSOPEN: "|x %s" }), /"LESSOPEN" cannot be set/);
  assert.equal(commandEnvironment("/workspace", false).LESSSECURE, "1");
});

/** Runs a planned command on the host, with the sandbox's environment, in `cwd`. */
async function runPlanned(cwd: string, words: string[], compound = false): Promise<number> {
  const plan = compound ? { kind: "script" as const, script: words.join(" ") } : { kind: "argv" as const, argv: words };
  const [program, ...args] = planArgv(plan, cwd, false);
  const output = await new Deno.Command(program, {
    args,
    cwd,
    clearEnv: true,
    env: { ...commandEnvironment(cwd, false), GIT_AUTHOR_NAME: "a", GIT_COMMITTER_NAME: "a" },
    stdout: "null",
    stderr: "null",
  }).output();
  return output.code;
}

Deno.test("GIT_DRIVER_SCRIPT switches off filter drivers the repository config names, however named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-git-drivers-" });
  try {
    const git = (...args: string[]) => runPlanned(dir, ["git", ...args]);
    assert.equal(await git("init", "-q"), 0);
    await Deno.mkdir(`${dir}/sub`);
    const drivers = ["plain", 'odd"name=x', "d.o.t"];
    for (const [index, name] of drivers.entries()) {
      assert.equal(await git("config", `filter.${name}.clean`, `touch ran-${index}; cat`), 0);
    }
    await Deno.writeTextFile(
      `${dir}/.gitattributes`,
      '*.a filter=plain\n*.b filter=odd"name=x\n*.c filter=d.o.t\n',
    );
    for (const extension of ["a", "b", "c"]) await Deno.writeTextFile(`${dir}/sub/f.${extension}`, "x\n");
    assert.equal(await git("add", "."), 0);
    assert.equal(await git("-C", "sub", "status"), 0);
    assert.equal(await runPlanned(dir, ["git", "add", "--renormalize", ".", "&&", "git", "status"], true), 0);
    const left = [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((name) => name.startsWith("ran-"));
    assert.deepEqual(left, []);
    // Without the scan git runs them: the check above can fail.
    await new Deno.Command("git", { args: ["add", "--renormalize", "."], cwd: dir, stderr: "null" }).output();
    const ran = [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((name) => name.startsWith("ran-"));
    assert.deepEqual(ran.sort(), ["ran-0", "ran-1", "ran-2"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GIT_DRIVER_SCRIPT scans config written by hand: upper-case keys, a key on the header line, an include", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-git-drivers-" });
  try {
    assert.equal(await runPlanned(dir, ["git", "init", "-q"]), 0);
    const configs = [
      '[filter "up"]\n\tCLEAN = touch ran-0; cat',
      '[filter "up"] clean = touch ran-1; cat\n',
      "[include]\n\tpath = ../extra.cfg\n",
    ];
    await Deno.writeTextFile(`${dir}/extra.cfg`, '[filter "up"]\n\tclean = touch ran-2; cat\n');
    await Deno.writeTextFile(`${dir}/.gitattributes`, "*.txt filter=up\n");
    const base = await Deno.readTextFile(`${dir}/.git/config`);
    for (const [index, config] of configs.entries()) {
      await Deno.writeTextFile(`${dir}/.git/config`, `${base}${config}`);
      await Deno.writeTextFile(`${dir}/f.txt`, `${index}\n`);
      assert.equal(await runPlanned(dir, ["git", "add", "f.txt"]), 0, config);
      assert.equal(await runPlanned(dir, ["git", "status"]), 0, config);
      const ran = () => [...Deno.readDirSync(dir)].some((entry) => entry.name === `ran-${index}`);
      assert.equal(ran(), false, config);
      // Plain git runs it, so the check above can fail.
      await Deno.writeTextFile(`${dir}/f.txt`, `${index}${index}\n`);
      await new Deno.Command("git", { args: ["add", "f.txt"], cwd: dir, stderr: "null" }).output();
      assert.equal(ran(), true, config);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tar keeps an archive name with a colon a local file, as a command and in a script", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-tar-" });
  try {
    await Deno.writeTextFile(`${dir}/f`, "x\n");
    assert.equal(await runPlanned(dir, ["tar", "-cf", "host:one.tar", "f"]), 0);
    assert.equal(
      await runPlanned(dir, ["tar", "cf", "host:two.tar", "--", "f", "&&", "sed", "-n", "1p", "f"], true),
      0,
    );
    const names = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
    assert.deepEqual(names, ["f", "host:one.tar", "host:two.tar"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
