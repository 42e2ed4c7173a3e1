/**
 * Escape attempts through git: config that runs programs (fsmonitor, aliases, hooks, transports, filters), options
 * that name programs, environment that redirects git, and writes into `.git` or the state directory.
 */

import assert from "node:assert/strict";
import { PolicyDeniedError } from "../mod.ts";
import { confinedTest, type EscapeProject, runHostileModel, withProject } from "./_escape_helpers.ts";

const IDENTITY = {
  GIT_AUTHOR_NAME: "Agent",
  GIT_AUTHOR_EMAIL: "agent@example.com",
  GIT_COMMITTER_NAME: "Agent",
  GIT_COMMITTER_EMAIL: "agent@example.com",
};

/** Runs the host's git, outside any sandbox, with no user or system config. */
async function hostGit(cwd: string, ...args: string[]): Promise<string> {
  const output = await new Deno.Command("git", {
    args,
    cwd,
    clearEnv: true,
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: cwd, GIT_CONFIG_NOSYSTEM: "1", ...IDENTITY },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(output.stdout);
}

/** Makes the project a repository with one commit. */
async function makeRepository(project: EscapeProject): Promise<void> {
  await Deno.writeTextFile(`${project.projectDir}/a.txt`, "one\n");
  await hostGit(project.projectDir, "init", "-q");
  await hostGit(project.projectDir, "add", "a.txt");
  await hostGit(project.projectDir, "commit", "-qm", "first");
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

Deno.test("escape: the write tool cannot put core.fsmonitor into .git/config", async () => {
  await withProject(async (project) => {
    await makeRepository(project);
    const before = await Deno.readTextFile(`${project.projectDir}/.git/config`);
    const hostile = "[core]\n\tfsmonitor = touch /tmp/pwned\n";
    const run = await runHostileModel(project, { sandbox: "local", allowWrite: true }, [
      { name: "write", args: { path: ".git/config", content: hostile } },
      { name: "write", args: { path: ".GIT/config", content: hostile } },
      { name: "write", args: { path: "./sub/../.git/hooks/pre-commit", content: "#!/bin/sh\ntouch /tmp/pwned\n" } },
      { name: "edit", args: { path: ".git/config", oldText: "[core]", newText: hostile } },
    ]);
    assert.equal(run.text, "finished");
    for (const result of run.results) assert.match(result.content, /PolicyDeniedError: Writing into "\.git\/"/);
    assert.equal(await Deno.readTextFile(`${project.projectDir}/.git/config`), before);
    assert.equal(await exists(`${project.projectDir}/.git/hooks/pre-commit`), false);
  });
});

confinedTest("escape: a command cannot write .git/config or .git/hooks in a local project", async (project) => {
  await makeRepository(project);
  const agent = await project.open({
    sandbox: "local",
    allowWrite: true,
    allowShell: true,
    allowedCommands: ["git", "touch", "mv", "ln"],
  });
  const session = await agent.session();
  const link = await session.shell("ln .git/config writable-config");
  assert.match(link.stderr, /Invalid cross-device link/);
  const config = await session.shell("git config core.fsmonitor 'touch /workspace/pwned'");
  assert.notEqual(config.exitCode, 0);
  assert.match(config.stderr, /could not lock config file|Read-only file system/);
  assert.match((await session.shell("touch .git/hooks/pre-commit")).stderr, /Read-only file system/);
  assert.match((await session.shell("mv .git elsewhere")).stderr, /Device or resource busy/);
  assert.equal((await session.shell("git status --short")).exitCode, 0);
  assert.equal(await exists(`${project.projectDir}/pwned`), false);
  assert.equal(await hostGit(project.projectDir, "config", "--get", "core.fsmonitor"), "");
  assert.equal(await exists(`${project.projectDir}/.git/hooks/pre-commit`), false);
});

confinedTest(
  "escape: git read commands still work on the read-only .git, writing ones are refused",
  async (project) => {
    await makeRepository(project);
    await Deno.writeTextFile(`${project.projectDir}/a.txt`, "two\n");
    const agent = await project.open({
      sandbox: "local",
      allowWrite: true,
      allowShell: true,
      allowedCommands: ["git"],
    });
    const session = await agent.session();
    assert.match((await session.shell("git status --short")).stdout, /^ M a\.txt$/m);
    assert.match((await session.shell("git log --oneline")).stdout, /first/);
    assert.match((await session.shell("git diff")).stdout, /\+two/);
    const add = await session.shell("git add a.txt");
    assert.notEqual(add.exitCode, 0);
    assert.match(add.stderr, /index\.lock.*Read-only file system/);
    const commit = await session.shell("git commit -am second", { env: IDENTITY });
    assert.notEqual(commit.exitCode, 0);
    assert.doesNotMatch(await hostGit(project.projectDir, "log", "--oneline"), /second/);
  },
);

confinedTest("escape: a hostile repository's core.fsmonitor does not run on git status", async (project) => {
  await makeRepository(project);
  await hostGit(
    project.projectDir,
    "config",
    "core.fsmonitor",
    `touch fsmonitor-ran; touch ${project.markerPath}.pwned`,
  );
  // Plain git really runs it, so the checks below can fail.
  await hostGit(project.projectDir, "status", "--short");
  assert.equal(await exists(`${project.projectDir}/fsmonitor-ran`), true);
  await Deno.remove(`${project.projectDir}/fsmonitor-ran`);
  await Deno.remove(`${project.markerPath}.pwned`);

  const run = await runHostileModel(project, {
    sandbox: "local",
    allowWrite: true,
    allowShell: true,
    allowedCommands: ["git"],
  }, [{ name: "bash", args: { command: "git status --short" } }]);
  assert.match(run.results[0].content, /^exit code: 0/);
  assert.equal(await exists(`${project.projectDir}/fsmonitor-ran`), false);
  await project.assertOutsideUnchanged();
});

confinedTest(
  "escape: a hook planted in a repository the agent can write never runs in the sandbox",
  async (project) => {
    // A nested clone keeps its own writable .git, unlike the project's own, which commands see read-only.
    const nested = `${project.projectDir}/vendor/lib`;
    await Deno.mkdir(nested, { recursive: true });
    await hostGit(nested, "init", "-q");
    const agent = await project.open({
      sandbox: "local",
      allowWrite: true,
      allowShell: true,
      allowedCommands: ["git", "chmod"],
    });
    const session = await agent.session();
    await session.fs.writeFile("vendor/lib/.git/hooks/pre-commit", "#!/bin/sh\ntouch hook-ran\n");
    assert.equal((await session.shell("chmod +x vendor/lib/.git/hooks/pre-commit")).exitCode, 0);
    const commit = await session.shell("git -C vendor/lib commit --allow-empty -m planted", { env: IDENTITY });
    assert.equal(commit.exitCode, 0, commit.stderr);
    assert.equal(await exists(`${nested}/hook-ran`), false, "the hook ran inside the sandbox");
    // The hook is live: the host's own git would run it (a documented limit of nested repositories).
    await hostGit(nested, "commit", "--allow-empty", "-qm", "host");
    assert.equal(await exists(`${nested}/hook-ran`), true);
  },
);

const GIT_CONFIG_ATTEMPTS: ReadonlyArray<readonly [string, string]> = [
  ["git -c alias.x='!touch pwned' x", "git -c"],
  ["git -calias.x=!touch\\ pwned x", "git -c"],
  ["git -c core.fsmonitor='touch pwned' status", "git -c"],
  ["git --config-env=core.pager=HOME log", "git --config-env"],
  ["git -C . -c core.sshCommand='touch pwned' fetch", "git -c"],
];

for (const [command, form] of GIT_CONFIG_ATTEMPTS) {
  Deno.test(`escape: "${command}" is refused even though git is allowed`, async () => {
    await withProject(async (project) => {
      const agent = await project.open({ allowWrite: true, allowShell: true, allowedCommands: ["git"] });
      const session = await agent.session();
      await assert.rejects(session.shell(command), (error: unknown) => {
        assert.ok(error instanceof PolicyDeniedError);
        assert.equal(error.option, "allowedCommands");
        assert.equal(error.denied, `"${form}"`);
        assert.match(error.message, new RegExp(`list "${form}" in "allowedCommands"`));
        return true;
      });
    });
  });
}

const GIT_PROGRAM_OPTIONS: ReadonlyArray<readonly [string, string]> = [
  ["git clone --upload-pack='touch pwned' . copy", "git --upload-pack"],
  ["git fetch --upload-pack=touch origin", "git --upload-pack"],
  ["git ls-remote --upload-p=touch .", "git --upload-pack"],
  ["git clone -u 'touch pwned' . copy", "git -u"],
  ["git push --receive-pack='touch pwned' origin", "git --receive-pack"],
  ["git archive --exec='touch pwned' --remote=. HEAD", "git --exec"],
  ["git --exec-path=/workspace/bin status", "git --exec-path"],
  ["git rebase --exec 'touch pwned' HEAD~1", "git --exec"],
  ["git rebase -x 'touch pwned' HEAD~1", "git rebase --exec"],
  ["git grep -O'touch pwned' x", "git grep -O"],
  ["git diff --ext-diff", "git --ext-diff"],
  ["git log -p --textconv", "git --textconv"],
  ["git bisect run touch pwned", "git bisect run"],
  ["git submodule foreach 'touch pwned'", "git submodule"],
  ["git clone 'ext::sh -c touch% pwned' copy", "git ext::"],
  ["git difftool", "git difftool"],
  ["git help status", "git help"],
  ["git st", "git st"],
];

for (const [command, form] of GIT_PROGRAM_OPTIONS) {
  Deno.test(`escape: "${command}" is refused: it could make git run another program`, async () => {
    await withProject(async (project) => {
      const agent = await project.open({ allowWrite: true, allowShell: true, allowedCommands: ["git"] });
      const session = await agent.session();
      await assert.rejects(session.shell(command), (error: unknown) => {
        assert.ok(error instanceof PolicyDeniedError, String(error));
        assert.equal(error.denied, `"${form}"`);
        return true;
      });
      assert.equal(await session.fs.exists("pwned"), false);
    });
  });
}

Deno.test("escape: GIT_DIR, GIT_CONFIG_* and other git variables cannot be given to a command", async () => {
  await withProject(async (project) => {
    const hostile = {
      GIT_DIR: project.outsideDir,
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "core.fsmonitor",
      GIT_CONFIG_PARAMETERS: "'core.fsmonitor'='touch pwned'",
      GIT_SSH_COMMAND: "touch pwned",
      GIT_EXEC_PATH: "/workspace",
      GIT_EXTERNAL_DIFF: "touch pwned",
    };
    const agent = await project.open({ allowShell: true, allowedCommands: ["git"], env: hostile });
    const session = await agent.session();
    for (const name of Object.keys(hostile)) {
      await assert.rejects(
        session.shell("git status", { env: { [name]: "x" } }),
        (error: unknown) => error instanceof TypeError && error.message.includes(`"${name}" cannot be set`),
        name,
      );
      await assert.rejects(session.shell("git status", { secrets: [name] }), TypeError, name);
    }
    const run = await runHostileModel(
      project,
      { allowShell: true, allowedCommands: ["git"], env: hostile },
      [{ name: "bash", args: { command: "git status" } }],
      ["GIT_DIR"],
    );
    assert.match(run.results[0].content, /^Error: TypeError: Environment variable "GIT_DIR" cannot be set/);
    assert.equal(run.text, "finished");
    await project.assertOutsideUnchanged();
  });
});

confinedTest("escape: a missing .git cannot be created by a command in a local project", async (project) => {
  const agent = await project.open({ sandbox: "local", allowWrite: true, allowShell: true, allowedCommands: ["git"] });
  const session = await agent.session();
  const created = await session.shell("git init");
  assert.notEqual(created.exitCode, 0);
  assert.match(created.stderr, /Read-only file system/);
  // Flue left an empty directory in its place, which git ignores when it looks for a repository.
  assert.deepEqual(await Array.fromAsync(Deno.readDir(`${project.projectDir}/.git`)), []);
  assert.equal(await hostGit(project.projectDir, "rev-parse", "--is-inside-work-tree"), "");
});

confinedTest("escape: a virtual workspace gets the same read-only .git as the file API", async (project) => {
  const agent = await project.open({ allowWrite: true, allowShell: true, allowedCommands: ["git", "mkdir"] });
  const session = await agent.session();
  assert.match((await session.shell("git init")).stderr, /Read-only file system/);
  assert.match((await session.shell("mkdir .git/hooks")).stderr, /Read-only file system/);
  await assert.rejects(session.fs.writeFile(".git/config", "[core]\n"), PolicyDeniedError);
  // A repository in a subdirectory is the agent's own and stays writable.
  assert.equal((await session.shell("git init -q repo")).exitCode, 0);
});

confinedTest("escape: a .git that is a symbolic link makes commands refuse to run", async (project) => {
  await Deno.mkdir(`${project.projectDir}/real-git`);
  await Deno.symlink("real-git", `${project.projectDir}/.git`);
  const agent = await project.open({ sandbox: "local", allowWrite: true, allowShell: true, allowedCommands: ["ls"] });
  const session = await agent.session();
  await assert.rejects(
    session.shell("ls"),
    (error: unknown) => error instanceof PolicyDeniedError && /symbolic link "\.git"/.test(error.message),
  );
  await assert.rejects(session.fs.writeFile("real-git/config", "[core]\n"), PolicyDeniedError);
});

confinedTest("escape: commands in a local project cannot read or plant the state directory", async (project) => {
  await Deno.mkdir(`${project.projectDir}/.flue`);
  await Deno.writeTextFile(`${project.projectDir}/.flue/flue.db`, "other sessions' history");
  await Deno.mkdir(`${project.projectDir}/var/state`, { recursive: true });
  await Deno.writeTextFile(`${project.projectDir}/var/state/flue.db`, "history in a custom state dir");
  for (const stateDir of [`${project.projectDir}/.flue`, `${project.projectDir}/var/state`]) {
    const agent = await project.open({
      sandbox: "local",
      stateDir,
      allowWrite: true,
      allowShell: true,
      allowedCommands: ["cat", "ls", "touch", "mv"],
    });
    const session = await agent.session();
    const relative = stateDir.slice(project.projectDir.length + 1);
    const read = await session.shell(`cat ${relative}/flue.db`);
    assert.match(read.stderr, /No such file or directory/);
    assert.doesNotMatch(read.stdout, /history/);
    assert.equal((await session.shell(`ls -A ${relative}`)).stdout, "");
    assert.match((await session.shell(`touch ${relative}/planted`)).stderr, /Read-only file system/);
    assert.match((await session.shell(`mv ${relative} moved`)).stderr, /Device or resource busy/);
    await assert.rejects(session.shell("ls", { cwd: relative }), PolicyDeniedError);
    await assert.rejects(session.fs.readFile(`${relative}/flue.db`), PolicyDeniedError);
  }
  assert.equal(await Deno.readTextFile(`${project.projectDir}/.flue/flue.db`), "other sessions' history");
  assert.equal(await exists(`${project.projectDir}/var/state/planted`), false);
});

confinedTest("escape: a hostile repository's .gitattributes filter does not run in the sandbox", async (project) => {
  await makeRepository(project);
  await hostGit(project.projectDir, "config", "filter.evil.clean", "touch filter-ran; cat");
  await Deno.writeTextFile(`${project.projectDir}/.gitattributes`, "*.txt filter=evil\n");
  await Deno.writeTextFile(`${project.projectDir}/a.txt`, "changed\n");
  const agent = await project.open({ sandbox: "local", allowWrite: true, allowShell: true, allowedCommands: ["git"] });
  const session = await agent.session();
  assert.match((await session.shell("git diff --stat")).stdout, /a\.txt/);
  assert.equal((await session.shell("git status --short")).exitCode, 0);
  assert.equal(await exists(`${project.projectDir}/filter-ran`), false);
  // Plain git runs it, so the check above can fail.
  await hostGit(project.projectDir, "diff", "--stat");
  assert.equal(await exists(`${project.projectDir}/filter-ran`), true);
  await project.assertOutsideUnchanged();
});

/** Config a model writes with `git config` alone, each naming a program git would run under a driver name. */
const DRIVER_CONFIG: ReadonlyArray<readonly [key: string, value: string]> = [
  ["filter.evil.clean", "touch ../../pwned-clean; cat"],
  ["filter.evil.smudge", "touch ../../pwned-smudge; cat"],
  ["filter.odd=name.clean", "touch ../../pwned-odd; cat"],
  ["diff.evil.textconv", "touch ../../pwned-textconv; cat"],
  ["diff.evil.command", "touch ../../pwned-diff"],
  ["merge.evil.driver", "touch ../../pwned-merge"],
  ["trailer.sign.command", "touch ../../pwned-trailer"],
];

confinedTest(
  "escape: filter, diff, merge and trailer programs from config the model wrote run nothing, as commands or in scripts",
  async (project) => {
    // A nested repository keeps a writable .git in a local project, so the model can write its config.
    const nested = `${project.projectDir}/vendor/lib`;
    await Deno.mkdir(nested, { recursive: true });
    const agent = await project.open({
      sandbox: "local",
      allowWrite: true,
      allowShell: true,
      allowedCommands: ["git"],
      allowCompoundCommands: true,
    });
    const session = await agent.session();
    const git = async (args: string) => {
      const result = await session.shell(`git -C vendor/lib ${args}`, { env: IDENTITY });
      return result;
    };
    assert.equal((await git("init -q")).exitCode, 0);
    for (const [key, value] of DRIVER_CONFIG) {
      const set = await git(`config '${key}' '${value}'`);
      assert.equal(set.exitCode, 0, set.stderr);
    }
    await session.fs.writeFile(
      "vendor/lib/.gitattributes",
      "*.txt filter=evil diff=evil merge=evil\n*.md filter=odd=name\n",
    );
    await session.fs.writeFile("vendor/lib/a.txt", "one\n");
    await session.fs.writeFile("vendor/lib/b.md", "one\n");
    assert.equal((await git("add .")).exitCode, 0);
    assert.equal((await git("commit -qm first --trailer sign=x")).exitCode, 0);
    await session.fs.writeFile("vendor/lib/a.txt", "two\n");
    await git("status --short");
    await git("diff");
    await git("diff --stat HEAD");
    await git("blame a.txt");
    await git("stash");
    await git("stash pop");
    await session.fs.remove("vendor/lib/a.txt");
    await git("checkout -- a.txt");
    await git("add --renormalize .");
    const script = await session.shell("git -C vendor/lib add --renormalize . && git -C vendor/lib diff HEAD", {
      env: IDENTITY,
    });
    assert.equal(script.exitCode, 0, script.stderr);
    const planted = (await Array.fromAsync(Deno.readDir(project.projectDir))).map((entry) => entry.name);
    assert.deepEqual(planted.filter((name) => name.startsWith("pwned")), []);
    // Plain git runs them, so the check above can fail.
    await Deno.writeTextFile(`${nested}/a.txt`, "three\n");
    await hostGit(nested, "add", "--renormalize", ".");
    await hostGit(nested, "diff", "HEAD~0");
    assert.equal(await exists(`${project.projectDir}/pwned-clean`), true);
    await project.assertOutsideUnchanged();
  },
);

confinedTest("escape: git does not recurse into a submodule whose own config names a filter", async (project) => {
  const top = `${project.projectDir}/vendor/top`;
  await Deno.mkdir(`${top}/sub`, { recursive: true });
  await hostGit(top, "init", "-q");
  await hostGit(`${top}/sub`, "init", "-q");
  await hostGit(`${top}/sub`, "config", "filter.evil.clean", "touch ../../../sub-filter-ran; cat");
  await Deno.writeTextFile(`${top}/sub/.gitattributes`, "* filter=evil\n");
  await Deno.writeTextFile(`${top}/sub/a.txt`, "one\n");
  await hostGit(`${top}/sub`, "add", ".");
  await hostGit(`${top}/sub`, "commit", "-qm", "sub");
  await hostGit(top, "add", "sub");
  await hostGit(top, "commit", "-qm", "top");
  await Deno.remove(`${project.projectDir}/sub-filter-ran`).catch(() => {});
  await Deno.writeTextFile(`${top}/sub/a.txt`, "two\n");
  const agent = await project.open({ sandbox: "local", allowWrite: true, allowShell: true, allowedCommands: ["git"] });
  const session = await agent.session();
  assert.equal((await session.shell("git -C vendor/top status --short")).exitCode, 0);
  await session.shell("git -C vendor/top diff");
  assert.equal(await exists(`${project.projectDir}/sub-filter-ran`), false);
  await assert.rejects(session.shell("git -C vendor/top status --ignore-submodules=none"), PolicyDeniedError);
  // Plain git recurses and runs it, so the check above can fail.
  await hostGit(top, "status", "--short");
  assert.equal(await exists(`${project.projectDir}/sub-filter-ran`), true);
});

confinedTest("escape: aliases the model put in a repository's config never run", async (project) => {
  await Deno.mkdir(`${project.projectDir}/vendor/lib`, { recursive: true });
  const agent = await project.open({ sandbox: "local", allowWrite: true, allowShell: true, allowedCommands: ["git"] });
  const session = await agent.session();
  assert.equal((await session.shell("git -C vendor/lib init -q")).exitCode, 0);
  for (const name of ["st", "status", "log", "ci"]) {
    const set = await session.shell(`git -C vendor/lib config alias.${name} '!touch ../../pwned-${name}'`);
    assert.equal(set.exitCode, 0, set.stderr);
  }
  // git never lets an alias replace a built-in command, and the others are not built in.
  assert.equal((await session.shell("git -C vendor/lib status --short")).exitCode, 0);
  await session.shell("git -C vendor/lib log");
  for (const command of ["git -C vendor/lib st", "git -C vendor/lib ci -m x"]) {
    await assert.rejects(session.shell(command), /is not a built-in git command; aliases/);
  }
  const planted = (await Array.fromAsync(Deno.readDir(project.projectDir))).map((entry) => entry.name);
  assert.deepEqual(planted.filter((name) => name.startsWith("pwned")), []);
  // Plain git runs an alias that is not a built-in name.
  await hostGit(`${project.projectDir}/vendor/lib`, "st");
  assert.equal(await exists(`${project.projectDir}/pwned-st`), true);
});
