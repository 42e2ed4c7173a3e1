import { z } from "zod";
import { defineTool, init } from "../mod.ts";
import { startFakeOpenAI } from "../testing.ts";
const server = startFakeOpenAI({
  handler: (request) => {
    const body = request.body as { messages: { role: string }[] };
    const n = body.messages.filter((m) => m.role === "tool").length;
    return n < 1 ? { toolCalls: [{ name: "lookup", arguments: { key: `k${n}` } }] } : { text: "done" };
  },
});
const lookup = defineTool({
  name: "lookup",
  description: "x",
  input: z.object({ key: z.string() }),
  run: ({ key }) => key + "record ".repeat(80),
});
const dir = await Deno.makeTempDir();
const agent = await init({
  model: "bench:fake-model",
  providers: { bench: { baseURL: server.url } },
  tools: [lookup],
  sandbox: "memory",
  store: { kind: "sqlite", path: `${dir}/flue.db` },
  projectDir: dir,
  maxTurns: 1000,
});
const t = performance.now();
for (let i = 0; i < 500; i++) {
  server.requests.length = 0;
  await (await agent.session(`s${i}`)).prompt("go");
}
console.log("ms per op (2 turns)", ((performance.now() - t) / 500).toFixed(3));
await agent.close();
await server.close();
