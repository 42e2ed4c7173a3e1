/**
 * The `Harness` interface: the model loop a session runs for each operation. The default, `flue`, is the built-in
 * loop; `registerHarness` adds others without any change to agent code.
 *
 * @module
 */

import type { EventPayload } from "../events/event_types.ts";
import type { ChatModel, ModelCallContext, ResponseFormat, ThinkingLevel } from "../model/chat_model.ts";
import type { Message, Usage } from "../model/message.ts";
import type { FlueTool } from "../tools/tool.ts";

/** One operation's worth of work for a harness. */
export interface HarnessRequest {
  /** The model to call. */
  model: ChatModel;
  /** The conversation so far, system message first, then the stored history, then the new input. */
  messages: readonly Message[];
  /** The tools the model may call. */
  tools: readonly FlueTool<unknown>[];
  /** The most model calls this operation may make. */
  maxTurns: number;
  /** Native structured output, when a typed call runs on a model that supports it. */
  responseFormat?: ResponseFormat;
  /** Reasoning effort hint. */
  thinkingLevel?: ThinkingLevel;
  /** `false` asks for whole replies instead of streams; the model's own setting applies when omitted. */
  stream?: boolean;
  /** The operation the run serves; passed on to every model call as `ModelRequest.operation`. */
  operation?: ModelCallContext;
  /** Cancels the operation: the model request, tool calls and their subprocesses. */
  signal: AbortSignal;
  /** Emits an event; the session adds correlation fields. */
  emit(event: EventPayload): void;
  /**
   * Persists the messages a turn produced (the assistant message and its tool results), before the next turn starts.
   * When the history has grown near the model's context window, the session compacts it here and returns the
   * conversation to continue from (system message, summary, recent messages, this turn's included): the harness must
   * then send those instead of its own copy. See `docs/compaction.md`.
   *
   * @param messages The turn's new messages, in order.
   * @returns Nothing, or the compacted conversation to continue from.
   */
  commit(messages: readonly Message[]): Promise<readonly Message[] | void>;
  /**
   * Called when the provider refused a request as too long for the model (`isContextOverflowError`): the session
   * compacts the history and returns the conversation to retry with once, or `undefined` when it cannot (compaction is
   * off, or nothing is left to summarise); the harness then throws the provider's error. `callWithCompaction` does
   * this for a harness.
   *
   * @returns The compacted conversation, or `undefined`.
   */
  onContextOverflow?(): Promise<readonly Message[] | undefined>;
}

/** What a harness returns. */
export interface HarnessResult {
  /** The final assistant text. */
  text: string;
  /** Tokens summed over every model call. */
  usage: Usage;
  /** The model id the provider reported last. */
  model: string;
  /** How many model calls were made. */
  turns: number;
}

/** A model loop. */
export interface Harness {
  /** The registered name. */
  readonly name: string;
  /**
   * Runs one operation to its end.
   *
   * @param request The model, messages, tools and callbacks.
   * @returns The final text and usage.
   */
  run(request: HarnessRequest): Promise<HarnessResult>;
}

/** Builds a harness. Called once per agent. */
export type HarnessFactory = () => Harness;
