// `flue deploy --target <name>`: builds, then runs the platform's CLI, here a fake one on PATH that records its argv.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, runCli } from "./_cli_helpers.ts";

async function withProject(fn: (dir: string, bin: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "flue-deploy-" });
  try {
    const dir = join(root, "app");
    const init = await runCli(["init", dir], { cwd: ROOT });
    assert.equal(init.code, 0, init.stderr);
    const bin = join(root, "bin");
    await Deno.mkdir(bin);
    await fn(dir, bin);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** A fake platform CLI: records its working directory and each argument on a line of `<bin>/<name>.calls`. */
async function fakeCli(bin: string, name: string, exitCode = 0): Promise<string> {
  const log = join(bin, `${name}.calls`);
  await Deno.writeTextFile(
    join(bin, name),
    `#!/bin/sh\n{ pwd; for arg in "$@"; do printf '%s\\n' "$arg"; done; } > '${log}'\necho "fake ${name} ran"\nexit ${exitCode}\n`,
    { mode: 0o755 },
  );
  return log;
}

async function calls(log: string): Promise<{ cwd: string; argv: string[] }> {
  const [cwd, ...argv] = (await Deno.readTextFile(log)).trimEnd().split("\n");
  return { cwd, argv };
}

const PLATFORMS: { target: string; cli: string; argv: string[]; files: string[] }[] = [
  { target: "deno-deploy", cli: "deployctl", argv: ["deploy", "--prod"], files: ["deno.json"] },
  { target: "fly", cli: "flyctl", argv: ["deploy", "--config", "fly.toml"], files: ["fly.toml", "Dockerfile"] },
  { target: "railway", cli: "railway", argv: ["up", "--ci"], files: ["railway.json", "Dockerfile"] },
  { target: "docker", cli: "docker", argv: ["build", "--tag", "app", "."], files: ["Dockerfile", ".dockerignore"] },
];

Deno.test("flue deploy builds, then runs the platform CLI with these exact arguments from the project", async () => {
  await withProject(async (dir, bin) => {
    const path = `${bin}:${Deno.env.get("PATH")}`;
    for (const platform of PLATFORMS) {
      const log = await fakeCli(bin, platform.cli);
      const run = await runCli(["deploy", "--target", platform.target], { cwd: dir, env: { PATH: path } });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`fake ${platform.cli} ran`));
      const recorded = await calls(log);
      assert.deepEqual(recorded.argv, platform.argv, platform.target);
      assert.equal(await Deno.realPath(recorded.cwd), await Deno.realPath(dir));
      for (const file of platform.files) await Deno.stat(join(dir, file));
    }
  });
});

Deno.test("flue deploy passes on the platform CLI's failure and takes the second executable name (fly)", async () => {
  await withProject(async (dir, bin) => {
    const log = await fakeCli(bin, "fly", 3);
    const run = await runCli(["deploy", "--target", "fly"], { cwd: dir, env: { PATH: `${bin}:/usr/bin:/bin` } });
    assert.equal(run.code, 3);
    assert.deepEqual((await calls(log)).argv, ["deploy", "--config", "fly.toml"]);
  });
});

Deno.test("flue deploy without the platform CLI exits 2 with the install command and writes nothing", async () => {
  await withProject(async (dir, bin) => {
    const expected: Record<string, RegExp> = {
      fly: /flyctl or fly is not on PATH.*install it with curl -L https:\/\/fly\.io\/install\.sh \| sh/,
      railway: /railway is not on PATH.*npm install -g @railway\/cli/,
      "deno-deploy": /deployctl is not on PATH.*deno install -gArf jsr:@deno\/deployctl/,
    };
    for (const [target, message] of Object.entries(expected)) {
      const run = await runCli(["deploy", "--target", target], { cwd: dir, env: { PATH: bin } });
      assert.equal(run.code, 2, target);
      assert.match(run.stderr, message);
    }
    await assert.rejects(Deno.stat(join(dir, "fly.toml")));
    const dryRun = await runCli(["deploy", "--target", "fly", "--dry-run"], { cwd: dir, env: { PATH: bin } });
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.match(dryRun.stdout, /Would run in .*: flyctl deploy --config fly.toml/);
  });
});

Deno.test("flue deploy names the manual step for targets without a platform CLI, and refuses vercel", async () => {
  await withProject(async (dir) => {
    const render = await runCli(["deploy", "--target", "render"], { cwd: dir });
    assert.equal(render.code, 2);
    assert.match(
      render.stderr,
      /no platform CLI for "render": run flue build --target render, then push the repository/,
    );
    const vercel = await runCli(["deploy", "--target", "vercel"], { cwd: dir });
    assert.equal(vercel.code, 2);
    assert.match(vercel.stderr, /Flue does not build for "vercel"/);
  });
});
