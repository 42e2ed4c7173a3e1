/**
 * How far an operation got, read from the history it left: what lets a retried dispatch continue rather than repeat.
 *
 * @module
 */

import type { HistoryEntry } from "../store/store.ts";

/** What the stored history says about one operation. */
export interface OperationProgress {
  /** Whether any entry of the operation was stored: its input is in the history and must not be added again. */
  started: boolean;
  /** The final answer, when the operation already ended with one: the model need not be called again. */
  answer?: string;
}

/**
 * Reads an operation's progress. Turns are stored whole (the input with the first turn, then each assistant message
 * with its tool results), so the history shows either nothing of the operation, some complete turns, or its end: an
 * assistant message without tool calls.
 *
 * @param history The session's stored entries.
 * @param operationId The operation.
 * @returns Whether it started, and its answer when it finished.
 */
export function operationProgress(history: readonly HistoryEntry[], operationId: string): OperationProgress {
  let started = false;
  let answer: string | undefined;
  for (const entry of history) {
    if (entry.operationId !== operationId) continue;
    started = true;
    const message = entry.message;
    if (message.role === "assistant" && !message.toolCalls?.length) answer = message.content;
  }
  return answer === undefined ? { started } : { started, answer };
}

/** Options of `FlueSession.resumablePrompt`, the prompt a dispatch worker runs. Internal to Flue. */
export interface ResumablePromptOptions {
  /** The operation's id; the same on every attempt (the dispatch id), so a retry finds what earlier attempts stored. */
  operationId: string;
  /** Whether an earlier attempt may have stored part of the operation, so the history must be checked first. */
  resume: boolean;
  /** Cancels the call (a lost lease, a worker stopping). */
  signal?: AbortSignal;
}
