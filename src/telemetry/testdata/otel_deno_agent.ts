/**
 * Run by `otel_deno_test.ts` with `OTEL_DENO=true`: prompts a key-less agent inside a span of the script's own, with
 * the default tracer, so Deno's built-in provider exports the spans.
 *
 * @module
 */

import { trace } from "@opentelemetry/api";
import { defineTool, init } from "../../../mod.ts";
import { TestModel } from "../../../testing.ts";
import { z } from "zod";

const echo = defineTool({
  name: "echo",
  description: "Echoes its text",
  input: z.object({ text: z.string() }),
  run: ({ text }) => text,
});
const model = new TestModel({ script: [{ toolCalls: [{ name: "echo", args: { text: "hi" } }] }, "done"] });
const agent = await init({ name: "otel-check", model, tools: [echo], store: "memory", sandbox: "memory" });
await trace.getTracer("otel-deno-script").startActiveSpan("script", async (span) => {
  await (await agent.session()).prompt("call echo");
  span.end();
});
await agent.close();
