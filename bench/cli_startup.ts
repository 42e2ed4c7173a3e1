/**
 * Cold start of the CLI: `flue --help` and `flue --version` against an empty `deno run` of a script that does
 * nothing, alternating in one run so both see the same machine load. Each sample is a fresh process started as a user
 * starts it (`deno run -A cli.ts --help`, module cache warm). Prints medians and the ratio; the goal is at most 2x.
 *
 * Run: deno run -A bench/cli_startup.ts [--quick]
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, time } from "./_timing.ts";

const quick = Deno.args.includes("--quick");
const REPEATS = quick ? 7 : 21;
const ROOT = fileURLToPath(new URL("..", import.meta.url));

const emptyDir = await Deno.makeTempDir({ prefix: "flue-bench-empty-" });
const empty = join(emptyDir, "empty.ts");
await Deno.writeTextFile(empty, "");

async function run(args: string[], cwd: string): Promise<void> {
  const output = await new Deno.Command(Deno.execPath(), { args, cwd, stdout: "null", stderr: "piped" }).output();
  if (!output.success) throw new Error(`deno ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`);
}

const cases: Record<string, () => Promise<void>> = {
  "empty deno run": () => run(["run", "-A", empty], emptyDir),
  "flue --help": () => run(["run", "-A", "cli.ts", "--help"], ROOT),
  "flue --version": () => run(["run", "-A", "cli.ts", "--version"], ROOT),
};
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
try {
  for (const fn of Object.values(cases)) await fn(); // warm the module cache
  for (let i = 0; i < REPEATS; i++) {
    for (const [name, fn] of Object.entries(cases)) samples[name].push(await time(fn));
  }
} finally {
  await Deno.remove(emptyDir, { recursive: true });
}

const baseline = median(samples["empty deno run"]);
console.log(`cli startup (${REPEATS} alternating runs each, medians)`);
for (const [name, values] of Object.entries(samples)) {
  const value = median(values);
  console.log(`  ${name.padEnd(16)} ${value.toFixed(1).padStart(7)} ms  ${(value / baseline).toFixed(2)}x`);
}
