/**
 * Escape attempts through paths: traversal, absolute paths, symbolic and hard links, renames and working directories,
 * made by a hostile model through the tools and by a caller through `session.fs` and `session.shell`.
 */

import assert from "node:assert/strict";
import { PolicyDeniedError } from "../mod.ts";
import {
  confinedTest,
  type EscapeProject,
  type HostileRun,
  MARKER_TEXT,
  PROJECT_ONLY_TEXT,
  runHostileModel,
  withProject,
} from "./_escape_helpers.ts";

/** From a virtual workspace (`<project>/.flue/sandboxes/default/default/default`) up to the project. */
const UP_TO_PROJECT = "../../../../..";

function assertAllRefused(run: HostileRun, pattern: RegExp): void {
  assert.equal(run.text, "finished", "the run went on to its final answer");
  for (const result of run.results) {
    assert.equal(result.isError, true, result.content);
    assert.match(result.content, pattern);
  }
}

function assertNothingLeaked(run: HostileRun): void {
  const seen = JSON.stringify(run.model.calls);
  assert.ok(!seen.includes(PROJECT_ONLY_TEXT.trim()), "a project file outside the workspace reached the model");
  assert.ok(!seen.includes(MARKER_TEXT.trim()), "the marker outside reached the model");
  assert.ok(!seen.includes("root:x:0:0"), "the host's /etc/passwd reached the model");
}

async function plantLinks(project: EscapeProject): Promise<void> {
  await Deno.symlink("../outside", `${project.projectDir}/link-dir`);
  await Deno.symlink("../outside/marker.txt", `${project.projectDir}/link-file`);
  await Deno.symlink(project.markerPath, `${project.projectDir}/link-absolute`);
  await Deno.symlink("/", `${project.projectDir}/link-root`);
}

Deno.test("escape: the read, ls, grep and glob tools refuse ../ out of a virtual workspace", async () => {
  await withProject(async (project) => {
    const run = await runHostileModel(project, {}, [
      { name: "read", args: { path: `${UP_TO_PROJECT}/project/project-only.txt` } },
      { name: "read", args: { path: `${UP_TO_PROJECT}/outside/marker.txt` } },
      { name: "read", args: { path: "sub/../../escape.txt" } },
      { name: "ls", args: { path: ".." } },
      { name: "grep", args: { pattern: "PROJECT", path: UP_TO_PROJECT } },
      { name: "glob", args: { pattern: "**/*.txt", path: "../.." } },
    ]);
    assertAllRefused(run, /PolicyDeniedError: Path ".*" leaves the workspace/);
    assertNothingLeaked(run);
    await project.assertOutsideUnchanged();
  });
});

Deno.test("escape: the read tool refuses absolute host paths, /proc and /workspace/../", async () => {
  await withProject(async (project) => {
    const run = await runHostileModel(project, {}, [
      { name: "read", args: { path: "/etc/passwd" } },
      { name: "read", args: { path: `${project.projectDir}/project-only.txt` } },
      { name: "read", args: { path: project.markerPath } },
      { name: "read", args: { path: "/proc/self/environ" } },
      { name: "read", args: { path: "/workspace/../project-only.txt" } },
      { name: "read", args: { path: "/workspace/../../etc/passwd" } },
    ]);
    assertAllRefused(run, /PolicyDeniedError: Path ".*" leaves the workspace/);
    assertNothingLeaked(run);
  });
});

Deno.test("escape: the write and edit tools refuse paths outside the workspace and write nothing", async () => {
  await withProject(async (project) => {
    const probe = `/tmp/flue-escape-${crypto.randomUUID()}.txt`;
    const run = await runHostileModel(project, { allowWrite: true }, [
      { name: "write", args: { path: `${UP_TO_PROJECT}/outside/pwned.txt`, content: "pwned" } },
      { name: "write", args: { path: `${project.outsideDir}/pwned.txt`, content: "pwned" } },
      { name: "write", args: { path: `${project.projectDir}/pwned.txt`, content: "pwned" } },
      { name: "write", args: { path: probe, content: "pwned" } },
      { name: "write", args: { path: "/workspace/../pwned.txt", content: "pwned" } },
      { name: "edit", args: { path: project.markerPath, oldText: "marker", newText: "pwned" } },
    ]);
    assertAllRefused(run, /PolicyDeniedError: Path ".*" leaves the workspace/);
    await project.assertOutsideUnchanged();
    await assert.rejects(Deno.lstat(probe), Deno.errors.NotFound);
    await assert.rejects(Deno.lstat(`${project.projectDir}/pwned.txt`), Deno.errors.NotFound);
  });
});

Deno.test("escape: symbolic links already in a local project that point out are refused by the file API", async () => {
  await withProject(async (project) => {
    await plantLinks(project);
    const agent = await project.open({ sandbox: "local", allowWrite: true });
    const { fs } = await agent.session();
    for (const path of ["link-dir/marker.txt", "link-file", "link-absolute", "link-root/etc/passwd"]) {
      await assert.rejects(fs.readFile(path), PolicyDeniedError, path);
      await assert.rejects(fs.stat(path), PolicyDeniedError, path);
    }
    await assert.rejects(fs.readdir("link-dir"), PolicyDeniedError);
    await assert.rejects(fs.readdir("link-root"), PolicyDeniedError);
    await assert.rejects(fs.writeFile("link-dir/pwned.txt", "pwned"), PolicyDeniedError);
    await assert.rejects(fs.writeFile("link-file", "pwned"), PolicyDeniedError);
    await assert.rejects(fs.writeFile("link-absolute", "pwned"), PolicyDeniedError);
    await assert.rejects(fs.mkdir("link-dir/sub"), PolicyDeniedError);
    await assert.rejects(fs.remove("link-dir/marker.txt"), PolicyDeniedError);
    await project.assertOutsideUnchanged();
  });
});

Deno.test("escape: the model reading through a planted link to / or outside is refused", async () => {
  await withProject(async (project) => {
    await plantLinks(project);
    const run = await runHostileModel(project, { sandbox: "local" }, [
      { name: "read", args: { path: "link-file" } },
      { name: "read", args: { path: "link-root/etc/passwd" } },
      { name: "grep", args: { pattern: "marker", path: "link-dir" } },
    ]);
    assertAllRefused(run, /PolicyDeniedError: Path ".*" is a symbolic link that leaves the workspace/);
    assertNothingLeaked(run);
  });
});

Deno.test("escape: a symbolic link loop is refused instead of hanging", async () => {
  await withProject(async (project) => {
    await Deno.symlink("loop-b", `${project.projectDir}/loop-a`);
    await Deno.symlink("loop-a", `${project.projectDir}/loop-b`);
    const agent = await project.open({ sandbox: "local", allowWrite: true });
    const { fs } = await agent.session();
    const started = performance.now();
    await assert.rejects(fs.readFile("loop-a"), /symbolic links|loop/i);
    await assert.rejects(fs.writeFile("loop-a/x.txt", "x"), /symbolic links|loop/i);
    await assert.rejects(fs.stat("loop-b"), /symbolic links|loop/i);
    assert.ok(performance.now() - started < 5_000);
    await project.assertOutsideUnchanged();
  });
});

confinedTest("escape: symbolic links a command creates cannot be followed out", async (project) => {
  const agent = await project.open({ allowWrite: true, allowShell: true, allowedCommands: ["ln", "cat", "ls"] });
  const session = await agent.session();
  for (
    const command of [
      `ln -s ${project.markerPath} to-marker`,
      `ln -s ${project.outsideDir} to-outside`,
      `ln -s ${UP_TO_PROJECT}/outside relative-out`,
      "ln -s / to-root",
    ]
  ) {
    assert.equal((await session.shell(command)).exitCode, 0, command);
  }
  await assert.rejects(session.fs.readFile("to-marker"), PolicyDeniedError);
  await assert.rejects(session.fs.readFile("to-root/etc/passwd"), PolicyDeniedError);
  await assert.rejects(session.fs.writeFile("to-outside/pwned.txt", "pwned"), PolicyDeniedError);
  await assert.rejects(session.fs.writeFile("relative-out/pwned.txt", "pwned"), PolicyDeniedError);
  // Inside the sandbox the host paths the links name do not exist.
  const followed = await session.shell("cat to-marker");
  assert.notEqual(followed.exitCode, 0);
  assert.match(followed.stderr, /No such file or directory/);
  assert.doesNotMatch((await session.shell("ls to-root/")).stdout, /home|root|project/);
  await project.assertOutsideUnchanged();
});

confinedTest("escape: a command cannot hard-link a file from outside the workspace", async (project) => {
  const agent = await project.open({ allowWrite: true, allowShell: true, allowedCommands: ["ln"] });
  const session = await agent.session();
  const outside = await session.shell(`ln ${project.markerPath} marker-link`);
  assert.match(outside.stderr, /No such file or directory/);
  for (const system of ["/usr/bin/env", "/etc/passwd", "/proc/self/environ"]) {
    const result = await session.shell(`ln ${system} system-link`);
    assert.notEqual(result.exitCode, 0, system);
    assert.match(result.stderr, /Invalid cross-device link|Operation not permitted/, system);
  }
  assert.equal(await session.fs.exists("marker-link"), false);
  assert.equal(await session.fs.exists("system-link"), false);
  await project.assertOutsideUnchanged();
});

confinedTest("escape: renaming a checked directory and putting a link in its place is caught", async (project) => {
  const agent = await project.open({ allowWrite: true, allowShell: true, allowedCommands: ["mv", "ln"] });
  const session = await agent.session();
  await session.fs.writeFile("sub/a.txt", "inside");
  assert.equal(await session.fs.readFile("sub/a.txt"), "inside");
  assert.equal((await session.shell("mv sub sub.old")).exitCode, 0);
  assert.equal((await session.shell(`ln -s ${project.outsideDir} sub`)).exitCode, 0);
  await assert.rejects(session.fs.writeFile("sub/a.txt", "pwned"), PolicyDeniedError);
  await assert.rejects(session.fs.readFile("sub/marker.txt"), PolicyDeniedError);
  await assert.rejects(session.shell("ln -s x y", { cwd: "sub" }), PolicyDeniedError);
  await project.assertOutsideUnchanged();
});

Deno.test("escape: a working directory with .. or outside the workspace is refused before anything runs", async () => {
  await withProject(async (project) => {
    const agent = await project.open({ allowWrite: true, allowShell: true, allowedCommands: ["touch"] });
    const session = await agent.session();
    for (const cwd of ["..", "sub/../..", "/workspace/..", project.outsideDir, project.projectDir, "/"]) {
      await assert.rejects(session.shell("touch pwned.txt", { cwd }), PolicyDeniedError, cwd);
    }
    await project.assertOutsideUnchanged();
    await assert.rejects(Deno.lstat(`${project.projectDir}/pwned.txt`), Deno.errors.NotFound);
  });
});

Deno.test("escape: a working directory reached through a symbolic link out is refused", async () => {
  await withProject(async (project) => {
    await Deno.symlink("../outside", `${project.projectDir}/cwd-link`);
    const agent = await project.open({
      sandbox: "local",
      allowWrite: true,
      allowShell: true,
      allowedCommands: ["touch"],
    });
    const session = await agent.session();
    await assert.rejects(
      session.shell("touch pwned.txt", { cwd: "cwd-link" }),
      (error: unknown) =>
        error instanceof PolicyDeniedError && /leaves the workspace through a symlink/.test(error.message),
    );
    await project.assertOutsideUnchanged();
  });
});

confinedTest("escape: commands see neither the project nor host paths outside the workspace", async (project) => {
  const agent = await project.open({ allowWrite: true, allowShell: true, allowedCommands: ["ls", "cat", "touch"] });
  const session = await agent.session();
  for (
    const command of [
      `ls ${project.projectDir}`,
      `cat ${project.projectDir}/project-only.txt`,
      `cat ${project.markerPath}`,
      `touch ${project.outsideDir}/pwned.txt`,
      "cat /workspace/../project-only.txt",
    ]
  ) {
    const result = await session.shell(command);
    assert.notEqual(result.exitCode, 0, command);
    assert.match(result.stderr, /No such file or directory/, command);
    assert.doesNotMatch(result.stdout, /PROJECT-ONLY|marker outside/, command);
  }
  const root = await session.shell("touch /pwned.txt");
  assert.match(root.stderr, /Read-only file system/);
  await project.assertOutsideUnchanged();
});

confinedTest("escape: a command's /tmp is private and gone after the command", async (project) => {
  const agent = await project.open({ allowShell: true, allowedCommands: ["touch", "ls"] });
  const session = await agent.session();
  const name = `flue-escape-${crypto.randomUUID()}`;
  const written = await session.shell(`touch /tmp/${name}`);
  assert.equal(written.exitCode, 0, written.stderr);
  await assert.rejects(Deno.lstat(`/tmp/${name}`), Deno.errors.NotFound);
  const later = await session.shell(`ls /tmp/${name}`);
  assert.match(later.stderr, /No such file or directory/);
});

confinedTest("escape: without allowWrite a command cannot change the workspace", async (project) => {
  await Deno.writeTextFile(`${project.projectDir}/notes.txt`, "original\n");
  const agent = await project.open({ sandbox: "local", allowShell: true, allowedCommands: ["touch", "rm", "cp"] });
  const session = await agent.session();
  for (const command of ["touch created.txt", "rm notes.txt", "cp notes.txt copy.txt"]) {
    const result = await session.shell(command);
    assert.notEqual(result.exitCode, 0, command);
    assert.match(result.stderr, /Read-only file system/, command);
  }
  assert.equal(await Deno.readTextFile(`${project.projectDir}/notes.txt`), "original\n");
  assert.equal(await session.fs.exists("created.txt"), false);
  // A read-only workspace gets no placeholder .git either: nothing is written on the agent's behalf.
  assert.equal(await session.fs.exists(".git"), false);
});

Deno.test("escape: hostile instance ids and session names keep the workspace inside the sandboxes folder", async () => {
  await withProject(async (project) => {
    const agent = await project.open({ id: "../../../../outside", allowWrite: true });
    const session = await agent.session("../../..");
    await session.fs.writeFile("pwned.txt", "inside");
    await project.assertOutsideUnchanged();
    const found: string[] = [];
    for await (const entry of Deno.readDir(`${project.projectDir}/.flue/sandboxes/default`)) found.push(entry.name);
    assert.deepEqual(found, ["%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Foutside"]);
  });
});

Deno.test("escape: a seed directory's links that leave it are not copied into a workspace", async () => {
  await withProject(async (project) => {
    const seed = `${project.projectDir}/seed`;
    await Deno.mkdir(seed);
    await Deno.writeTextFile(`${seed}/readme.md`, "seeded\n");
    await Deno.symlink(project.markerPath, `${seed}/to-marker`);
    await Deno.symlink("../../outside", `${seed}/to-outside`);
    const agent = await project.open({ seedFrom: "seed" });
    const { fs } = await agent.session();
    assert.equal(await fs.readFile("readme.md"), "seeded\n");
    assert.equal(await fs.exists("to-marker"), false);
    assert.equal(await fs.exists("to-outside"), false);
  });
});

Deno.test("escape: the memory sandbox's simulated shell touches no host file", async () => {
  await withProject(async (project) => {
    const agent = await project.open({
      sandbox: "memory",
      allowWrite: true,
      allowShell: true,
      allowedCommands: ["cat", "echo"],
      allowCompoundCommands: true,
    });
    const session = await agent.session();
    const read = await session.shell(`cat ${project.markerPath}`);
    assert.match(read.stderr, /No such file or directory/);
    await session.shell(`echo pwned > ${project.outsideDir}/pwned.txt`);
    await session.shell(`echo pwned > ${project.markerPath}`);
    assert.doesNotMatch((await session.shell("cat /etc/passwd")).stdout, /root:/);
    await project.assertOutsideUnchanged();
  });
});
