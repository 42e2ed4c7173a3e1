/**
 * What model calls cost: a table of list prices in US dollars per million tokens, and the lookup that turns a call's
 * usage into dollars. The table is a starting point, not a bill: providers change prices, so `prices` in agent options
 * or configuration overrides and extends it (`docs/budgets.md`).
 *
 * @module
 */

import type { Usage } from "./message.ts";

/** The price of one model, in US dollars per million tokens. */
export interface ModelPrice {
  /** Dollars per million prompt tokens. */
  inputPerMillion: number;
  /** Dollars per million completion tokens. */
  outputPerMillion: number;
}

/** A price table: model names (`gpt-4o`, or with provider, `openai:gpt-4o`) to prices. */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** List prices of common models when this table was written; `prices` in configuration overrides them. */
export const DEFAULT_PRICES: PriceTable = {
  "gpt-4o": { inputPerMillion: 2.5, outputPerMillion: 10 },
  "gpt-4o-mini": { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  "gpt-4.1": { inputPerMillion: 2, outputPerMillion: 8 },
  "gpt-4.1-mini": { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  "gpt-4.1-nano": { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  "gpt-5": { inputPerMillion: 1.25, outputPerMillion: 10 },
  "gpt-5-mini": { inputPerMillion: 0.25, outputPerMillion: 2 },
  "gpt-5-nano": { inputPerMillion: 0.05, outputPerMillion: 0.4 },
  "o3": { inputPerMillion: 2, outputPerMillion: 8 },
  "o4-mini": { inputPerMillion: 1.1, outputPerMillion: 4.4 },
  "claude-opus-4": { inputPerMillion: 15, outputPerMillion: 75 },
  "claude-sonnet-4": { inputPerMillion: 3, outputPerMillion: 15 },
  "claude-3-5-haiku": { inputPerMillion: 0.8, outputPerMillion: 4 },
  "claude-haiku-4-5": { inputPerMillion: 1, outputPerMillion: 5 },
  "gemini-2.5-pro": { inputPerMillion: 1.25, outputPerMillion: 10 },
  "gemini-2.5-flash": { inputPerMillion: 0.3, outputPerMillion: 2.5 },
};

/**
 * Finds the price of a model: the exact model string first (`openai:gpt-4o`), then its name without the provider
 * (`gpt-4o`), then the longest table entry the name starts with followed by `-` (so a dated snapshot such as
 * `gpt-4o-2024-08-06` or `claude-sonnet-4-20250514` takes its family's price).
 *
 * @example Dated snapshots take their family's price
 * ```ts
 * import { priceOf } from "./prices.ts";
 * if (priceOf("openai:gpt-4o-2024-08-06")?.inputPerMillion !== 2.5) throw new Error("unexpected");
 * if (priceOf("test") !== undefined) throw new Error("unexpected");
 * ```
 *
 * @param model A model string or a provider-reported model id, or several, tried in order.
 * @param prices Overrides, checked before the defaults.
 * @returns The price, or `undefined` when none is known.
 */
export function priceOf(model: string | readonly string[], prices: PriceTable = {}): ModelPrice | undefined {
  const models = typeof model === "string" ? [model] : model;
  // Overrides win over the defaults for every name, so a configured price is never shadowed by a family entry.
  for (const table of [prices, DEFAULT_PRICES]) {
    for (const candidate of models) {
      const price = lookup(table, candidate);
      if (price) return price;
    }
  }
  return undefined;
}

function lookup(table: PriceTable, model: string): ModelPrice | undefined {
  const name = model.includes(":") ? model.slice(model.indexOf(":") + 1) : model;
  const exact = table[model] ?? table[name];
  if (exact) return exact;
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if (name.startsWith(`${key}-`) && key.length > (best?.length ?? 0)) best = key;
  }
  return best === undefined ? undefined : table[best];
}

/**
 * What a call's usage cost.
 *
 * @param usage The tokens used.
 * @param price The model's price.
 * @returns US dollars.
 */
export function costOf(usage: Usage, price: ModelPrice): number {
  return (usage.inputTokens * price.inputPerMillion + usage.outputTokens * price.outputPerMillion) / 1_000_000;
}
