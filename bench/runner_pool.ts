/**
 * Runner processes under `flue serve`: a project from `flue init` (test model, the default `virtual` sandbox, an
 * AGENTS.md read through the sandbox before every prompt) served by a `flue serve` subprocess, while this process
 * samples the server's process tree (runner count, total RSS of the server and its children) every 100 ms.
 *
 * 1. Cold against warm: `--pairs` new sessions one after another; each gets a first prompt (cold: its sandbox is
 *    created then) and a second one (warm). Prints both p50 and their ratio (goal: cold at most 2x warm).
 * 2. A burst: `--burst` new sessions prompted at once. Prints p50 and p99 (goal: p99 under 1 s).
 * 3. Load: `--sessions` new sessions, each prompted once, by `--concurrency` clients, spread over `--instances` agent
 *    instances. Prints the most runner processes and the most total RSS seen (goals: never above the cap, at most
 *    500 MB).
 *
 * The cap is `FLUE_MAX_RUNNERS` when set, else 2x the cores (printed). Every loop is bounded by the counts given.
 *
 * Every prompt is `--message`, by default one that makes the test model call the `read` tool, so that each session
 * does a file operation (a session that touches no file never creates its sandbox, so "Hello" measures no runner).
 *
 * Run: deno run -A bench/runner_pool.ts [--sessions 1000] [--concurrency 50] [--instances 1] [--pairs 20] [--burst 50]
 *   [--message 'Please read "notes.md"']
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sessions: { type: "string" },
    concurrency: { type: "string" },
    instances: { type: "string" },
    pairs: { type: "string" },
    burst: { type: "string" },
    message: { type: "string" },
  },
});
const message = values.message ?? 'Please read "notes.md"';
const sessions = bounded(values.sessions ?? "1000", "--sessions", 1, 20_000);
const concurrency = bounded(values.concurrency ?? "50", "--concurrency", 1, 500);
const instances = bounded(values.instances ?? "1", "--instances", 1, 10_000);
const pairs = bounded(values.pairs ?? "20", "--pairs", 1, 1000);
const burst = bounded(values.burst ?? "50", "--burst", 1, 1000);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RSS_GOAL_MB = 500;

const dir = await Deno.makeTempDir({ prefix: "flue-bench-runners-" });
const init = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "--quiet", `${ROOT}cli.ts`, "init", dir],
  stdout: "null",
  stderr: "piped",
}).output();
if (!init.success) throw new Error(`flue init failed: ${new TextDecoder().decode(init.stderr)}`);

const server = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "--quiet", "--config", join(dir, "deno.json"), `${ROOT}cli.ts`, "serve", "--port", "0"],
  cwd: dir,
  env: { NO_COLOR: "1" },
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
}).spawn();
const stderrText = new Response(server.stderr).text();
let failed = false;
let sampler: ReturnType<typeof setInterval> | undefined;
try {
  const url = await listeningUrl(server.stdout);
  const cap = Deno.env.get("FLUE_MAX_RUNNERS") ?? `${2 * navigator.hardwareConcurrency} (2x cores, when pooled)`;
  console.log(
    `Runner pool under flue serve: cap ${cap}; ${sessions} sessions, ${concurrency} clients, ` +
      `${instances} instance(s)\n`,
  );
  // Warm the server (module loading, sqlite, the first runner) before anything is measured.
  await prompt(url, "warmup", "warmup", message);

  const cold: number[] = [];
  const warm: number[] = [];
  for (let index = 0; index < pairs; index++) {
    cold.push(await timed(() => prompt(url, "pairs", `pair-${index}`, message)));
    warm.push(await timed(() => prompt(url, "pairs", `pair-${index}`, message)));
  }
  const ratio = percentile(cold, 50) / percentile(warm, 50);
  console.log(
    `first prompt, new session   p50 ${ms(percentile(cold, 50))}   warm session p50 ${ms(percentile(warm, 50))}   ` +
      `ratio ${ratio.toFixed(2)} (goal at most 2: ${ratio <= 2 ? "met" : "NOT met"})`,
  );

  const burstLatencies = await Promise.all(
    Array.from({ length: burst }, (_, index) => timed(() => prompt(url, "burst", `burst-${index}`, message))),
  );
  const p99 = percentile(burstLatencies, 99);
  console.log(
    `${burst} new sessions at once    p50 ${ms(percentile(burstLatencies, 50))}   p99 ${ms(p99)} ` +
      `(goal p99 under 1000 ms: ${p99 < 1000 ? "met" : "NOT met"})`,
  );

  const peak = { runners: 0, rssBytes: 0 };
  const sample = () => {
    const tree = processTree(server.pid);
    peak.runners = Math.max(peak.runners, tree.runners);
    peak.rssBytes = Math.max(peak.rssBytes, tree.rssBytes);
  };
  sampler = setInterval(sample, 100);
  let next = 0;
  let errors = 0;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < sessions) {
      const index = next++;
      try {
        latencies.push(await timed(() => prompt(url, `load-${index % instances}`, `load-${index}`, message)));
      } catch (error) {
        errors++;
        if (errors === 1) console.error(`First error: ${(error as Error).message}`);
      }
    }
  }));
  const elapsed = performance.now() - started;
  sample();
  clearInterval(sampler);
  const after = processTree(server.pid);
  console.log(
    `${sessions} sessions           ${(sessions / (elapsed / 1000)).toFixed(0)} sessions/s   p50 ` +
      `${ms(percentile(latencies, 50))}   p99 ${ms(percentile(latencies, 99))}   errors ${errors}`,
  );
  console.log(
    `peak runner processes ${peak.runners}; peak RSS of server and children ${mb(peak.rssBytes)} ` +
      `(goal at most ${RSS_GOAL_MB} MB: ${peak.rssBytes <= RSS_GOAL_MB * 1024 * 1024 ? "met" : "NOT met"}); ` +
      `after: ${after.runners} runners, ${mb(after.rssBytes)}`,
  );
  if (errors > 0) failed = true;
} finally {
  clearInterval(sampler);
  try {
    server.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  await server.status;
  const stderr = await stderrText;
  if (stderr.trim() !== "" && failed) console.error(stderr.slice(-2000));
  await Deno.remove(dir, { recursive: true });
}
if (failed) Deno.exit(1);

async function prompt(url: string, instance: string, session: string, text: string): Promise<void> {
  const response = await fetch(`${url}/agents/assistant/${instance}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message: text, session }),
  });
  const answer = await response.text();
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${answer.slice(0, 300)}`);
}

async function listeningUrl(stdout: ReadableStream<Uint8Array>): Promise<string> {
  let seen = "";
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = setTimeout(() => reader.cancel(), 60_000);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`flue serve exited before listening: ${seen}`);
      seen += value;
      const match = seen.match(/Listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        // Keep draining stdout so that the server never blocks on a full pipe.
        void (async () => {
          for (;;) if ((await reader.read()).done) break;
        })().catch(() => {});
        return match[1];
      }
    }
  } finally {
    clearTimeout(deadline);
  }
}

/** The server's descendants: how many are runner processes, and the RSS of the server and all of them. */
function processTree(rootPid: number): { runners: number; rssBytes: number } {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(parent) ?? [];
      list.push(Number(entry.name));
      children.set(parent, list);
    } catch {
      // The process ended meanwhile.
    }
  }
  let runners = 0;
  let rssBytes = 0;
  const queue = [rootPid];
  for (let index = 0; index < queue.length && index < 100_000; index++) {
    const pid = queue[index];
    queue.push(...(children.get(pid) ?? []));
    try {
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      rssBytes += Number(status.match(/VmRSS:\s+(\d+) kB/)?.[1] ?? 0) * 1024;
      if (pid !== rootPid) {
        const command = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
        // The runner program travels as a data: URL; under bubblewrap, bwrap is its parent: one runner, not two.
        const program = command.slice(0, command.indexOf("\0"));
        if (command.includes("data:application/typescript") && !program.endsWith("bwrap")) runners++;
      }
    } catch {
      // The process ended meanwhile.
    }
  }
  return { runners, rssBytes };
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

function bounded(raw: string, flag: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    console.error(`${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
    Deno.exit(2);
  }
  return value;
}
