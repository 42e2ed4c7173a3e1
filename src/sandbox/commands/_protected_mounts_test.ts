import assert from "node:assert/strict";
import { PolicyDeniedError } from "../../errors.ts";
import { resolveProtectedMounts } from "./_protected_mounts.ts";

async function withWorkspace(run: (workspace: string) => Promise<void>): Promise<void> {
  const workspace = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue-protected-" }));
  try {
    await run(workspace);
  } finally {
    await Deno.remove(workspace, { recursive: true });
  }
}

Deno.test("resolveProtectedMounts() returns existing read-only and hidden paths as host paths", async () => {
  await withWorkspace(async (workspace) => {
    await Deno.mkdir(`${workspace}/.git`);
    await Deno.mkdir(`${workspace}/.flue`);
    const mounts = await resolveProtectedMounts(workspace, { readOnly: [".git"], hidden: [".flue"] }, false);
    assert.deepEqual(mounts, { readOnlyPaths: [`${workspace}/.git`], hiddenPaths: [`${workspace}/.flue`] });
  });
});

Deno.test("resolveProtectedMounts() creates missing paths empty when commands may write, so they cannot", async () => {
  await withWorkspace(async (workspace) => {
    const readOnly = await resolveProtectedMounts(workspace, { readOnly: [".git"], hidden: ["var/state"] }, false);
    assert.deepEqual(readOnly, { readOnlyPaths: [], hiddenPaths: [] });
    await assert.rejects(Deno.lstat(`${workspace}/.git`), Deno.errors.NotFound);

    const writable = await resolveProtectedMounts(workspace, { readOnly: [".git"], hidden: ["var/state"] }, true);
    assert.deepEqual(writable, { readOnlyPaths: [`${workspace}/.git`], hiddenPaths: [`${workspace}/var/state`] });
    assert.deepEqual(await Array.fromAsync(Deno.readDir(`${workspace}/.git`)), []);
    assert.ok((await Deno.lstat(`${workspace}/var/state`)).isDirectory);
  });
});

Deno.test("resolveProtectedMounts() refuses a read-only path that is or lies under a symbolic link", async () => {
  await withWorkspace(async (workspace) => {
    await Deno.mkdir(`${workspace}/real-git`);
    await Deno.symlink("real-git", `${workspace}/.git`);
    await assert.rejects(
      resolveProtectedMounts(workspace, { readOnly: [".git"] }, true),
      (error: unknown) => error instanceof PolicyDeniedError && /symbolic link "\.git"/.test(error.message),
    );
    await Deno.symlink("/etc", `${workspace}/vendor`);
    await assert.rejects(resolveProtectedMounts(workspace, { readOnly: ["vendor/.git"] }, true), PolicyDeniedError);
    await assert.rejects(Deno.lstat("/etc/.git"), Deno.errors.NotFound);
  });
});

Deno.test("resolveProtectedMounts() protects the directory a git file names inside the workspace", async () => {
  await withWorkspace(async (workspace) => {
    await Deno.mkdir(`${workspace}/modules/lib`, { recursive: true });
    await Deno.writeTextFile(`${workspace}/.git`, "gitdir: modules/lib\n");
    const inside = await resolveProtectedMounts(workspace, { readOnly: [".git"] }, true);
    assert.deepEqual(inside.readOnlyPaths, [`${workspace}/.git`, `${workspace}/modules/lib`]);
    await Deno.writeTextFile(`${workspace}/.git`, "gitdir: /etc\n");
    const outside = await resolveProtectedMounts(workspace, { readOnly: [".git"] }, true);
    assert.deepEqual(outside.readOnlyPaths, [`${workspace}/.git`]);
  });
});

Deno.test("resolveProtectedMounts() hides where a linked hidden path really is, and nothing outside", async () => {
  await withWorkspace(async (workspace) => {
    await Deno.mkdir(`${workspace}/state`);
    await Deno.symlink("state", `${workspace}/.flue`);
    await Deno.symlink("/etc", `${workspace}/elsewhere`);
    const mounts = await resolveProtectedMounts(workspace, { hidden: [".flue", "state", "elsewhere"] }, false);
    assert.deepEqual(mounts.hiddenPaths, [`${workspace}/state`]);
  });
});

Deno.test("resolveProtectedMounts() rejects paths that are the workspace or leave it", async () => {
  await withWorkspace(async (workspace) => {
    await assert.rejects(resolveProtectedMounts(workspace, { readOnly: ["."] }, false), TypeError);
    await assert.rejects(resolveProtectedMounts(workspace, { hidden: ["../x"] }, false), PolicyDeniedError);
  });
});
