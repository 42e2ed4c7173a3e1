// `flue init` end to end: a project that can be committed and cloned elsewhere with its checkout, merging into an
// existing Deno project, and the CLI used from any directory.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, runCli } from "./_cli_helpers.ts";
import { copyCheckout, runCheckoutCli, runCommand } from "./_portable_project.ts";

const DENO = Deno.execPath();

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-init-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a project made by init from a checkout, moved elsewhere with the checkout, runs, tests and serves", async () => {
  await withTempDir(async (first) => {
    const checkout = await copyCheckout(first);
    const init = await runCheckoutCli(checkout, ["init", join(first, "app")]);
    assert.equal(init.code, 0, init.stderr);
    const text = await Deno.readTextFile(join(first, "app", "deno.json"));
    const config = JSON.parse(text);
    assert.deepEqual(config.imports, {
      flue: "jsr:@flue/cli@^0.1.0",
      "flue/testing": "jsr:@flue/cli@^0.1.0/testing",
      zod: "npm:zod@4.6.7",
    });
    assert.deepEqual(config.links, ["../flue"]);
    // Deno never runs these optional native builds; saying so keeps the first run free of its warning box.
    assert.deepEqual(config.allowScripts, { deny: ["npm:@mongodb-js/zstd", "npm:node-liblzma"] });
    assert.equal(config.tasks.run, "deno run -A jsr:@flue/cli/cli run");
    assert.equal(config.tasks.dev, "deno run -A jsr:@flue/cli/cli dev");
    assert.ok(!text.includes(first), "no absolute path in deno.json");
    const format = await runCommand(DENO, ["fmt", "--check"], { cwd: join(first, "app") });
    assert.equal(format.code, 0, format.stderr);

    await withTempDir(async (second) => {
      const moved = await runCommand("cp", ["-r", checkout, join(first, "app"), second], { cwd: second });
      assert.equal(moved.code, 0, moved.stderr);
      const app = join(second, "app");
      const env = { DENO_NO_UPDATE_CHECK: "1" };
      const run = await runCommand(DENO, ["task", "--quiet", "run", "--prompt", "Hello"], { cwd: app, env });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.trim(), 'Test reply to: "Hello"');
      const workflow = await runCommand(
        DENO,
        ["task", "--quiet", "run", "summarize", "--payload", '{"text":"Deno."}'],
        {
          cwd: app,
          env,
        },
      );
      assert.equal(workflow.code, 0, workflow.stderr);
      assert.equal(typeof JSON.parse(workflow.stdout).summary, "string");
      const test = await runCommand(DENO, ["task", "--quiet", "test"], { cwd: app, env });
      assert.equal(test.code, 0, test.stdout + test.stderr);
      assert.match(test.stdout, /1 passed/);

      const server = new Deno.Command(DENO, {
        args: ["task", "--quiet", "flue", "serve", "--port", "0"],
        cwd: app,
        env: { NO_COLOR: "1", ...env },
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      try {
        const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let out = "";
        for (let i = 0; i < 100 && !/Listening on (\S+)/.test(out); i++) {
          const chunk = await reader.read();
          if (chunk.done) break;
          out += chunk.value;
        }
        const url = out.match(/Listening on (\S+)/)?.[1];
        assert.ok(url, out);
        const health = await fetch(new URL("/health", url));
        assert.equal(health.status, 200);
        await health.body?.cancel();
        const answer = await fetch(new URL("/agents/assistant/one", url), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ message: "Hi from the copy" }),
        });
        assert.equal(answer.status, 200);
        assert.match((await answer.json()).result.text, /Hi from the copy/);
        reader.releaseLock();
      } finally {
        server.kill("SIGTERM");
        await server.status;
        await server.stdout.cancel().catch(() => {});
      }
    });
  });
});

Deno.test("flue init merges into a deno.jsonc with comments, keeps its entries and refuses real conflicts by name", async () => {
  await withTempDir(async (dir) => {
    const original = `{
  // The app's own settings
  "imports": { "@std/path": "jsr:@std/path@^1.0.0" },
  "tasks": {
    "lint": "deno lint", // keep me
    "test": "deno test -A --parallel",
  },
  "fmt": { "lineWidth": 80, "singleQuote": true },
}
`;
    await Deno.writeTextFile(join(dir, "deno.jsonc"), original);
    const init = await runCli(["init", dir], { cwd: ROOT });
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /Added Flue to/);
    const merged = await Deno.readTextFile(join(dir, "deno.jsonc"));
    assert.match(merged, /\/\/ The app's own settings/);
    assert.match(merged, /"lint": "deno lint", \/\/ keep me/);
    assert.match(merged, /"test": "deno test -A --parallel"/);
    assert.match(merged, /"@std\/path": "jsr:@std\/path@\^1.0.0"/);
    assert.match(merged, /"flue": "jsr:@flue\/cli@\^0.1.0"/);
    assert.match(merged, /"dev": "deno run -A jsr:@flue\/cli\/cli dev"/);
    await assert.rejects(Deno.stat(join(dir, "deno.json")));
    // The generated files follow the project's own fmt settings (single quotes, 80 columns).
    const check = await runCommand(DENO, ["fmt", "--check"], { cwd: dir });
    assert.equal(check.code, 0, check.stderr);
    assert.match(await Deno.readTextFile(join(dir, "src/agents/assistant.ts")), /from 'flue'/);
    const run = await runCli(["run", "--prompt", "merged"], { cwd: dir });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'Test reply to: "merged"');
  });
  const own = await runCli(["init"], { cwd: ROOT });
  assert.equal(own.code, 2);
  assert.match(own.stderr, /is Flue's own checkout: create the project beside it/);
  await withTempDir(async (dir) => {
    const original = '{\n  "tasks": { "dev": "vite" },\n  "imports": { "flue": "./vendor/flue.ts" }\n}\n';
    await Deno.writeTextFile(join(dir, "deno.json"), original);
    const init = await runCli(["init", dir], { cwd: ROOT });
    assert.equal(init.code, 2);
    assert.match(init.stderr, /deno.json tasks."dev" \("vite"\)/);
    assert.match(init.stderr, /deno.json imports."flue" \(".\/vendor\/flue.ts"\)/);
    assert.equal(await Deno.readTextFile(join(dir, "deno.json")), original);
    await assert.rejects(Deno.stat(join(dir, "AGENTS.md")));
    const forced = await runCli(["init", dir, "--force"], { cwd: ROOT });
    assert.equal(forced.code, 0, forced.stderr);
    const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
    assert.equal(config.tasks.dev, "deno run -A jsr:@flue/cli/cli dev");
  });
});

Deno.test("flue run --project works from another directory, and through a flue installed with deno install", async () => {
  await withTempDir(async (dir) => {
    const app = join(dir, "app");
    assert.equal((await runCli(["init", app], { cwd: ROOT })).code, 0);
    const elsewhere = join(dir, "elsewhere");
    await Deno.mkdir(elsewhere);
    const run = await runCli(["run", "--project", app, "--prompt", "from afar"], { cwd: elsewhere });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'Test reply to: "from afar"');
    // From the checkout's own directory, whose deno.json has no "flue" import.
    const fromRoot = await runCli(["run", "--project", app, "summarize", "--payload", '{"text":"a"}'], { cwd: ROOT });
    assert.equal(fromRoot.code, 0, fromRoot.stderr);

    // The checkout equivalent of `deno install -g -A -n flue jsr:@flue/cli/cli`.
    const root = join(dir, "bin");
    const install = await runCommand(
      DENO,
      ["install", "-g", "-A", "-n", "flue", "--root", root, "--config", join(ROOT, "deno.json"), join(ROOT, "cli.ts")],
      { cwd: dir },
    );
    assert.equal(install.code, 0, install.stderr);
    const flue = await Deno.stat(join(root, "bin", "flue")).then(
      () => join(root, "bin", "flue"),
      () => join(root, "flue"),
    );
    const version = await runCommand(flue, ["--version"], { cwd: dir });
    assert.match(version.stdout, /^flue \d+\.\d+\.\d+/);
    const inProject = await runCommand(flue, ["run", "--prompt", "installed"], { cwd: app });
    assert.equal(inProject.code, 0, inProject.stderr);
    assert.equal(inProject.stdout.trim(), 'Test reply to: "installed"');
  });
});
