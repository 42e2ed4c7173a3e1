/**
 * What the sandbox adds to starting a command: `git status --short` in a small repository through `runCommand()`
 * (policy check, control group, bubblewrap with its mounts, prlimit, output capture) against the same git run under a
 * bare `bwrap --unshare-all` that only binds the host's root read-only, and against a bare `bwrap --unshare-all true`
 * (bubblewrap's own start, the floor per-command namespaces cannot beat). The three alternate, one run each in turn, in
 * one process; the table shows medians and ratios. Goal: the sandbox adds at most 50% on top of bare bubblewrap running
 * the same git. No absolute time is asserted: the figures depend on the machine.
 *
 * Run: deno run -A bench/command_start.ts [--quick]
 */

import { isBubblewrapAvailable, runCommand } from "../src/sandbox/commands/run_command.ts";
import { DENY_ALL_POLICY } from "../src/sandbox/sandbox.ts";
import { median, time } from "./_timing.ts";

const quick = Deno.args.includes("--quick");
const RUNS = quick ? 15 : 60;
const GOAL = 1.5;

if (!(await isBubblewrapAvailable())) {
  console.log("SKIPPED: bubblewrap is not available, so there is nothing to compare");
  Deno.exit(0);
}

const repository = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue-bench-command-" }));
const git = (...args: string[]) => new Deno.Command("git", { args, cwd: repository, stdout: "null" }).output();
await git("init", "-q");
for (let index = 0; index < 20; index++) await Deno.writeTextFile(`${repository}/file-${index}.txt`, `${index}\n`);
await git("add", ".");
await git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "files");
await Deno.writeTextFile(`${repository}/file-3.txt`, "changed\n");

const policy = { ...DENY_ALL_POLICY, allowShell: true, allowedCommands: ["git status"] };
const bare = (...argv: string[]) => async () => {
  const output = await new Deno.Command("bwrap", {
    args: ["--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--chdir", repository, ...argv],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
};
const cases: Record<string, () => Promise<void>> = {
  "bwrap --unshare-all true": bare("true"),
  "bwrap --unshare-all git status": bare("git", "-c", `safe.directory=${repository}`, "status", "--short"),
  "sandbox git status": async () => {
    const result = await runCommand("git status --short", { workspace: repository, policy });
    if (result.exitCode !== 0) throw new Error(result.stderr);
  },
};

try {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  for (const run of Object.values(cases)) await run();
  for (let round = 0; round < RUNS; round++) {
    for (const [name, run] of Object.entries(cases)) samples[name].push(await time(run));
  }
  const medians = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
  const floor = medians["bwrap --unshare-all true"];
  const sameGit = medians["bwrap --unshare-all git status"];
  const sandbox = medians["sandbox git status"];
  console.log(`${RUNS} runs of each, alternating; medians:`);
  for (const [name, value] of Object.entries(medians)) {
    console.log(`  ${name.padEnd(32)} ${value.toFixed(2).padStart(7)} ms  ${(value / floor).toFixed(2)}x bare true`);
  }
  const ratio = sandbox / sameGit;
  console.log(
    `sandbox / bare bwrap running the same git: ${ratio.toFixed(2)}x (goal at most ${GOAL}x) ` +
      `${ratio <= GOAL ? "met" : "NOT met"}; the sandbox adds ${(sandbox - sameGit).toFixed(2)} ms`,
  );
} finally {
  await Deno.remove(repository, { recursive: true });
}
