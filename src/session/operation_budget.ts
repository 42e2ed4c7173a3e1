/**
 * The budgets of one operation: tokens, dollars and wall-clock time, counted over every model call the operation makes
 * (typed retries included). When one is exceeded, the budget's signal aborts with a `BudgetExceededError`, which ends
 * the model request and running tools at once; the session then throws that error instead of the abort.
 *
 * @module
 */

import { BudgetExceededError } from "../errors.ts";
import type { Usage } from "../model/message.ts";
import { costOf, priceOf, type PriceTable } from "../model/prices.ts";

/** The limits an operation runs under (`docs/budgets.md`). Each is off when omitted. */
export interface BudgetLimits {
  /** The most model calls one operation may make. */
  maxTurns?: number;
  /** The most tokens (input plus output, summed over the operation's model calls) one operation may use. */
  maxTokens?: number;
  /** The most US dollars one operation may spend, priced by the price table. */
  maxCostUsd?: number;
  /** The most milliseconds one operation may take, from its start to its answer. */
  timeoutMs?: number;
  /** The most milliseconds one tool call may take; a call that runs longer is stopped and its output so far returned. */
  toolTimeoutMs?: number;
}

/** The budget option names, in the order they are documented. */
export const BUDGET_OPTIONS: readonly (keyof BudgetLimits)[] = [
  "maxTurns",
  "maxTokens",
  "maxCostUsd",
  "timeoutMs",
  "toolTimeoutMs",
];

/**
 * Picks each limit from the first level that sets it: the call, then the session, then the agent.
 *
 * @param levels The limits of each level, most specific first.
 * @returns The limits that apply.
 */
export function resolveBudgetLimits(...levels: (BudgetLimits | undefined)[]): BudgetLimits {
  const limits: BudgetLimits = {};
  for (const key of BUDGET_OPTIONS) {
    const value = levels.find((level) => level?.[key] !== undefined)?.[key];
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}

/**
 * Checks budget options given by a caller, so a misspelt or negative limit is an error rather than no limit.
 *
 * @param options The options that may hold budget limits.
 * @param where Where they were given, for the message (`Option`, `Session option`).
 * @throws {TypeError} When a limit is not a positive number (a whole number for turns, tokens and milliseconds).
 */
export function validateBudgetLimits(options: BudgetLimits, where = "Option"): void {
  for (const key of BUDGET_OPTIONS) {
    const value = options[key];
    if (value === undefined) continue;
    const whole = key !== "maxCostUsd";
    if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value) || (whole && !Number.isInteger(value))) {
      throw new TypeError(
        `${where} "${key}" must be a positive ${whole ? "whole number" : "number"}, got ${JSON.stringify(value)}`,
      );
    }
  }
}

/** One operation's spending against its limits. Dispose it when the operation ends, to stop its timer. */
export class OperationBudget {
  /** Aborts, with the `BudgetExceededError` as its reason, when a limit is exceeded. */
  readonly signal: AbortSignal;
  /** The limits that apply. */
  readonly limits: BudgetLimits;
  readonly #limits: BudgetLimits;
  readonly #prices: PriceTable;
  readonly #model: string;
  readonly #controller = new AbortController();
  readonly #started = performance.now();
  #timer?: ReturnType<typeof setTimeout>;
  #tokens = 0;
  #costUsd = 0;

  /**
   * Starts the budget; the `timeoutMs` clock starts now.
   *
   * @param limits The limits that apply.
   * @param prices Price overrides, checked before the default table.
   * @param model The model string of the operation, checked for a price when `maxCostUsd` is set.
   * @throws {TypeError} When `maxCostUsd` is set and no price is known for the model.
   */
  constructor(limits: BudgetLimits, prices: PriceTable, model: string) {
    this.#limits = limits;
    this.limits = limits;
    this.#prices = prices;
    this.#model = model;
    this.signal = this.#controller.signal;
    if (limits.maxCostUsd !== undefined && !priceOf(model, prices)) {
      throw new TypeError(
        `No price is known for model "${model}", so "maxCostUsd" cannot be enforced: add it under "prices" ` +
          `(dollars per million tokens, such as { "${model}": { "inputPerMillion": 1, "outputPerMillion": 4 } })`,
      );
    }
    const timeoutMs = limits.timeoutMs;
    if (timeoutMs !== undefined) {
      this.#timer = setTimeout(
        () => this.#exceed("timeoutMs", timeoutMs, performance.now() - this.#started),
        timeoutMs,
      );
    }
  }

  /** The error the operation ended with, once a limit was exceeded. */
  get exceeded(): BudgetExceededError | undefined {
    return this.signal.aborted ? this.signal.reason as BudgetExceededError : undefined;
  }

  /**
   * Counts one model call, and ends the operation when it passed a limit.
   *
   * @param usage The call's tokens.
   * @param model The model id the provider reported; priced before the operation's model string, since a dated
   *   snapshot may cost other than its family.
   * @returns The usage with its cost, when the model's price is known.
   */
  recordTurn(usage: Usage, model: string): Usage {
    const price = priceOf([model, this.#model], this.#prices);
    const priced = price ? { ...usage, costUsd: costOf(usage, price) } : usage;
    this.recordSpending(priced);
    return priced;
  }

  /**
   * Counts spending priced elsewhere (a subagent task's, whose own model calls were priced by its session), and ends
   * the operation when it passed a limit.
   *
   * @param usage The tokens, with their cost when known.
   */
  recordSpending(usage: Usage): void {
    this.#tokens += usage.inputTokens + usage.outputTokens;
    this.#costUsd += usage.costUsd ?? 0;
    const { maxTokens, maxCostUsd } = this.#limits;
    if (maxTokens !== undefined && this.#tokens > maxTokens) this.#exceed("maxTokens", maxTokens, this.#tokens);
    else if (maxCostUsd !== undefined && this.#costUsd > maxCostUsd) {
      this.#exceed("maxCostUsd", maxCostUsd, this.#costUsd);
    }
  }

  /** Stops the timeout clock. */
  dispose(): void {
    clearTimeout(this.#timer);
  }

  #exceed(budget: "maxTokens" | "maxCostUsd" | "timeoutMs", limit: number, spent: number): void {
    if (this.signal.aborted) return;
    this.dispose();
    this.#controller.abort(new BudgetExceededError(budget, limit, budget === "timeoutMs" ? Math.round(spent) : spent));
  }
}
