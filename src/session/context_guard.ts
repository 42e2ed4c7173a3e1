/**
 * What keeps a session inside its model's context window, apart from the session class itself: the model's view of
 * the history, the running token estimate, automatic and manual compaction, and cutting tool results that are too
 * large (their whole text saved for `read_output`).
 *
 * @module
 */

import { AbortError, abortErrorFrom } from "../errors.ts";
import type { EventPayload } from "../events/event_types.ts";
import type { ChatModel, ModelCallContext } from "../model/chat_model.ts";
import { addUsage, emptyUsage, type Message, type Usage } from "../model/message.ts";
import type { HistoryEntry, NewHistoryEntry } from "../store/store.ts";
import { limitToolResult } from "../tools/_oversized_result.ts";
import { createReadOutputTool } from "../tools/builtin/read_output_tool.ts";
import { formatToolResult, toolSchemaOf } from "../tools/execute_tool_call.ts";
import type { FlueTool } from "../tools/tool.ts";
import { estimateMessageTokens, estimateToolTokens } from "./_token_estimate.ts";
import {
  compactContext,
  type CompactionOutcome,
  type CompactionReason,
  type CompactionSettings,
  contextWindowOf,
  toolResultLimit,
} from "./compaction.ts";
import { SessionContext } from "./session_context.ts";
import { ToolOutputs } from "./tool_outputs.ts";

/** What one harness run (or one `session.compact()`) tells the guard. */
export interface GuardedRunOptions {
  /** The operation's model. */
  model: ChatModel;
  /** The operation's id. */
  operationId: string;
  /** The operation the run serves, for the summarising calls' `ModelRequest.operation`. */
  operation?: ModelCallContext;
  /** Cancels summarising calls. */
  signal: AbortSignal;
  /** Emits the operation's events. */
  emit(payload: EventPayload): void;
  /** Removes secret values from a summary. */
  redact(text: string): string;
  /**
   * Appends one entry to the stored history and takes it in.
   *
   * @param entry The entry.
   * @returns The entry as stored.
   */
  save(entry: NewHistoryEntry): Promise<HistoryEntry>;
}

/** A session's context keeper. */
export class ContextGuard {
  /** The model's view of the history. */
  readonly context: SessionContext;
  /** Whole texts of cut tool results. */
  readonly outputs: ToolOutputs;
  /** The compaction settings. */
  readonly settings: CompactionSettings;
  /** The `read_output` tool over this session's saved results. */
  readonly readOutputTool: FlueTool<unknown>;
  #toolResultChars: number;

  /**
   * @param history The stored history the session resumes from.
   * @param settings The agent's compaction settings.
   * @param load Reads stored entries after a position (for saved results no longer held in memory).
   * @param model The agent's model, whose window sets the tool result limit until an operation names another.
   */
  constructor(
    history: readonly HistoryEntry[],
    settings: CompactionSettings,
    load: (afterSeq: number) => Promise<HistoryEntry[]>,
    model: ChatModel,
  ) {
    this.context = new SessionContext(history);
    this.outputs = new ToolOutputs(load);
    this.outputs.addStored(history);
    this.settings = settings;
    this.#toolResultChars = toolResultLimit(settings, model);
    // A part must stay under the cut limit, note included, or reading it would be cut in turn.
    this.readOutputTool = createReadOutputTool(
      this.outputs,
      () => Math.max(500, Math.floor(this.#toolResultChars * 0.8) - 200),
    ) as FlueTool<unknown>;
  }

  /**
   * Takes in stored entries (after a commit, a compaction, or entries another session object wrote).
   *
   * @param entries The entries, in order.
   */
  takeIn(entries: readonly HistoryEntry[]): void {
    this.context.addStored(entries);
    this.outputs.addStored(entries);
  }

  /** Forgets the history, as after it was deleted. */
  reset(): void {
    this.context.reset();
    this.outputs.reset();
  }

  /**
   * A tool's (redacted) result as the model may see it: cut when too large, its whole text then saved to be stored
   * with the turn.
   *
   * @param value What the tool returned, redacted.
   * @param toolCallId The call's id, which names the saved text.
   * @param toolName The tool.
   * @returns The value, or the cut text.
   */
  limitResult(value: unknown, toolCallId: string, toolName: string): unknown {
    const text = typeof value === "string" ? value : formatToolResult(value);
    const limited = limitToolResult(text, this.#toolResultChars, toolCallId);
    if (!limited.isCut) return value;
    this.outputs.save(toolCallId, toolName, text);
    return limited.text;
  }

  /**
   * A tool's (redacted) error, with a message too large for the context cut like a result.
   *
   * @param error What the tool threw, redacted.
   * @param toolCallId The call's id.
   * @param toolName The tool.
   * @returns The error to rethrow.
   */
  limitError(error: unknown, toolCallId: string, toolName: string): unknown {
    if (!(error instanceof Error) || error instanceof AbortError) return error;
    const limited = limitToolResult(error.message, this.#toolResultChars, toolCallId);
    if (limited.isCut) {
      this.outputs.save(toolCallId, toolName, error.message);
      error.message = limited.text;
    }
    return error;
  }

  /**
   * Starts the bookkeeping of one harness run.
   *
   * @param options The operation's model, callbacks and signal.
   * @param system The system message.
   * @param tools The tools offered.
   * @param input The new input, stored with the first turn.
   * @returns The run.
   */
  startRun(
    options: GuardedRunOptions,
    system: Message,
    tools: readonly FlueTool<unknown>[],
    input: readonly Message[],
  ): GuardedRun {
    this.#toolResultChars = toolResultLimit(this.settings, options.model);
    return new GuardedRun(this, options, system, tools, input);
  }

  /**
   * Compacts now, whatever the estimate (`session.compact()`).
   *
   * @param options The operation's model, callbacks and signal.
   * @param keepRecent Recent messages to keep, when not the agent's setting.
   * @returns What it did, or `undefined` when there was nothing to summarise.
   */
  compactNow(options: GuardedRunOptions, keepRecent?: number): Promise<CompactionOutcome | undefined> {
    return compactContext({
      ...options,
      reason: "manual",
      context: this.context,
      settings: this.settings,
      estimatedTokens: this.context.estimate(options.model.id, 0),
      keepRecent,
    });
  }
}

/** The context bookkeeping of one harness run: its estimate, and compaction at commits and on overflow. */
export class GuardedRun {
  /** Tokens the run's compactions used. */
  readonly usage: Usage = emptyUsage();
  readonly #guard: ContextGuard;
  readonly #options: GuardedRunOptions;
  readonly #system: Message;
  readonly #fixedTokens: number;
  #input: readonly Message[];
  #inputTokens: number;

  /**
   * @param guard The session's guard.
   * @param options The operation's model, callbacks and signal.
   * @param system The system message.
   * @param tools The tools offered.
   * @param input The new input, stored with the first turn.
   */
  constructor(
    guard: ContextGuard,
    options: GuardedRunOptions,
    system: Message,
    tools: readonly FlueTool<unknown>[],
    input: readonly Message[],
  ) {
    this.#guard = guard;
    this.#options = options;
    this.#system = system;
    this.#fixedTokens = estimateMessageTokens(system) + estimateToolTokens(tools.map(toolSchemaOf));
    this.#input = input;
    this.#inputTokens = input.reduce((sum, message) => sum + estimateMessageTokens(message), 0);
  }

  /** The conversation to send: the system message, the context, and the input not yet stored. */
  messages(): Message[] {
    return [this.#system, ...this.#guard.context.messages, ...this.#input];
  }

  /** The estimated tokens of the next request. */
  estimate(): number {
    return this.#guard.context.estimate(this.#options.model.id, this.#fixedTokens + this.#inputTokens);
  }

  /**
   * Learns from the provider's token counts; pass every event the harness emits.
   *
   * @param payload The event.
   */
  observe(payload: EventPayload): void {
    if (payload.type !== "turn") return;
    this.#guard.context.correct(
      this.#options.model.id,
      payload.usage.inputTokens,
      this.#fixedTokens + this.#inputTokens,
    );
  }

  /** Compacts before the first turn when the history is already near the window. */
  async prepare(): Promise<void> {
    await this.#compactAtThreshold();
  }

  /**
   * Called once a turn's messages are stored and taken in: compacts when the next request would pass the threshold.
   *
   * @param turnMessages The turn's messages.
   * @returns The compacted conversation for the harness, or nothing.
   */
  async committed(turnMessages: readonly Message[]): Promise<readonly Message[] | void> {
    this.#input = [];
    this.#inputTokens = 0;
    // After the final answer there is no next request here; the next operation checks before it starts.
    if (turnMessages.at(-1)?.role !== "tool") return;
    if (await this.#compactAtThreshold()) return this.messages();
  }

  /**
   * Compacts after the provider refused a request as too long.
   *
   * @returns The compacted conversation to retry with, or `undefined` when compaction is off or found nothing.
   */
  async overflowed(): Promise<readonly Message[] | undefined> {
    if (!this.#guard.settings.enabled) return undefined;
    return await this.#compact("overflow") ? this.messages() : undefined;
  }

  async #compactAtThreshold(): Promise<boolean> {
    const settings = this.#guard.settings;
    if (!settings.enabled) return false;
    if (this.estimate() <= settings.threshold * contextWindowOf(this.#options.model)) return false;
    try {
      return await this.#compact("threshold");
    } catch (error) {
      if (this.#options.signal.aborted) throw abortErrorFrom(this.#options.signal);
      if (error instanceof AbortError) throw error;
      // The request still fits (the threshold is below the window), so the run goes on; an overflow would retry.
      this.#options.emit({
        type: "log",
        level: "warn",
        message: `Compaction failed, continuing without it: ${error instanceof Error ? error.message : String(error)}`,
      });
      return false;
    }
  }

  async #compact(reason: CompactionReason): Promise<boolean> {
    const outcome = await compactContext({
      ...this.#options,
      reason,
      context: this.#guard.context,
      settings: this.#guard.settings,
      estimatedTokens: this.estimate(),
    });
    if (!outcome) return false;
    addUsage(this.usage, outcome.usage);
    return true;
  }
}
