import assert from "node:assert/strict";
import { SpanStatusCode } from "@opentelemetry/api";
import { BudgetExceededError, init } from "../../mod.ts";
import { startFakeOpenAI } from "../../testing.ts";
import { only, spanRecorder } from "./testdata/span_recorder.ts";

Deno.test("chat and invoke_agent spans carry the cost, and a passed budget ends the span as BudgetExceededError", async () => {
  await using server = startFakeOpenAI({
    steps: [
      { text: "priced", usage: { inputTokens: 2000, outputTokens: 1000 } },
      { text: "too dear", usage: { inputTokens: 2000, outputTokens: 1000 } },
    ],
  });
  const recorder = spanRecorder();
  const agent = await init({
    name: "pricer",
    model: "fake:house-model",
    providers: { fake: { baseURL: server.url } },
    prices: { "house-model": { inputPerMillion: 1, outputPerMillion: 2 } },
    store: "memory",
    sandbox: "memory",
    telemetry: { tracer: recorder.tracer },
  });
  const session = await agent.session("s1");
  // 2000 tokens in at $1 per million and 1000 out at $2 per million cost $0.004.
  assert.equal((await session.prompt("hi")).usage.costUsd, 0.004);
  await assert.rejects(session.prompt("again", { maxCostUsd: 0.001 }), BudgetExceededError);
  await agent.close();

  const spans = recorder.spans();
  const chats = spans.filter((span) => span.name === "chat house-model");
  assert.equal(chats.length, 2);
  for (const chat of chats) assert.equal(chat.attributes["flue.usage.cost_usd"], 0.004);
  const operations = spans.filter((span) => span.name === "invoke_agent pricer");
  assert.equal(operations[0].attributes["flue.usage.cost_usd"], 0.004);
  const failed = only(operations.slice(1), "invoke_agent pricer");
  assert.equal(failed.status.code, SpanStatusCode.ERROR);
  assert.equal(failed.attributes["error.type"], "BudgetExceededError");
});
