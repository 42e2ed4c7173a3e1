import assert from "node:assert/strict";
import { costOf, DEFAULT_PRICES, priceOf } from "./prices.ts";

Deno.test("priceOf() finds a model by its string, its name, or its family for a dated snapshot", () => {
  assert.equal(priceOf("openai:gpt-4o"), DEFAULT_PRICES["gpt-4o"]);
  assert.equal(priceOf("gpt-4o-2024-08-06"), DEFAULT_PRICES["gpt-4o"]);
  // The longest family wins: gpt-4o-mini is not priced as gpt-4o.
  assert.equal(priceOf("gpt-4o-mini-2024-07-18"), DEFAULT_PRICES["gpt-4o-mini"]);
  assert.equal(priceOf("anthropic:claude-sonnet-4-20250514"), DEFAULT_PRICES["claude-sonnet-4"]);
  assert.equal(priceOf("test"), undefined);
  assert.equal(priceOf("gpt-4oz"), undefined, "a prefix without a dash is another model");
});

Deno.test("priceOf() takes overrides before the built-in table, for every name it tries", () => {
  const mine = { inputPerMillion: 9, outputPerMillion: 9 };
  assert.equal(priceOf("openai:gpt-4o", { "gpt-4o": mine }), mine);
  assert.equal(priceOf(["gpt-4o-2024-08-06", "openai:gpt-4o"], { "openai:gpt-4o": mine }), mine);
  assert.equal(priceOf("myproxy:house", { "myproxy:house": mine }), mine);
});

Deno.test("costOf() prices input and output tokens per million", () => {
  const usage = { inputTokens: 2_000_000, outputTokens: 500_000, totalTokens: 2_500_000 };
  assert.equal(costOf(usage, { inputPerMillion: 1.5, outputPerMillion: 4 }), 5);
});
