/**
 * Harness overhead per turn: the same N-turn tool-calling conversation against the fake OpenAI server, once with a
 * plain loop over the `openai` SDK (the floor) and through `session.prompt` (events, validation, and the turn appended
 * to the store before the next one starts), alternating in one process, for N = 10, 50 and 200. Flue runs twice:
 * with the default sqlite store (durable) and with the memory store, so the cost of durability shows on its own.
 * Prints medians, the ratios, and the overhead per turn.
 *
 * Run: deno task bench   (or: deno run -A bench/turn_overhead.ts [--quick])
 */

import OpenAI from "openai";
import { init } from "../mod.ts";
import { lookup, plainLookupLoop, startLookupServer } from "./_lookup_loop.ts";
import { median, time } from "./_timing.ts";

const quick = Deno.args.includes("--quick");
const SIZES = quick ? [10, 50] : [10, 50, 200];
const REPEATS: Record<number, number> = quick ? { 10: 3, 50: 2 } : { 10: 21, 50: 11, 200: 7 };

let turnsWanted = 0;
const server = startLookupServer(() => turnsWanted);

const stateDir = await Deno.makeTempDir({ prefix: "flue-bench-" });
const common = {
  model: "bench:fake-model",
  providers: { bench: { baseURL: server.url } },
  tools: [lookup],
  sandbox: "memory",
  projectDir: stateDir,
  maxTurns: 1000,
};
const agent = await init({ ...common, store: { kind: "sqlite", path: `${stateDir}/flue.db` } });
const memoryAgent = await init({ ...common, store: "memory" });

// The plain loop sends exactly what Flue sends: the same system prompt and the same tool list.
turnsWanted = 1;
await (await agent.session("capture")).prompt("go");
const captured = server.requests[0].body as {
  messages: { role: string; content: string }[];
  tools: OpenAI.ChatCompletionTool[];
};
const systemPrompt = captured.messages[0].content;
const tools = captured.tools;
const client = new OpenAI({ apiKey: "bench", baseURL: server.url, maxRetries: 0 });

function plainLoop(turns: number): Promise<void> {
  return plainLookupLoop(client, { systemPrompt, tools }, turns);
}

let sessionNumber = 0;
async function flueLoop(): Promise<void> {
  const session = await agent.session(`bench-${sessionNumber++}`);
  await session.prompt("go");
}
async function flueMemoryLoop(): Promise<void> {
  const session = await memoryAgent.session(`bench-${sessionNumber++}`);
  await session.prompt("go");
}

console.log("turns  plain ms  flue ms  ratio  overhead ms/turn  |  flue (memory store) ms  ratio  overhead ms/turn");
const overheads: number[] = [];
for (const turns of SIZES) {
  turnsWanted = turns;
  await plainLoop(turns); // warm-up
  await flueLoop();
  await flueMemoryLoop();
  const plain: number[] = [];
  const flue: number[] = [];
  const flueMemory: number[] = [];
  for (let i = 0; i < REPEATS[turns]; i++) {
    server.requests.length = 0;
    plain.push(await time(() => plainLoop(turns)));
    server.requests.length = 0;
    flue.push(await time(() => flueLoop()));
    server.requests.length = 0;
    flueMemory.push(await time(() => flueMemoryLoop()));
  }
  const plainMedian = median(plain);
  const flueMedian = median(flue);
  const memoryMedian = median(flueMemory);
  const overhead = (flueMedian - plainMedian) / turns;
  overheads.push(overhead);
  console.log(
    [
      String(turns).padStart(5),
      plainMedian.toFixed(1).padStart(8),
      flueMedian.toFixed(1).padStart(7),
      (flueMedian / plainMedian).toFixed(3).padStart(6),
      overhead.toFixed(3).padStart(16),
      " | ",
      memoryMedian.toFixed(1).padStart(22),
      (memoryMedian / plainMedian).toFixed(3).padStart(6),
      ((memoryMedian - plainMedian) / turns).toFixed(3).padStart(16),
    ].join("  "),
  );
}
const first = overheads[0];
const last = overheads.at(-1)!;
console.log(
  `overhead per turn (sqlite) at ${SIZES.at(-1)} turns vs ${SIZES[0]}: ${
    first > 0 ? (last / first).toFixed(2) : "n/a (no overhead measured at the smallest size)"
  }x (goal: at most 1.2x); goal ratio at every size: at most 1.05`,
);

await agent.close();
await memoryAgent.close();
await server.close();
await Deno.remove(stateDir, { recursive: true });
