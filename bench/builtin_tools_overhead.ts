/**
 * What the built-in tool schemas cost per turn: the same N-turn `lookup` conversation against the fake OpenAI server,
 * run by a plain loop over the `openai` SDK that sends only its own tool (what a user's own loop would send), by Flue
 * with its default tools (the file tools' schemas in every request) and by Flue with `builtinTools: false`. Both Flue
 * agents use the memory store, so the difference between them is the schemas alone. Runs alternate in one process;
 * prints medians, the ratios to the plain loop, and the overhead in microseconds per turn.
 *
 * Run: deno run -A bench/builtin_tools_overhead.ts [--quick]
 */

import OpenAI from "openai";
import { init } from "../mod.ts";
import { lookup, plainLookupLoop, startLookupServer } from "./_lookup_loop.ts";
import { median, time } from "./_timing.ts";

const quick = Deno.args.includes("--quick");
const SIZES = quick ? [10, 50] : [10, 50, 200];
const REPEATS: Record<number, number> = quick ? { 10: 5, 50: 3 } : { 10: 21, 50: 11, 200: 5 };

let turnsWanted = 0;
const server = startLookupServer(() => turnsWanted);
const projectDir = await Deno.makeTempDir({ prefix: "flue-bench-builtin-" });
const common = {
  model: "bench:fake-model",
  providers: { bench: { baseURL: server.url } },
  tools: [lookup],
  sandbox: "memory",
  store: "memory" as const,
  projectDir,
  maxTurns: 1000,
};
const withBuiltins = await init(common);
const withoutBuiltins = await init({ ...common, builtinTools: false });

// The plain loop's own tool, exactly as Flue sends it, so the schemas differ only by what Flue adds.
turnsWanted = 1;
await (await withoutBuiltins.session("capture")).prompt("go");
const captured = server.requests[0].body as { messages: { content: string }[]; tools: OpenAI.ChatCompletionTool[] };
const ownTool = captured.tools.filter((tool) => tool.type === "function" && tool.function.name === "lookup");
const requestBytes = async (agent: typeof withBuiltins): Promise<number> => {
  server.requests.length = 0;
  await (await agent.session(`size-${crypto.randomUUID()}`)).prompt("go");
  return JSON.stringify(server.requests[0].body).length;
};
const client = new OpenAI({ apiKey: "bench", baseURL: server.url, maxRetries: 0 });

function plainLoop(turns: number): Promise<void> {
  return plainLookupLoop(client, { systemPrompt: captured.messages[0].content, tools: ownTool }, turns);
}

let sessionNumber = 0;
const flueLoop = (agent: typeof withBuiltins) => async (): Promise<void> => {
  await (await agent.session(`bench-${sessionNumber++}`)).prompt("go");
};

console.log(
  `first request: ${await requestBytes(withBuiltins)} B with the built-in tools, ${await requestBytes(
    withoutBuiltins,
  )} B with builtinTools: false`,
);
console.log("turns  plain ms  | default ms  ratio  us/turn  | builtinTools:false ms  ratio  us/turn");
for (const turns of SIZES) {
  turnsWanted = turns;
  await plainLoop(turns); // warm-up
  await flueLoop(withBuiltins)();
  await flueLoop(withoutBuiltins)();
  const plain: number[] = [];
  const all: number[] = [];
  const none: number[] = [];
  for (let i = 0; i < REPEATS[turns]; i++) {
    plain.push(await time(() => plainLoop(turns)));
    all.push(await time(flueLoop(withBuiltins)));
    none.push(await time(flueLoop(withoutBuiltins)));
    server.requests.length = 0;
  }
  const [p, a, n] = [median(plain), median(all), median(none)];
  console.log(
    [
      String(turns).padStart(5),
      p.toFixed(1).padStart(8),
      " | ",
      a.toFixed(1).padStart(9),
      (a / p).toFixed(3).padStart(6),
      ((a - p) / turns * 1000).toFixed(0).padStart(7),
      " | ",
      n.toFixed(1).padStart(20),
      (n / p).toFixed(3).padStart(6),
      ((n - p) / turns * 1000).toFixed(0).padStart(7),
    ].join("  "),
  );
}

await withBuiltins.close();
await withoutBuiltins.close();
await server.close();
await Deno.remove(projectDir, { recursive: true });
