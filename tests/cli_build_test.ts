// `flue build --target <name>` end to end: each target's files, and what of them can run here, run.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ROOT, runCli } from "./_cli_helpers.ts";
import { runCommand } from "./_portable_project.ts";

const DENO = Deno.execPath();

async function withProject(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "flue-build-" });
  try {
    const dir = join(root, "app");
    const init = await runCli(["init", dir], { cwd: ROOT });
    assert.equal(init.code, 0, init.stderr);
    await fn(dir);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function build(
  dir: string,
  ...args: string[]
): Promise<{ written: string[]; command?: string[]; notes: string[] }> {
  const run = await runCli(["build", ...args, "--json"], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}

/** Starts a server command and returns its URL, read from its "Listening on" line. */
async function startServer(command: string, args: string[], options: { cwd: string; env: Record<string, string> }) {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const errors = new Response(child.stderr).text();
  let out = "";
  for (let i = 0; i < 200 && !/Listening on http:\/\/[^:]+:(\d+)/.test(out); i++) {
    const chunk = await reader.read();
    if (chunk.done) break;
    out += chunk.value;
  }
  const port = out.match(/Listening on http:\/\/[^:]+:(\d+)/)?.[1];
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // exited
    }
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    await errors.catch(() => {});
  };
  if (!port) {
    await stop();
    throw new Error(`No "Listening on" line: ${out}\n${await errors}`);
  }
  return { url: `http://127.0.0.1:${port}`, stop };
}

async function prompt(url: string, message: string, token?: string): Promise<Response> {
  return await fetch(`${url}/agents/assistant/one`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ message }),
  });
}

/** Copies `path` (absolute) to the same absolute path under `root`, so relative imports and links still resolve. */
async function copyMirrored(path: string, root: string): Promise<void> {
  const target = join(root, path);
  const info = await Deno.stat(path);
  if (info.isDirectory) {
    for await (const entry of Deno.readDir(path)) await copyMirrored(join(path, entry.name), root);
    return;
  }
  await Deno.mkdir(dirname(target), { recursive: true });
  await Deno.copyFile(path, target);
}

Deno.test("flue build --target binary: the entry holds every module, so it runs from only the embedded files", async () => {
  await withProject(async (dir) => {
    const { written, command } = await build(dir, "--target", "binary", "--dry-run");
    assert.deepEqual(written, [".flue/build/main.ts"]);
    assert.ok(command);
    const entry = await Deno.readTextFile(join(dir, ".flue/build/main.ts"));
    assert.match(entry, /^import "\.\.\/\.\.\/src\/agents\/assistant\.ts";$/m);
    assert.match(entry, /^import "\.\.\/\.\.\/src\/workflows\/summarize\.ts";$/m);
    // Permissions come from the configuration (sqlite store, virtual sandbox), never -A.
    const permissions = command.filter((arg) => arg.startsWith("--allow") || arg.startsWith("--unstable"));
    assert.deepEqual(permissions, [
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-sys",
    ]);
    assert.ok(!command.includes("-A") && !command.includes("--allow-all"));
    const includes = command.flatMap((arg, index) => command[index - 1] === "--include" ? [arg] : []);
    assert.deepEqual(includes, [".agents", "AGENTS.md", "deno.json", "src/agents", "src/workflows"]);
    assert.deepEqual(command.slice(-3), ["--output", "dist/app", ".flue/build/main.ts"]);

    // Everything the binary embeds: the module graph of the entry and the included files, copied to an empty
    // directory at the same absolute paths (so the relative "links" to the checkout still holds), nothing else.
    const info = await runCommand(DENO, ["info", "--json", "--config", "deno.json", ".flue/build/main.ts"], {
      cwd: dir,
    });
    assert.equal(info.code, 0, info.stderr);
    const graph = JSON.parse(info.stdout) as { modules: { specifier: string; local?: string }[] };
    const local = graph.modules.filter((module) => module.specifier.startsWith("file:")).map((module) => module.local!);
    assert.ok(
      local.some((path) => path.endsWith("src/cli/run_command.ts")),
      "the lazily imported commands are embedded",
    );
    const embedded = await Deno.makeTempDir({ prefix: "flue-embedded-" });
    const elsewhere = await Deno.makeTempDir({ prefix: "flue-binary-cwd-" });
    try {
      for (const path of [...local, ...includes.map((include) => join(dir, include)), join(ROOT, "deno.json")]) {
        await copyMirrored(path, embedded);
      }
      const copiedEntry = join(embedded, dir, ".flue/build/main.ts");
      const denoArgs = [
        "run",
        "--cached-only",
        "--quiet",
        ...permissions,
        "--config",
        join(embedded, dir, "deno.json"),
      ];
      const run = await runCommand(DENO, [...denoArgs, copiedEntry, "run", "--prompt", "from the binary"], {
        cwd: elsewhere,
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.trim(), 'Test reply to: "from the binary"');
      // State goes where the binary runs, not into the embedded files.
      await Deno.stat(join(elsewhere, ".flue", "flue.db"));
      const workflow = await runCommand(
        DENO,
        [...denoArgs, copiedEntry, "run", "summarize", "--payload", '{"text":"Embedded."}'],
        { cwd: elsewhere },
      );
      assert.equal(workflow.code, 0, workflow.stderr);
      assert.equal(typeof JSON.parse(workflow.stdout).summary, "string");
      const server = await startServer(DENO, [...denoArgs, copiedEntry, "serve", "--port", "0"], {
        cwd: elsewhere,
        env: {},
      });
      try {
        const health = await fetch(`${server.url}/health`);
        assert.equal(health.status, 200);
        await health.body?.cancel();
        const answer = await prompt(server.url, "served from embedded files");
        assert.equal(answer.status, 200);
        assert.match((await answer.json()).result.text, /served from embedded files/);
      } finally {
        await server.stop();
      }
    } finally {
      await Deno.remove(embedded, { recursive: true });
      await Deno.remove(elsewhere, { recursive: true });
    }
  });
});

Deno.test("flue build --target binary passes a compile target through and refuses an unknown one", async () => {
  await withProject(async (dir) => {
    const { command } = await build(dir, "--target", "binary", "--target", "aarch64-apple-darwin", "--dry-run");
    assert.ok(command);
    assert.deepEqual(command.slice(command.indexOf("--target"), command.indexOf("--target") + 2), [
      "--target",
      "aarch64-apple-darwin",
    ]);
    const windows = await build(dir, "--target", "binary", "--compile-target", "x86_64-pc-windows-msvc", "--dry-run");
    assert.ok(windows.command?.includes("dist/app.exe"));
    const unknown = await runCli(["build", "--target", "binary", "--compile-target", "sparc-sun-solaris"], {
      cwd: dir,
    });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Unknown compile target "sparc-sun-solaris"/);
  });
});

// `deno compile` downloads a `denort` runtime, which these machines cannot; with DENORT_BIN (or a cached runtime) the
// binary itself is built and answers a prompt and /health.
const denortAvailable = await (async () => {
  if (Deno.env.get("DENORT_BIN")) return true;
  const denoDir = Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache", "deno");
  try {
    await Deno.stat(join(denoDir, "dl", "release", `v${Deno.version.deno}`, `denort-${Deno.build.target}.zip`));
    return true;
  } catch {
    return false;
  }
})();
if (!denortAvailable) {
  console.log(
    "SKIPPED: flue build --target binary compile (denort runtime unavailable offline); not counted as passed",
  );
}

Deno.test({
  name: "flue build --target binary compiles a binary that answers a prompt and /health",
  ignore: !denortAvailable,
  async fn() {
    await withProject(async (dir) => {
      const { written } = await build(dir, "--target", "binary");
      assert.deepEqual(written, [".flue/build/main.ts"]);
      const binary = join(dir, "dist", "app");
      const elsewhere = await Deno.makeTempDir();
      try {
        const run = await runCommand(binary, ["run", "--prompt", "compiled"], { cwd: elsewhere });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stdout.trim(), 'Test reply to: "compiled"');
        const server = await startServer(binary, ["serve", "--port", "0"], { cwd: elsewhere, env: {} });
        try {
          const health = await fetch(`${server.url}/health`);
          assert.equal(health.status, 200);
          await health.body?.cancel();
        } finally {
          await server.stop();
        }
      } finally {
        await Deno.remove(elsewhere, { recursive: true });
      }
    });
  },
});

Deno.test("flue build --target docker: the Dockerfile's own cache and start commands serve the project", async () => {
  await withProject(async (dir) => {
    const { written } = await build(dir, "--target", "docker");
    assert.deepEqual(written, ["Dockerfile", ".dockerignore"]);
    const dockerfile = await Deno.readTextFile(join(dir, "Dockerfile"));
    assert.match(dockerfile, /^FROM denoland\/deno:2\.9\.6$/m);
    assert.match(dockerfile, /apt-get install -y --no-install-recommends bubblewrap/);
    assert.match(dockerfile, /^USER deno$/m);
    assert.match(dockerfile, /^STOPSIGNAL SIGTERM$/m);
    assert.match(dockerfile, /^HEALTHCHECK .*\n.*127\.0\.0\.1:8000\/health/m);
    assert.ok(dockerfile.indexOf("USER deno") < dockerfile.indexOf("RUN deno cache"), "dependencies cached as deno");
    const ignore = await Deno.readTextFile(join(dir, ".dockerignore"));
    for (const entry of [".flue/", ".git/", "dist/", ".env"]) assert.ok(ignore.split("\n").includes(entry), entry);

    const cache = dockerfile.match(/^RUN (deno cache .*)$/m)?.[1].split(" ");
    const start = JSON.parse(dockerfile.match(/^CMD (\[.*\])$/m)![1]) as string[];
    assert.deepEqual(cache, ["deno", "cache", "main.ts"]);
    assert.ok(!start.includes("-A"));
    const cached = await runCommand(DENO, cache!.slice(1), { cwd: dir });
    assert.equal(cached.code, 0, cached.stderr);
    const token = "docker-token-0123456789";
    const server = await startServer(DENO, start.slice(1), {
      cwd: dir,
      env: { FLUE_API_TOKEN: token, PORT: "0", FLUE_HOSTNAME: "127.0.0.1" },
    });
    try {
      // The image's health check, pointed at this server's port.
      const healthcheck = JSON.parse(dockerfile.match(/CMD (\["deno", "eval".*\])$/m)![1]) as string[];
      const check = await runCommand(DENO, [
        healthcheck[1],
        healthcheck[2].replace(":8000", `:${new URL(server.url).port}`),
      ], {
        cwd: dir,
      });
      assert.equal(check.code, 0, check.stderr);
      assert.equal((await prompt(server.url, "no token")).status, 401);
      const answer = await prompt(server.url, "from the container command", token);
      assert.equal(answer.status, 200);
      assert.match((await answer.json()).result.text, /from the container command/);
    } finally {
      await server.stop();
    }
  });
});

Deno.test("flue build --target fly, railway and render write the platform file beside the Dockerfile", async () => {
  await withProject(async (dir) => {
    const fly = await build(dir, "--target", "fly");
    assert.deepEqual(fly.written, ["Dockerfile", ".dockerignore", "fly.toml"]);
    const toml = await Deno.readTextFile(join(dir, "fly.toml"));
    assert.match(toml, /^app = "app"$/m);
    assert.match(toml, /^kill_signal = "SIGTERM"$/m);
    assert.match(toml, /\[mounts\]\n\s+source = "flue_data"\n\s+destination = "\/app\/\.flue"/);
    assert.match(toml, /internal_port = 8000/);
    assert.match(toml, /path = "\/health"/);

    const railway = await build(dir, "--target", "railway");
    assert.deepEqual(railway.written, ["Dockerfile", ".dockerignore", "railway.json"]);
    const railwayJson = JSON.parse(await Deno.readTextFile(join(dir, "railway.json")));
    assert.equal(railwayJson.build.builder, "DOCKERFILE");
    assert.equal(railwayJson.deploy.healthcheckPath, "/health");
    assert.ok(railway.notes.some((note) => /FLUE_STORE=postgres/.test(note)));

    const render = await build(dir, "--target", "render");
    assert.deepEqual(render.written, ["Dockerfile", ".dockerignore", "render.yaml"]);
    const blueprint = parseYaml(await Deno.readTextFile(join(dir, "render.yaml")));
    const [service] = blueprint.services;
    assert.equal(service.runtime, "docker");
    assert.equal(service.healthCheckPath, "/health");
    assert.equal(service.disk.mountPath, "/app/.flue");
    assert.ok(
      service.envVars.some((variable: { key: string; generateValue?: boolean }) =>
        variable.key === "FLUE_API_TOKEN" && variable.generateValue
      ),
    );
  });
});

Deno.test("flue build --target github-actions writes a workflow whose check task passes here", async () => {
  await withProject(async (dir) => {
    const { written } = await build(dir, "--target", "github-actions");
    assert.deepEqual(written, [".github/workflows/flue.yml", "deno.json"]);
    const workflow = parseYaml(await Deno.readTextFile(join(dir, ".github/workflows/flue.yml")));
    const steps = workflow.jobs.test.steps as { uses?: string; with?: Record<string, string>; run?: string }[];
    assert.equal(steps.find((step) => step.uses === "denoland/setup-deno@v2")?.with?.["deno-version"], "2.9.6");
    const runs = steps.flatMap((step) => step.run ? [step.run] : []);
    assert.ok(runs.includes("deno task check") && runs.includes("deno task test"));
    const check = await runCommand(DENO, ["task", "--quiet", "check"], { cwd: dir });
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });
});

Deno.test("flue build --target systemd writes a hardened unit for the binary", async () => {
  await withProject(async (dir) => {
    const { written } = await build(dir, "--target", "systemd");
    assert.deepEqual(written, ["deploy/app.service"]);
    const unit = await Deno.readTextFile(join(dir, "deploy/app.service"));
    for (
      const line of [
        "ExecStart=/opt/app/app serve --hostname 127.0.0.1 --port 8000",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=app",
        "Environment=FLUE_STATE_DIR=/var/lib/app",
        "KillSignal=SIGTERM",
      ]
    ) assert.ok(unit.split("\n").includes(line), line);
  });
});

Deno.test("flue build --target deno-deploy adds the deploy key and keeps the rest of deno.json", async () => {
  await withProject(async (dir) => {
    const { written, notes } = await build(dir, "--target", "deno-deploy");
    assert.deepEqual(written, ["deno.json"]);
    const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
    assert.deepEqual(config.deploy, {
      project: "app",
      entrypoint: "main.ts",
      include: [],
      exclude: [".flue/", "dist/", "**/*_test.ts"],
    });
    assert.equal(config.imports.flue, "jsr:@flue/cli@^0.1.0");
    assert.ok(notes.some((note) => /links/.test(note)), "a linked checkout is flagged");
    assert.ok(notes.some((note) => /Deno KV/.test(note)));
  });
});

Deno.test("flue build refuses vercel, netlify and cloudflare with exit 2, the reason and the nearest target", async () => {
  await withProject(async (dir) => {
    for (const target of ["vercel", "netlify", "cloudflare"]) {
      const run = await runCli(["build", "--target", target], { cwd: dir });
      assert.equal(run.code, 2, target);
      assert.match(run.stderr, new RegExp(`Flue does not build for "${target}": .+; use deno-deploy`));
    }
    const unknown = await runCli(["build", "--target", "heroku"], { cwd: dir });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown target "heroku": targets are binary, deno-deploy, docker/);
  });
});
