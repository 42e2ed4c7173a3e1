// A workflow module whose types the typed-client test checks across HTTP.
import { z } from "zod";
import type { FlueContext } from "../../agent/workflow.ts";

export const payload = z.object({ text: z.string(), maxWords: z.int().default(10) });

export function run(ctx: FlueContext<z.output<typeof payload>>): Promise<{ summary: string; words: number }> {
  const words = ctx.payload.text.split(/\s+/).slice(0, ctx.payload.maxWords);
  return Promise.resolve({ summary: words.join(" "), words: words.length });
}
