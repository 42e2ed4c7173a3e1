/**
 * What the remote sandbox layer costs per operation, measured against the providers' local fakes: 50 reads, 50 writes
 * and 20 `cat` commands through `deno-sandbox` and `e2b` (real SDK, fake on 127.0.0.1), against the same operations
 * made directly on the fake machine (the same host directory and subprocess, without SDK, wire protocol or Flue).
 * Rounds alternate in one process; the table shows medians over rounds and the ratio. A real provider adds its network
 * round trips on top, which no machine here can measure. No absolute time is asserted.
 *
 * Run: deno run -A bench/remote_sandbox_ops.ts [--quick]
 */

import { join } from "node:path";
import { createNamedRemoteSandbox, type RemoteSandboxName } from "../src/sandbox/remote/remote_providers.ts";
import type { Sandbox } from "../src/sandbox/sandbox.ts";
import { startFakeDenoSandbox } from "../src/testing/fake_deno_sandbox.ts";
import { startFakeE2B } from "../src/testing/fake_e2b.ts";
import { median, time } from "./_timing.ts";

const quick = Deno.args.includes("--quick");
const FILES = 50;
const COMMANDS = 20;
const ROUNDS = quick ? 2 : 5;
const CONTENT = "0123456789abcdef".repeat(64);

interface Fake {
  options: Record<string, unknown>;
  machineIds(): string[];
  machine(id: string): { dir: string } | undefined;
  close(): Promise<void>;
}

const PROVIDERS: [RemoteSandboxName, () => Promise<Fake>, string][] = [
  ["deno-sandbox", startFakeDenoSandbox, "/workspace"],
  ["e2b", startFakeE2B, "/home/user/workspace"],
];

const rows: string[] = [];
for (const [name, start, root] of PROVIDERS) {
  const fake = await start();
  const stateDir = await Deno.makeTempDir({ prefix: "flue-bench-remote-" });
  const sandbox: Sandbox = await createNamedRemoteSandbox(name, {
    projectDir: stateDir,
    stateDir,
    agent: "bench",
    instanceId: "1",
    session: "main",
    policy: {
      allowWrite: true,
      allowShell: true,
      allowedCommands: ["cat"],
      allowCompoundCommands: false,
      allowNet: false,
    },
  }, fake.options);
  await sandbox.writeFile("a.txt", CONTENT);
  const hostRoot = join(fake.machine(fake.machineIds()[0])!.dir, root);
  const direct = { read: [] as number[], write: [] as number[], exec: [] as number[] };
  const remote = { read: [] as number[], write: [] as number[], exec: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    direct.read.push(
      await time(async () => {
        for (let i = 0; i < FILES; i++) await Deno.readTextFile(join(hostRoot, "a.txt"));
      }),
    );
    remote.read.push(
      await time(async () => {
        for (let i = 0; i < FILES; i++) await sandbox.readFile("a.txt");
      }),
    );
    direct.write.push(
      await time(async () => {
        for (let i = 0; i < FILES; i++) await Deno.writeTextFile(join(hostRoot, `w${i}.txt`), CONTENT);
      }),
    );
    remote.write.push(
      await time(async () => {
        for (let i = 0; i < FILES; i++) await sandbox.writeFile(`w${i}.txt`, CONTENT);
      }),
    );
    direct.exec.push(
      await time(async () => {
        for (let i = 0; i < COMMANDS; i++) await new Deno.Command("cat", { args: ["a.txt"], cwd: hostRoot }).output();
      }),
    );
    remote.exec.push(
      await time(async () => {
        for (let i = 0; i < COMMANDS; i++) await sandbox.exec("cat a.txt");
      }),
    );
  }
  for (const [operation, count] of [["read", FILES], ["write", FILES], ["exec", COMMANDS]] as const) {
    const baseline = median(direct[operation]) / count;
    const measured = median(remote[operation]) / count;
    rows.push(
      `| ${name} | ${operation} | ${baseline.toFixed(2)} ms | ${measured.toFixed(2)} ms | ${
        (measured / baseline).toFixed(1)
      }x |`,
    );
  }
  await sandbox.close();
  await fake.close();
  await Deno.remove(stateDir, { recursive: true });
}
console.log("| sandbox | operation | direct on the fake machine | through Flue + SDK + fake | ratio |");
console.log("| --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
