// A persistent agent: one history per instance id and session, served at /agents/assistant/<id>.
import { createAgent } from "flue";

export default createAgent((ctx) => ({
  instructions: `You are the assistant of instance ${ctx.id}. Answer briefly.`,
}));
