/**
 * What a new project's first run downloads: `flue init` from this checkout into a temporary directory, then
 * `deno task run --prompt Hello` with an empty `DENO_DIR`, as on a fresh machine. Prints the npm package versions
 * installed, the cache's size, the time taken, and whether Deno printed its "Ignored build scripts" warning.
 * Needs the npm registry (it downloads everything once, about 200 MB).
 *
 * Run: deno run -A bench/hello_world_install.ts
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const work = await Deno.makeTempDir({ prefix: "flue-hello-" });
try {
  const app = join(work, "app");
  const denoDir = join(work, "deno-dir");
  const init = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(ROOT, "cli.ts"), "init", app],
    stdout: "null",
  }).output();
  if (!init.success) throw new Error("flue init failed");
  const started = performance.now();
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["task", "run", "--prompt", "Hello"],
    cwd: app,
    env: { DENO_DIR: denoDir, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const stderr = new TextDecoder().decode(run.stderr);
  if (!run.success) throw new Error(`deno task run failed: ${stderr}`);
  const registry = join(denoDir, "npm", "registry.npmjs.org");
  let versions = 0;
  for await (const entry of Deno.readDir(registry)) {
    const dirs = entry.name.startsWith("@")
      ? await Array.fromAsync(Deno.readDir(join(registry, entry.name)), (scoped) => join(entry.name, scoped.name))
      : [entry.name];
    for (const dir of dirs) {
      for await (const version of Deno.readDir(join(registry, dir))) if (version.isDirectory) versions++;
    }
  }
  const du = await new Deno.Command("du", { args: ["-sm", denoDir], stdout: "piped" }).output();
  const megabytes = new TextDecoder().decode(du.stdout).split("\t")[0];
  console.log("hello world, first run on an empty DENO_DIR");
  console.log(`  npm package versions  ${versions}`);
  console.log(`  DENO_DIR size         ${megabytes} MB`);
  console.log(`  time                  ${seconds.toFixed(1)} s`);
  console.log(`  build script warning  ${/Ignored build scripts/.test(stderr) ? "printed" : "none"}`);
} finally {
  await Deno.remove(work, { recursive: true });
}
