/**
 * Dispatch queue throughput on the sqlite store: admissions, then claim + complete cycles, in a bounded loop in one
 * process, against a baseline measured in the same run: appending one history entry (one write transaction, as each
 * queue call is). Runs once with an empty table of finished dispatches and once with 20,000 finished ones, to show a
 * claim's cost does not grow with the done backlog. Prints operations per second and the ratio to the baseline.
 *
 * Run: deno run -A bench/dispatch_queue.ts [--quick]
 */

import { join } from "node:path";
import { SqliteStore } from "../mod.ts";
import { median, time } from "./_timing.ts";

const quick = Deno.args.includes("--quick");
const COUNT = quick ? 300 : 2000;
const REPEATS = quick ? 1 : 5;
const SESSIONS = 8;

async function measure(backlog: number): Promise<{ append: number; enqueue: number; cycle: number }> {
  const dir = await Deno.makeTempDir({ prefix: "flue-bench-dispatch-" });
  const store = new SqliteStore({ path: join(dir, "flue.db") });
  try {
    for (let index = 0; index < backlog; index++) {
      const key = { agent: "bench", instanceId: "old", session: `s${index % 100}` };
      const { record } = await store.enqueueDispatch({ key, input: { message: "old" }, maxAttempts: 1 });
      await store.claimDispatch({ worker: "w", leaseMs: 60_000 });
      await store.completeDispatch(record.dispatchId, "w", "ok");
    }
    const appends: number[] = [];
    const enqueues: number[] = [];
    const cycles: number[] = [];
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      appends.push(
        await time(async () => {
          for (let index = 0; index < COUNT; index++) {
            await store.append({ agent: "bench", instanceId: String(repeat), session: `s${index % SESSIONS}` }, [{
              message: { role: "user", content: `m${index}` },
              source: "dispatch",
              operationId: "op",
              timestamp: new Date().toISOString(),
            }]);
          }
        }),
      );
      enqueues.push(
        await time(async () => {
          for (let index = 0; index < COUNT; index++) {
            const key = { agent: "bench", instanceId: String(repeat), session: `s${index % SESSIONS}` };
            await store.enqueueDispatch({ key, input: { message: `m${index}` }, maxAttempts: 3 });
          }
        }),
      );
      cycles.push(
        await time(async () => {
          for (let index = 0; index < COUNT; index++) {
            const record = await store.claimDispatch({ worker: "w", leaseMs: 60_000 });
            if (!record) throw new Error(`Nothing to claim at ${index}`);
            await store.completeDispatch(record.dispatchId, "w", { text: "ok" });
          }
        }),
      );
    }
    const perSecond = (ms: number[]) => COUNT / (median(ms) / 1000);
    return { append: perSecond(appends), enqueue: perSecond(enqueues), cycle: perSecond(cycles) };
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

for (const backlog of quick ? [0] : [0, 20_000]) {
  const { append, enqueue, cycle } = await measure(backlog);
  console.log(`sqlite dispatch queue, ${backlog} finished dispatches already stored, ${COUNT} per loop:`);
  console.log(`  baseline append of one entry  ${append.toFixed(0).padStart(7)} /s`);
  console.log(
    `  enqueueDispatch               ${enqueue.toFixed(0).padStart(7)} /s  (${(enqueue / append).toFixed(2)}x)`,
  );
  console.log(`  claim + complete              ${cycle.toFixed(0).padStart(7)} /s  (${(cycle / append).toFixed(2)}x)`);
}
