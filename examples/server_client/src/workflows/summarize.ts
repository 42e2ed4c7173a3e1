// A finite workflow: POST /workflows/summarize, or `flue run summarize --payload '{"text":"..."}'`.
import { createAgent, type FlueContext } from "flue";
import { z } from "zod";

export const payload = z.object({ text: z.string().min(1) });

const summarizer = createAgent(() => ({ instructions: "You summarise text in one sentence." }));

export async function run(ctx: FlueContext<z.infer<typeof payload>>): Promise<{ summary: string; words: number }> {
  const session = await (await ctx.init(summarizer)).session();
  const response = await session.prompt(`Summarise:\n${ctx.payload.text}`, {
    result: z.object({ summary: z.string() }),
  });
  return { summary: response.data.summary, words: ctx.payload.text.split(/\s+/).length };
}
