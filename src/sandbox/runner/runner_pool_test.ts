import assert from "node:assert/strict";
import { PolicyDeniedError } from "../../errors.ts";
import { DenoRunner } from "./deno_runner.ts";
import { defaultMaxRunners, RunnerPool } from "./runner_pool.ts";

async function withServedDir(test: (served: string) => Promise<void>): Promise<void> {
  const served = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue_pool_" }));
  try {
    await test(served);
  } finally {
    await Deno.remove(served, { recursive: true });
  }
}

async function workspace(served: string, name: string, content = name): Promise<string> {
  await Deno.mkdir(`${served}/${name}`, { recursive: true });
  await Deno.writeTextFile(`${served}/${name}/own.txt`, content);
  return `${served}/${name}`;
}

Deno.test("RunnerPool serves every workspace below one served directory from one process", async () => {
  await withServedDir(async (served) => {
    const pool = new RunnerPool({ maxRunners: 4 });
    const runners: DenoRunner[] = [];
    try {
      for (const name of ["a/s1", "a/s2", "b/s1"]) {
        runners.push(
          await DenoRunner.start({
            workspace: await workspace(served, name),
            servedRoot: served,
            allowWrite: false,
            pool,
          }),
        );
      }
      assert.deepEqual(await Promise.all(runners.map((runner) => runner.readFile("own.txt"))), [
        "a/s1",
        "a/s2",
        "b/s1",
      ]);
      assert.equal(pool.size, 1);
      assert.equal(new Set(runners.map((runner) => runner.pid)).size, 1);
      // Giving up one workspace leaves the process to the others; the last one stops it.
      await runners[0].close();
      assert.equal(await runners[1].readFile("own.txt"), "a/s2");
      await Promise.all(runners.map((runner) => runner.close()));
      assert.equal(pool.size, 0);
    } finally {
      await Promise.all(runners.map((runner) => runner.close()));
      await pool.close();
    }
  });
});

Deno.test("A shared runner keeps each request inside its own workspace", async () => {
  await withServedDir(async (served) => {
    const pool = new RunnerPool({ maxRunners: 1 });
    const mine = await workspace(served, "agent/1/mine");
    const theirs = await workspace(served, "agent/2/theirs", "their secret");
    const runner = await DenoRunner.start({ workspace: mine, servedRoot: served, allowWrite: true, pool });
    const other = await DenoRunner.start({ workspace: theirs, servedRoot: served, allowWrite: false, pool });
    try {
      const denied = (error: unknown) => error instanceof PolicyDeniedError;
      await assert.rejects(runner.readFile("../../2/theirs/own.txt"), denied);
      await assert.rejects(runner.request("readFile", { path: `${theirs}/own.txt` }), denied);
      await assert.rejects(runner.request("readdir", { path: theirs }), denied);
      await assert.rejects(runner.request("writeFile", { path: `${theirs}/planted.txt`, content: "x" }), denied);
      // Links made after the runner started, as a command in the workspace could.
      await Deno.symlink(`${theirs}/own.txt`, `${mine}/file-link`);
      await Deno.symlink("../../2/theirs", `${mine}/dir-link`);
      await assert.rejects(runner.readFile("file-link"), /symbolic link that leaves the workspace/);
      await assert.rejects(runner.readFile("dir-link/own.txt"), /symbolic link that leaves the workspace/);
      await assert.rejects(runner.readdir("dir-link"), /symbolic link that leaves the workspace/);
      await assert.rejects(runner.writeFile("dir-link/planted.txt", "x"), /symbolic link that leaves the workspace/);
      assert.deepEqual((await runner.grep("secret")).matches, []);
      assert.deepEqual((await runner.glob("**/*.txt")).paths, ["own.txt"]);
      assert.equal(await other.readFile("own.txt"), "their secret");
      assert.deepEqual((await Array.fromAsync(Deno.readDir(theirs))).map((entry) => entry.name), ["own.txt"]);
    } finally {
      await runner.close();
      await other.close();
      await pool.close();
    }
  });
});

Deno.test("RunnerPool never runs more than maxRunners processes and stops the least recently used", async () => {
  await withServedDir(async (served) => {
    const pool = new RunnerPool({ maxRunners: 2 });
    const runners: DenoRunner[] = [];
    try {
      // Each workspace is its own served directory, so each needs a process of its own.
      for (const name of ["w0", "w1", "w2", "w3"]) {
        runners.push(
          await DenoRunner.start({
            workspace: await workspace(served, name),
            allowWrite: false,
            pool,
            isolation: "none",
          }),
        );
        assert.ok(pool.size <= 2, `${pool.size} processes`);
      }
      const [w0, w1, w2, w3] = runners;
      assert.equal(await w2.readFile("own.txt"), "w2");
      assert.equal(await w3.readFile("own.txt"), "w3");
      assert.equal(await w2.readFile("own.txt"), "w2");
      // w3 is now the least recently used: w0 takes its place, w2 keeps its process.
      const w2Pid = w2.pid;
      assert.equal(await w0.readFile("own.txt"), "w0");
      assert.equal(w3.pid, undefined);
      assert.equal(w2.pid, w2Pid);
      const reads = await Promise.all(
        Array.from({ length: 40 }, (_, index) => runners[index % 4].readFile("own.txt")),
      );
      assert.deepEqual(reads, Array.from({ length: 40 }, (_, index) => `w${index % 4}`));
      assert.ok(pool.size <= 2, `${pool.size} processes`);
      assert.equal(await w1.readFile("own.txt"), "w1");
    } finally {
      await Promise.all(runners.map((runner) => runner.close()));
      await pool.close();
    }
    assert.equal(pool.size, 0);
  });
});

Deno.test("RunnerPool refuses a cap that is not a whole number from 1 to 1024", () => {
  for (const maxRunners of [0, -1, 1.5, 1025, NaN]) {
    assert.throws(() => new RunnerPool({ maxRunners }), /maxRunners must be a whole number/);
  }
  assert.ok(defaultMaxRunners() >= 2);
});

Deno.test("DenoRunner.start() refuses a workspace outside its served directory", async () => {
  await withServedDir(async (served) => {
    const ws = await workspace(served, "ws");
    const elsewhere = await workspace(served, "elsewhere");
    await assert.rejects(
      DenoRunner.start({ workspace: elsewhere, servedRoot: ws, allowWrite: false }),
      /is not inside the served directory/,
    );
  });
});
