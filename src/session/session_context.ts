/**
 * The part of a session's history the model sees: everything since the last compaction, led by that compaction's
 * summary, with a running token estimate that costs only the new messages of each turn.
 *
 * @module
 */

import type { Message } from "../model/message.ts";
import type { HistoryEntry } from "../store/store.ts";
import { estimateMessageTokens } from "./_token_estimate.ts";

const MIN_RATIO = 0.25;
const MAX_RATIO = 4;

/** A stored compaction summary's message: a user message that also records what it replaces. */
export interface CompactionMessage {
  /** Always `user`: the summary reaches the model as context the user supplies. */
  role: "user";
  /** The summary, with a line saying it is one. */
  content: string;
  /** The last `seq` the summary covers: the model's context starts after it (apart from the summary itself). */
  compactedThrough: number;
}

/** One message of the model's context and where it is stored. */
export interface ContextItem {
  /** The message as the model sees it. */
  readonly message: Message;
  /** Its position in the stored history. */
  readonly seq: number;
  /** Its estimated tokens. */
  readonly tokens: number;
  /** Whether it is a compaction summary. */
  readonly isSummary: boolean;
}

/**
 * Whether a stored entry is a compaction summary, and what it replaces.
 *
 * @param entry The stored entry.
 * @returns The last `seq` it covers, or `undefined` for any other entry.
 */
export function compactedThrough(entry: HistoryEntry): number | undefined {
  if (entry.source !== "compaction") return undefined;
  const through = (entry.message as Partial<CompactionMessage>).compactedThrough;
  return typeof through === "number" && Number.isInteger(through) ? through : undefined;
}

/** The model's view of one session's history. */
export class SessionContext {
  /** The messages sent after the system message, oldest first. Changed in place. */
  readonly messages: Message[] = [];
  #items: ContextItem[] = [];
  #tokens = 0;
  #lastSeq = -1;
  /**
   * The provider's token count divided by our estimate, as of the last turn that reported one. A ratio rather than a
   * difference, because tokenizers differ in proportion to the text, which stays true after a compaction.
   */
  #correction?: { model: string; ratio: number };

  /**
   * Builds the context of a stored history: the last compaction's summary, then every later entry.
   *
   * @param history The whole stored history, in order.
   */
  constructor(history: readonly HistoryEntry[] = []) {
    this.addStored(history);
  }

  /** Estimated tokens of {@linkcode SessionContext.messages}. */
  get tokens(): number {
    return this.#tokens;
  }

  /** The highest `seq` taken in, or -1. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** The items, in the order of {@linkcode SessionContext.messages}. */
  get items(): readonly ContextItem[] {
    return this.#items;
  }

  /**
   * Takes in stored entries, in order: a compaction summary replaces what it covers, and saved tool outputs (which the
   * model reads through `read_output`) stay out.
   *
   * @param entries The entries, in `seq` order.
   */
  addStored(entries: readonly HistoryEntry[]): void {
    for (const entry of entries) {
      this.#lastSeq = Math.max(this.#lastSeq, entry.seq);
      if (entry.source === "output") continue;
      const through = compactedThrough(entry);
      if (through !== undefined) {
        this.#replaceThrough(through, entry);
        continue;
      }
      this.#push({
        message: entry.message,
        seq: entry.seq,
        tokens: estimateMessageTokens(entry.message),
        isSummary: false,
      });
    }
  }

  /**
   * Estimates the tokens of a request: the context and what the caller adds (system prompt, tools, unsaved input),
   * scaled by what the provider's last count for this model taught.
   *
   * @param model The model id the request goes to.
   * @param extraTokens Estimated tokens of the system prompt, the tools and input not yet stored.
   * @returns The estimate, never below zero.
   */
  estimate(model: string, extraTokens: number): number {
    const ratio = this.#correction?.model === model ? this.#correction.ratio : 1;
    return Math.ceil(Math.max(0, this.#tokens + extraTokens) * ratio);
  }

  /**
   * Learns how far the estimate is from the provider's count: called with a turn's reported input tokens while the
   * context is still what that turn sent.
   *
   * @param model The model id.
   * @param inputTokens The provider's count of the request's tokens; ignored when zero (not reported).
   * @param extraTokens What the caller added to the context in that request, as for `estimate`.
   */
  correct(model: string, inputTokens: number, extraTokens: number): void {
    const estimated = this.#tokens + extraTokens;
    if (!(inputTokens > 0) || estimated <= 0) return;
    // A count far off the estimate is more likely a provider's placeholder than a tokenizer four times denser.
    this.#correction = { model, ratio: Math.min(MAX_RATIO, Math.max(MIN_RATIO, inputTokens / estimated)) };
  }

  /** Forgets everything, as after the session's history was deleted. */
  reset(): void {
    this.messages.length = 0;
    this.#items = [];
    this.#tokens = 0;
    this.#lastSeq = -1;
    this.#correction = undefined;
  }

  #push(item: ContextItem): void {
    this.#items.push(item);
    this.messages.push(item.message);
    this.#tokens += item.tokens;
  }

  /** Drops what a summary covers (items up to `through`, and any earlier summary) and puts the summary first. */
  #replaceThrough(through: number, entry: HistoryEntry): void {
    const kept = this.#items.filter((item) => !item.isSummary && item.seq > through);
    const message: Message = { role: "user", content: entry.message.content };
    this.#items = [];
    this.messages.length = 0;
    this.#tokens = 0;
    this.#push({ message, seq: entry.seq, tokens: estimateMessageTokens(message), isSummary: true });
    for (const item of kept) this.#push(item);
  }
}
