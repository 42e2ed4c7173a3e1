import { createAgent, type FlueContext } from "flue";
const a = createAgent(() => ({}));
export async function run(ctx: FlueContext<unknown>) {
  const s = await (await ctx.init(a)).session();
  return (await s.prompt("hi")).text;
}
