/**
 * Sandbox overhead per operation: 1,000 reads and 1,000 writes of a 1 KB file through a `virtual` sandbox (its Deno file
 * runner) against `Deno.readTextFile`/`Deno.writeTextFile` in this process, one at a time and 16 in flight; and 100
 * `git status --short` in a small repository through `sandbox.exec` (bubblewrap) against a direct spawn of git.
 * Baseline and sandbox alternate in rounds in one process; the table shows medians over rounds, their ratio and the
 * cost per operation. Goals: a sequential read at most 3x the direct call (issue 9), any other file operation under 5x,
 * a command under 2x the direct spawn. No
 * absolute time is asserted: the figures depend on the machine.
 *
 * Run: deno run -A bench/sandbox_ops.ts [--quick]
 */

import { createSandbox } from "../src/sandbox/registry.ts";
import { isBubblewrapAvailable } from "../src/sandbox/commands/run_command.ts";
import { DENY_ALL_POLICY, type Sandbox } from "../src/sandbox/sandbox.ts";
import { median, time } from "./_timing.ts";

const quick = Deno.args.includes("--quick");
const FILE_OPERATIONS = 1_000;
const COMMANDS = 100;
const IN_FLIGHT = 16;
const FILE_ROUNDS = quick ? 3 : 9;
const COMMAND_ROUNDS = quick ? 2 : 5;
const CONTENT = "0123456789abcdef".repeat(64);
const FILE_GOAL = 5;
const SEQUENTIAL_READ_GOAL = 3;
const COMMAND_GOAL = 2;

interface Row {
  operation: string;
  count: number;
  baseline: number;
  sandbox: number;
  goal: number;
}

const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue-bench-sandbox-" }));
const sandbox = await createSandbox("virtual", {
  projectDir: base,
  stateDir: `${base}/.flue`,
  agent: "bench",
  instanceId: "1",
  session: "main",
  policy: { ...DENY_ALL_POLICY, allowWrite: true, allowShell: true, allowedCommands: ["git status"] },
});
const root = sandbox.root;

try {
  await sandbox.writeFile("read.txt", CONTENT);
  await sandbox.mkdir("written");
  const rows: Row[] = [];
  rows.push(
    await compare("readFile sequential", FILE_OPERATIONS, FILE_ROUNDS, {
      baseline: () => sequential(FILE_OPERATIONS, () => Deno.readTextFile(`${root}/read.txt`)),
      sandbox: () => sequential(FILE_OPERATIONS, () => sandbox.readFile("read.txt")),
    }, SEQUENTIAL_READ_GOAL),
  );
  rows.push(
    await compare(`readFile ${IN_FLIGHT} in flight`, FILE_OPERATIONS, FILE_ROUNDS, {
      baseline: () => concurrent(FILE_OPERATIONS, () => Deno.readTextFile(`${root}/read.txt`)),
      sandbox: () => concurrent(FILE_OPERATIONS, () => sandbox.readFile("read.txt")),
    }, FILE_GOAL),
  );
  // Each slot writes its own file, so that no two writes in flight race for one file.
  rows.push(
    await compare("writeFile sequential", FILE_OPERATIONS, FILE_ROUNDS, {
      baseline: () => sequential(FILE_OPERATIONS, (index) => Deno.writeTextFile(writePath(root, index), CONTENT)),
      sandbox: () => sequential(FILE_OPERATIONS, (index) => sandbox.writeFile(writePath(".", index), CONTENT)),
    }, FILE_GOAL),
  );
  rows.push(
    await compare(`writeFile ${IN_FLIGHT} in flight`, FILE_OPERATIONS, FILE_ROUNDS, {
      baseline: () => concurrent(FILE_OPERATIONS, (index) => Deno.writeTextFile(writePath(root, index), CONTENT)),
      sandbox: () => concurrent(FILE_OPERATIONS, (index) => sandbox.writeFile(writePath(".", index), CONTENT)),
    }, FILE_GOAL),
  );
  const commands = await benchGitStatus(sandbox, root);
  if (typeof commands !== "string") rows.push(commands);
  printTable(rows);
  // A skipped row is never counted: it has no figures to count.
  if (typeof commands === "string") console.log(`git status --short: SKIPPED: ${commands}`);
} finally {
  await sandbox.close();
  await Deno.remove(base, { recursive: true });
}

function writePath(directory: string, index: number): string {
  return `${directory}/written/${index % IN_FLIGHT}.txt`;
}

/** The row, or why there is none. */
async function benchGitStatus(sandbox: Sandbox, root: string): Promise<Row | string> {
  if (!(await isBubblewrapAvailable())) return "bubblewrap not installed";
  if (!(await isInstalled("git"))) return "git not installed";
  // The repository is made from the host: the sandbox's file API refuses writes into `.git/` on purpose.
  const git = async (...args: string[]): Promise<void> => {
    const result = await new Deno.Command("git", { args, cwd: root, stdout: "null", stderr: "piped" }).output();
    if (!result.success) throw new Error(`git ${args.join(" ")} failed: ${new TextDecoder().decode(result.stderr)}`);
  };
  await git("init", "--quiet");
  await git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "add", ".");
  await git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "--quiet", "-m", "initial");
  await Deno.writeTextFile(`${root}/read.txt`, `${CONTENT}changed\n`);
  await Deno.writeTextFile(`${root}/untracked.txt`, "new\n");
  const direct = await new Deno.Command("git", { args: ["status", "--short"], cwd: root }).output();
  const confined = await sandbox.exec("git status --short");
  const expected = new TextDecoder().decode(direct.stdout);
  if (confined.exitCode !== 0 || confined.stdout !== expected) {
    throw new Error(
      `git status through the sandbox differs from the direct spawn (exit ${confined.exitCode}): ` +
        `${JSON.stringify(confined.stdout)} vs ${JSON.stringify(expected)}; stderr: ${confined.stderr}`,
    );
  }
  return await compare("git status --short", COMMANDS, COMMAND_ROUNDS, {
    baseline: () =>
      sequential(COMMANDS, async () => {
        const output = await new Deno.Command("git", { args: ["status", "--short"], cwd: root, stdin: "null" })
          .output();
        if (!output.success) throw new Error("git status failed");
      }),
    sandbox: () =>
      sequential(COMMANDS, async () => {
        const result = await sandbox.exec("git status --short");
        if (result.exitCode !== 0) throw new Error(`git status failed in the sandbox: ${result.stderr}`);
      }),
  }, COMMAND_GOAL);
}

async function isInstalled(program: string): Promise<boolean> {
  try {
    return (await new Deno.Command(program, { args: ["--version"], stdout: "null", stderr: "null" }).output()).success;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function compare(
  operation: string,
  count: number,
  rounds: number,
  subjects: { baseline: () => Promise<void>; sandbox: () => Promise<void> },
  goal: number,
): Promise<Row> {
  // One warm-up each, so that start-up costs (JIT, the runner's first answer) are not counted.
  await subjects.baseline();
  await subjects.sandbox();
  const baseline: number[] = [];
  const sandbox: number[] = [];
  for (let round = 0; round < rounds; round++) {
    baseline.push(await time(subjects.baseline));
    sandbox.push(await time(subjects.sandbox));
  }
  return { operation, count, baseline: median(baseline), sandbox: median(sandbox), goal };
}

async function sequential(count: number, operation: (index: number) => Promise<unknown>): Promise<void> {
  for (let index = 0; index < count; index++) await operation(index);
}

async function concurrent(count: number, operation: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await operation(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

function printTable(rows: Row[]): void {
  const header = [
    "operation",
    "count",
    "baseline ms",
    "sandbox ms",
    "ratio",
    "baseline us/op",
    "sandbox us/op",
    "goal",
  ];
  const lines = rows.map((row) => [
    row.operation,
    String(row.count),
    row.baseline.toFixed(1),
    row.sandbox.toFixed(1),
    (row.sandbox / row.baseline).toFixed(2),
    (row.baseline / row.count * 1000).toFixed(1),
    (row.sandbox / row.count * 1000).toFixed(1),
    `< ${row.goal}x ${row.sandbox / row.baseline < row.goal ? "met" : "missed"}`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const format = (cells: string[]): string =>
    cells.map((cell, column) => column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])).join("  ");
  console.log(`medians over rounds (files: ${FILE_ROUNDS} rounds, commands: ${COMMAND_ROUNDS} rounds)`);
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}
