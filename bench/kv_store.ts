/**
 * The kv store (a local Deno KV file) against the sqlite store in the same run: appends of one history entry, dispatch
 * admissions, claim + complete cycles, and appends from eight concurrent callers to one session (which the kv store
 * serialises by retrying its checked commit). Prints operations per second and kv's ratio to sqlite.
 *
 * Run: deno run -A --unstable-kv bench/kv_store.ts [--quick]
 */

import { join } from "node:path";
import { KvStore, SqliteStore, type Store } from "../mod.ts";
import { median, time } from "./_timing.ts";

const quick = Deno.args.includes("--quick");
const COUNT = quick ? 200 : 1000;
const REPEATS = quick ? 1 : 3;
const SESSIONS = 8;
const CONCURRENT = 8;

const entry = (content: string) => ({
  message: { role: "user" as const, content },
  source: "dispatch" as const,
  operationId: "op",
  timestamp: new Date().toISOString(),
});

type Figures = Record<"append" | "enqueue" | "cycle" | "concurrent", number>;

async function measure(open: (dir: string) => Store): Promise<Figures> {
  const dir = await Deno.makeTempDir({ prefix: "flue-bench-kv-" });
  const store = open(dir);
  try {
    const samples: Record<keyof Figures, number[]> = { append: [], enqueue: [], cycle: [], concurrent: [] };
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      const key = (index: number) => ({ agent: "bench", instanceId: String(repeat), session: `s${index % SESSIONS}` });
      samples.append.push(
        await time(async () => {
          for (let index = 0; index < COUNT; index++) await store.append(key(index), [entry(`m${index}`)]);
        }),
      );
      samples.enqueue.push(
        await time(async () => {
          for (let index = 0; index < COUNT; index++) {
            await store.enqueueDispatch({ key: key(index), input: { message: `m${index}` }, maxAttempts: 3 });
          }
        }),
      );
      samples.cycle.push(
        await time(async () => {
          for (let index = 0; index < COUNT; index++) {
            const record = await store.claimDispatch({ worker: "w", leaseMs: 60_000 });
            if (!record) throw new Error(`Nothing to claim at ${index}`);
            await store.completeDispatch(record.dispatchId, "w", { text: "ok" });
          }
        }),
      );
      const shared = { agent: "bench", instanceId: `shared-${repeat}`, session: "one" };
      samples.concurrent.push(
        await time(async () => {
          await Promise.all(Array.from({ length: CONCURRENT }, async (_, caller) => {
            for (let index = 0; index < COUNT / CONCURRENT; index++) {
              await store.append(shared, [entry(`c${caller}-${index}`)]);
            }
          }));
        }),
      );
    }
    const perSecond = (ms: number[]) => COUNT / (median(ms) / 1000);
    return {
      append: perSecond(samples.append),
      enqueue: perSecond(samples.enqueue),
      cycle: perSecond(samples.cycle),
      concurrent: perSecond(samples.concurrent),
    };
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const sqlite = await measure((dir) => new SqliteStore({ path: join(dir, "flue.db") }));
const kv = await measure((dir) => new KvStore({ path: join(dir, "flue.kv") }));
console.log(`kv store (local Deno KV file) vs sqlite store, ${COUNT} operations per loop, median of ${REPEATS}:`);
const rows: [keyof Figures, string][] = [
  ["append", "append of one entry"],
  ["enqueue", "enqueueDispatch"],
  ["cycle", "claim + complete"],
  ["concurrent", `append, ${CONCURRENT} callers, one session`],
];
for (const [name, label] of rows) {
  console.log(
    `  ${label.padEnd(36)} sqlite ${sqlite[name].toFixed(0).padStart(6)} /s   kv ${
      kv[name].toFixed(0).padStart(6)
    } /s` +
      `  (${(kv[name] / sqlite[name]).toFixed(2)}x)`,
  );
}
