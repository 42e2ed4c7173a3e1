/**
 * Cost of tracing per turn: the same N-turn tool-calling conversation against the fake OpenAI server through four
 * agents that differ only in `telemetry`: off (`false`), the default global tracer with no provider registered (a
 * no-op), a real SDK provider exporting to memory, and the same with `recordContent`. They alternate in one process;
 * the memory store keeps storage out of the comparison. Prints medians and the extra milliseconds per turn over "off".
 * Then the listener alone: the events of many turns emitted on a bus, to see the per-turn cost without the noise of
 * HTTP and the model loop.
 *
 * Run: deno run -A bench/tracing_overhead.ts [--quick]
 */

import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { type AgentOptions, init } from "../mod.ts";
import { EventBus } from "../src/events/event_bus.ts";
import { startTracing } from "../src/telemetry/tracing.ts";
import { lookup, RESULT_TEXT, startLookupServer } from "./_lookup_loop.ts";
import { median, time } from "./_timing.ts";

const quick = Deno.args.includes("--quick");
const TURNS = quick ? 20 : 50;
const REPEATS = quick ? 5 : 21;

const server = startLookupServer(() => TURNS);

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const common: AgentOptions = {
  model: "bench:fake-model",
  providers: { bench: { baseURL: server.url } },
  tools: [lookup],
  sandbox: "memory",
  store: "memory",
  maxTurns: 1000,
};
const variants: [string, AgentOptions["telemetry"]][] = [
  ["off", false],
  ["default (no provider)", undefined],
  ["in-memory provider", { tracer: provider.getTracer("bench") }],
  ["in-memory + recordContent", { tracer: provider.getTracer("bench"), recordContent: true }],
];
const agents = await Promise.all(variants.map(([, telemetry]) => init({ ...common, telemetry })));

let sessionNumber = 0;
async function conversation(index: number): Promise<void> {
  const session = await agents[index].session(`bench-${sessionNumber++}`);
  await session.prompt("go");
  exporter.reset();
}

const samples: number[][] = variants.map(() => []);
for (let index = 0; index < agents.length; index++) await conversation(index); // warm-up
for (let repeat = 0; repeat < REPEATS; repeat++) {
  for (let index = 0; index < agents.length; index++) {
    server.requests.length = 0;
    samples[index].push(await time(() => conversation(index)));
  }
}

const baseline = median(samples[0]);
console.log(`${TURNS} turns, ${REPEATS} runs each, medians`);
console.log("telemetry                       ms   extra ms/turn vs off");
for (let index = 0; index < variants.length; index++) {
  const value = median(samples[index]);
  console.log(
    `${variants[index][0].padEnd(28)} ${value.toFixed(1).padStart(6)}   ${
      ((value - baseline) / TURNS).toFixed(3).padStart(8)
    }`,
  );
}

// The listener alone: one operation of many turns, each a turn with three text deltas and one tool call.
function listenerMicroseconds(telemetry: AgentOptions["telemetry"], turns: number): number {
  const bus = new EventBus();
  const tracing = startTracing(bus, telemetry);
  const correlation = { agent: "a", instanceId: "i", session: "s", operationId: "op" };
  const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
  const started = performance.now();
  bus.emit({ type: "operation_start", operationKind: "prompt" }, correlation);
  for (let turn = 0; turn < turns; turn++) {
    const turnId = `turn${turn}`;
    const inTurn = { ...correlation, turnId };
    bus.emit({ type: "turn_start", turnId, model: "bench:fake-model" }, inTurn);
    for (let delta = 0; delta < 3; delta++) bus.emit({ type: "text_delta", turnId, text: "looking up " }, inTurn);
    bus.emit({ type: "turn", turnId, model: "fake-model", usage, durationMs: 1, stopReason: "tool_calls" }, inTurn);
    const call = { turnId, toolName: "lookup", toolCallId: `call${turn}` };
    bus.emit({ type: "tool_start", ...call, args: { key: "k" } }, inTurn);
    bus.emit({ type: "tool_end", ...call, isError: false, result: RESULT_TEXT, durationMs: 1 }, inTurn);
  }
  bus.emit({ type: "operation", operationKind: "prompt", durationMs: 1 }, correlation);
  const elapsed = performance.now() - started;
  tracing?.stop();
  exporter.reset();
  return (elapsed / turns) * 1000;
}

console.log("\nlistener alone (bus + tracing), 5000 turns per run, median of 7");
for (const [name, telemetry] of variants) {
  for (let warm = 0; warm < 5; warm++) listenerMicroseconds(telemetry, 5000);
  const runs = Array.from({ length: 7 }, () => listenerMicroseconds(telemetry, 5000));
  console.log(`${name.padEnd(28)} ${median(runs).toFixed(1).padStart(6)} µs per turn`);
}

for (const agent of agents) await agent.close();
await provider.shutdown();
await server.close();
