/**
 * Compaction: when a session's history nears the model's context window, the older part is summarised by the model in
 * one call without tools, and the summary is appended to the stored history as an entry that says which entries it
 * replaces. The model's context then starts at the summary; `history()` still returns every entry.
 *
 * @module
 */

import type { EventPayload } from "../events/event_types.ts";
import { type ChatModel, DEFAULT_CONTEXT_WINDOW, type ModelCallContext } from "../model/chat_model.ts";
import type { Usage } from "../model/message.ts";
import type { HistoryEntry, NewHistoryEntry } from "../store/store.ts";
import { summaryMessageContent, summaryRequest } from "./_summary_prompt.ts";
import type { CompactionMessage, ContextItem, SessionContext } from "./session_context.ts";

/** The `compaction` agent option. */
export interface CompactionOptions {
  /**
   * Compact automatically: before a model turn when the estimate passes `threshold`, and once after the provider
   * refuses a request as too long. `true` by default; `session.compact()` works either way.
   */
  enabled?: boolean;
  /** The fraction of the model's context window at which compaction starts, from 0.1 to 0.95; 0.8 by default. */
  threshold?: number;
  /** How many of the most recent messages are kept word for word, from 0 to 1000; 6 by default. */
  keepRecent?: number;
  /**
   * The most characters of one tool result the model sees; a longer result is cut and its whole text saved for the
   * `read_output` tool. By default as many characters as the context window has tokens (about a quarter of the
   * window), at least 2,000 and at most 100,000.
   */
  maxToolResultChars?: number;
}

/** Why a compaction ran. */
export type CompactionReason = "threshold" | "overflow" | "manual";

/** The compaction options with every default filled in. */
export interface CompactionSettings {
  /** Whether compaction runs automatically. */
  enabled: boolean;
  /** Fraction of the window at which it starts. */
  threshold: number;
  /** Recent messages kept word for word. */
  keepRecent: number;
  /** Characters of one tool result, when set; otherwise derived from the window. */
  maxToolResultChars?: number;
}

const DEFAULT_THRESHOLD = 0.8;
const DEFAULT_KEEP_RECENT = 6;
const OPTION_KEYS: readonly string[] = ["enabled", "threshold", "keepRecent", "maxToolResultChars"];

/**
 * Checks the `compaction` agent option.
 *
 * @param value The option as given.
 * @throws {TypeError} When it is not `false` or an object of known, in-range fields.
 */
export function validateCompactionOption(value: unknown): void {
  if (value === undefined || value === false) return;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Option "compaction" must be false or an object such as { threshold: 0.8 }, got ${JSON.stringify(value)}`,
    );
  }
  const options = value as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new TypeError(`Unknown compaction option "${key}": known options are ${OPTION_KEYS.join(", ")}`);
    }
  }
  const { enabled, threshold, keepRecent, maxToolResultChars } = options;
  if (enabled !== undefined && typeof enabled !== "boolean") {
    throw new TypeError(`Compaction option "enabled" must be true or false, got ${JSON.stringify(enabled)}`);
  }
  if (threshold !== undefined && (typeof threshold !== "number" || !(threshold >= 0.1 && threshold <= 0.95))) {
    throw new TypeError(
      `Compaction option "threshold" must be a fraction of the context window from 0.1 to 0.95, got ${
        JSON.stringify(threshold)
      }`,
    );
  }
  if (
    keepRecent !== undefined &&
    (!Number.isInteger(keepRecent) || (keepRecent as number) < 0 || (keepRecent as number) > 1000)
  ) {
    throw new TypeError(
      `Compaction option "keepRecent" must be a whole number of messages from 0 to 1000, got ${
        JSON.stringify(keepRecent)
      }`,
    );
  }
  if (
    maxToolResultChars !== undefined &&
    (!Number.isInteger(maxToolResultChars) || (maxToolResultChars as number) < 500 ||
      (maxToolResultChars as number) > 10_000_000)
  ) {
    throw new TypeError(
      `Compaction option "maxToolResultChars" must be a whole number from 500 to 10000000, got ${
        JSON.stringify(maxToolResultChars)
      }`,
    );
  }
}

/**
 * Fills in the defaults of the `compaction` option.
 *
 * @param option The option: `false`, an object, or `undefined`.
 * @returns The settings.
 */
export function compactionSettings(option: CompactionOptions | false | undefined): CompactionSettings {
  if (option === false) return { enabled: false, threshold: DEFAULT_THRESHOLD, keepRecent: DEFAULT_KEEP_RECENT };
  return {
    enabled: option?.enabled ?? true,
    threshold: option?.threshold ?? DEFAULT_THRESHOLD,
    keepRecent: option?.keepRecent ?? DEFAULT_KEEP_RECENT,
    maxToolResultChars: option?.maxToolResultChars,
  };
}

/**
 * The context window of a model, or the default for one that states none.
 *
 * @param model The model.
 * @returns The window in tokens.
 */
export function contextWindowOf(model: ChatModel): number {
  const window = model.contextWindow;
  return typeof window === "number" && window > 0 ? window : DEFAULT_CONTEXT_WINDOW;
}

/**
 * The most characters of one tool result the model sees under these settings.
 *
 * @param settings The compaction settings.
 * @param model The model of the operation.
 * @returns The limit in characters.
 */
export function toolResultLimit(settings: CompactionSettings, model: ChatModel): number {
  return settings.maxToolResultChars ?? Math.min(100_000, Math.max(2_000, contextWindowOf(model)));
}

/**
 * Chooses where the kept part of the context starts: at most `keepRecent` messages and `keepTokens` tokens, never
 * starting at a tool result (its assistant call would be summarised without it).
 *
 * @param items The context items, oldest first.
 * @param keepRecent The most messages to keep.
 * @param keepTokens The most estimated tokens to keep.
 * @param minTokens The fewest tokens worth summarising.
 * @returns The index of the first kept item, or `undefined` when there is nothing worth summarising.
 */
export function planCompaction(
  items: readonly ContextItem[],
  keepRecent: number,
  keepTokens: number,
  minTokens = 0,
): number | undefined {
  const boundary = (index: number): number => {
    while (index < items.length && items[index].message.role === "tool") index++;
    return index;
  };
  let keepFrom = boundary(Math.max(0, items.length - keepRecent));
  let keptTokens = 0;
  for (let index = keepFrom; index < items.length; index++) keptTokens += items[index].tokens;
  while (keptTokens > keepTokens && keepFrom < items.length) {
    const next = boundary(keepFrom + 1);
    for (let index = keepFrom; index < next; index++) keptTokens -= items[index].tokens;
    keepFrom = next;
  }
  let summarisedTokens = 0;
  let hasNewMessages = false;
  for (let index = 0; index < keepFrom; index++) {
    summarisedTokens += items[index].tokens;
    if (!items[index].isSummary) hasNewMessages = true;
  }
  return hasNewMessages && summarisedTokens >= minTokens ? keepFrom : undefined;
}

/** One compaction to run. */
export interface CompactionRun {
  /** Why it runs. */
  reason: CompactionReason;
  /** The model that writes the summary (the operation's model). */
  model: ChatModel;
  /** The session's context, changed in place once the summary is saved. */
  context: SessionContext;
  /** The session's compaction settings. */
  settings: CompactionSettings;
  /** The request size that prompted it, for the event. */
  estimatedTokens: number;
  /** Overrides `settings.keepRecent` (for `session.compact({ keepRecent })`). */
  keepRecent?: number;
  /** The operation the summary entry belongs to. */
  operationId: string;
  /** The operation the run serves; the summarising call carries it with `operationKind: "compact"`. */
  operation?: ModelCallContext;
  /** Cancels the summarising call. */
  signal: AbortSignal;
  /** Emits the operation's events. */
  emit(payload: EventPayload): void;
  /** Removes secret values from the summary before it is saved. */
  redact(text: string): string;
  /**
   * Appends the summary entry to the stored history and takes it into the context.
   *
   * @param entry The entry.
   * @returns The entry as stored.
   */
  save(entry: NewHistoryEntry): Promise<HistoryEntry>;
}

/** What a compaction did. */
export interface CompactionOutcome {
  /** Messages of the model's context before (the system prompt and unsaved input not counted). */
  messagesBefore: number;
  /** Messages of the model's context after, the summary included. */
  messagesAfter: number;
  /** Tokens of the summarising call. */
  usage: Usage;
  /** The summary message's text. */
  summary: string;
}

/**
 * Summarises the older part of a session's context and saves the summary, emitting `compaction_start` and
 * `compaction`. Emits nothing when there is nothing worth summarising.
 *
 * @param run The model, context, settings and callbacks.
 * @returns What it did, or `undefined` when there was nothing to do.
 */
export async function compactContext(run: CompactionRun): Promise<CompactionOutcome | undefined> {
  const window = contextWindowOf(run.model);
  const items = run.context.items;
  // A threshold compaction must win back a worthwhile share of the window, or it would run again every turn.
  const minTokens = run.reason === "threshold" ? Math.floor(window * 0.05) : 0;
  const keepShare = run.reason === "overflow" ? 0.15 : 0.3;
  let keepFrom = planCompaction(items, run.keepRecent ?? run.settings.keepRecent, window * keepShare, minTokens);
  // The provider counted more than we estimate, so the recent messages may be what does not fit: summarise them too.
  if (keepFrom === undefined && run.reason === "overflow") keepFrom = planCompaction(items, 0, 0);
  if (keepFrom === undefined) return undefined;
  const summarised = items.slice(0, keepFrom);
  const messagesBefore = items.length;
  const started = performance.now();
  run.emit({ type: "compaction_start", reason: run.reason, estimatedTokens: run.estimatedTokens });
  const maxSummaryTokens = Math.min(4_000, Math.floor(window * 0.15));
  const reply = await run.model.complete({
    messages: summaryRequest(summarised, Math.floor(window * 4 * 0.5), Math.floor(maxSummaryTokens * 0.75)),
    tools: [],
    signal: run.signal,
    operation: run.operation && summaryContext(run.operation),
  });
  const content = summaryMessageContent(run.redact(reply.text), maxSummaryTokens * 4, summarised.length);
  // Items after a summary are in stored order, so the last summarised one has the highest seq it covers.
  const compactedThrough = summarised.reduce(
    (highest, item) => item.isSummary ? highest : Math.max(highest, item.seq),
    -1,
  );
  const message: CompactionMessage = { role: "user", content, compactedThrough };
  await run.save({ message, source: "compaction", operationId: run.operationId, timestamp: new Date().toISOString() });
  const messagesAfter = run.context.items.length;
  run.emit({ type: "compaction", messagesBefore, messagesAfter, durationMs: performance.now() - started });
  return { messagesBefore, messagesAfter, usage: reply.usage, summary: content };
}

function summaryContext(operation: ModelCallContext): ModelCallContext {
  const { skill: _skill, ...rest } = operation;
  return { ...rest, operationKind: "compact" };
}
