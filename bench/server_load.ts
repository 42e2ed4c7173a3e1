/**
 * Server load: concurrent clients prompt a test-model agent served by `createApp` (sqlite store in a temp dir, so
 * every request persists the session's history; memory sandbox; a project directory with an AGENTS.md), against a bare Hono hello-world app (parse a JSON
 * body, answer JSON) measured in the same run. Both listen on 127.0.0.1:0 in this process; the clients run in a
 * Web Worker, so they do not share the servers' thread. Rounds alternate which target goes first, to spread noise.
 *
 * Prints requests per second, p50/p99 latency, errors (must be 0: the exit status is 1 otherwise), RSS before and
 * after, and the ratio of the Flue rate to the bare rate against the goal of 0.3. Also the process's CPU time per
 * request (servers and clients together), which other load on a shared machine disturbs less than the rates.
 *
 * Run: deno run -A bench/server_load.ts [--requests 2000] [--concurrency 50] [--rounds 2] [--quick]
 * Profile one target: deno run -A --cpu-prof bench/server_load.ts --only flue
 */

import { join } from "node:path";
import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { Hono } from "hono";
import { createApp, SqliteStore } from "../mod.ts";
import type { LoadRequest, LoadResult } from "./_load_client.ts";

const GOAL = 0.3;
const { values } = parseArgs({
  args: Deno.args,
  options: {
    requests: { type: "string" },
    concurrency: { type: "string" },
    rounds: { type: "string" },
    quick: { type: "boolean" },
    // Measures one target alone, for profiling (deno run -A --cpu-prof bench/server_load.ts --only flue).
    only: { type: "string" },
  },
});
const requests = bounded(values.requests ?? (values.quick ? "400" : "2000"), "--requests", 1, 100_000);
const concurrency = bounded(values.concurrency ?? "50", "--concurrency", 1, 500);
const rounds = bounded(values.rounds ?? "2", "--rounds", 1, 20);
if (values.only !== undefined && values.only !== "flue" && values.only !== "bare") {
  console.error(`--only must be "flue" or "bare", got "${values.only}"`);
  Deno.exit(2);
}
const measured = values.only === undefined ? (["bare", "flue"] as const) : [values.only as "bare" | "flue"];

const dir = await Deno.makeTempDir({ prefix: "flue-bench-server-" });
const store = new SqliteStore({ path: join(dir, "flue.db") });
// Like a project from `flue init`: its AGENTS.md is read before every prompt.
await Deno.writeTextFile(join(dir, "AGENTS.md"), "# Project instructions\n\nAnswer briefly.\n");
const flueApp = createApp({
  agents: { bench: { model: "test", sandbox: "memory" } },
  store,
  defaults: { projectDir: dir },
});
const bareApp = new Hono();
bareApp.post("/hello", async (c) => {
  const body = await c.req.json<{ message: string }>();
  return c.json({ text: `Hello, ${body.message}` });
});
const listen = { hostname: "127.0.0.1", port: 0, onListen() {} };
const flueServer = Deno.serve(listen, flueApp.fetch);
const bareServer = Deno.serve(listen, bareApp.fetch);
const targets = {
  bare: { url: `http://127.0.0.1:${bareServer.addr.port}/hello`, sessions: false },
  flue: { url: `http://127.0.0.1:${flueServer.addr.port}/agents/bench/load`, sessions: true },
};
const worker = new Worker(new URL("./_load_client.ts", import.meta.url), { type: "module" });

let failed = false;
try {
  // Warm both paths (JIT, connection pools, sqlite statements) before measuring anything.
  const warmup = Math.min(200, requests);
  for (const name of measured) {
    const result = await load({ ...targets[name], concurrency, requests: warmup, label: "warmup" });
    if (result.errors) throw new Error(`Warm-up of ${name} failed: ${result.firstError}`);
  }
  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = Deno.memoryUsage().rss;
  const heapBefore = Deno.memoryUsage().heapUsed;
  const totals = { bare: emptyTotals(), flue: emptyTotals() };
  for (let round = 0; round < rounds; round++) {
    const count = Math.floor(requests / rounds) + (round < requests % rounds ? 1 : 0);
    const order = round % 2 === 0 ? measured : [...measured].reverse();
    for (const name of order) {
      const cpuBefore = cpuUsage();
      const result = await load({ ...targets[name], concurrency, requests: count, label: "load" });
      const cpu = cpuUsage(cpuBefore);
      const total = totals[name];
      total.cpuMicros += cpu.user + cpu.system;
      total.elapsedMs += result.elapsedMs;
      total.latencies.push(...result.latencies);
      total.errors += result.errors;
      total.firstError ??= result.firstError;
    }
  }
  const rssAfter = Deno.memoryUsage().rss;
  // With --v8-flags=--expose-gc, the live heap after a full collection tells retained memory from garbage.
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  const heapAfterGc = collect ? Deno.memoryUsage().heapUsed : undefined;
  const persisted = measured.includes("flue") ? await countHistory(concurrency) : 2 * requests;

  console.log(
    `Server load: ${requests} requests per target, ${concurrency} concurrent clients, ${rounds} alternating rounds`,
  );
  console.log(`(flue: test model, sqlite store, memory sandbox; a session per client, so history grows per client)\n`);
  const rates: Record<string, number> = {};
  for (const name of measured) {
    const total = totals[name];
    const rate = total.latencies.length / (total.elapsedMs / 1000);
    rates[name] = rate;
    console.log(
      `${name.padEnd(5)} ${rate.toFixed(0).padStart(7)} req/s   p50 ${percentile(total.latencies, 50).toFixed(1)} ms` +
        `   p99 ${percentile(total.latencies, 99).toFixed(1)} ms   CPU ${
          (total.cpuMicros / total.latencies.length).toFixed(0)
        } µs/req   errors ${total.errors}` +
        (total.firstError ? ` (first: ${total.firstError})` : ""),
    );
    if (total.errors) failed = true;
  }
  console.log(`\nRSS before ${mb(rssBefore)}, after ${mb(rssAfter)} (${mb(rssAfter - rssBefore)} more)`);
  if (heapAfterGc !== undefined) {
    console.log(`Heap in use after a full GC: ${mb(heapBefore)} before, ${mb(heapAfterGc)} after`);
  }
  console.log(`History entries persisted in the measured sessions: ${persisted} (2 per request expected)`);
  if (measured.length === 2) {
    const ratio = rates.flue / rates.bare;
    console.log(`Ratio flue/bare: ${ratio.toFixed(3)} (goal at least ${GOAL}: ${ratio >= GOAL ? "met" : "NOT met"})`);
  }
  if (persisted < 2 * requests) {
    console.error(`Expected at least ${2 * requests} persisted history entries, found ${persisted}`);
    failed = true;
  }
} finally {
  worker.terminate();
  await flueApp.close();
  await Promise.all([flueServer.shutdown(), bareServer.shutdown()]);
  await store.close();
  await Deno.remove(dir, { recursive: true });
}
if (failed) Deno.exit(1);

function load(request: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<LoadResult>) => resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`The load worker failed: ${event.message}`));
    };
    worker.postMessage(request);
  });
}

async function countHistory(clients: number): Promise<number> {
  let count = 0;
  for (let index = 0; index < clients; index++) {
    const entries = await store.load({ agent: "bench", instanceId: "load", session: `load-client-${index}` });
    count += entries.length;
  }
  return count;
}

function emptyTotals(): {
  elapsedMs: number;
  cpuMicros: number;
  latencies: number[];
  errors: number;
  firstError?: string;
} {
  return { elapsedMs: 0, cpuMicros: 0, latencies: [], errors: 0 };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function bounded(raw: string, flag: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    console.error(`${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
    Deno.exit(2);
  }
  return value;
}
