/**
 * The spans an {@linkcode EventTracer} has open, by the ids events carry, and how a new span finds its parent among
 * them. Internal to the telemetry module.
 *
 * @module
 */

import { type Context, context, type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import type { EventOf, FlueEvent } from "../events/event_types.ts";

/** An open span. */
export interface OpenSpan {
  span: Span;
  /** The context whose active span is `span`, for its children. */
  context: Context;
  /** The operation the span belongs to, so it can be ended with it. */
  operationId?: string;
}

/** An open operation span. */
export interface OperationEntry extends OpenSpan {
  /** Whether it is an `invoke_agent` span (prompt, skill, task) rather than shell or compact. */
  isAgent: boolean;
  /** Whether its provider and model were set from its first turn. */
  hasModel: boolean;
}

/** An open chat span. */
export interface TurnEntry extends OpenSpan {
  /** The model's text so far, only when content is recorded. */
  text?: string;
}

/** An open tool call span. */
export interface ToolEntry extends OpenSpan {
  toolName: string;
  /** The prompt of a `task` tool call, to find the call a `task_start` belongs to; kept in memory only. */
  taskPrompt?: unknown;
}

/** An open command span. */
export interface CommandEntry extends OpenSpan {
  command: string;
}

/** An open workflow run span. */
export interface RunEntry extends OpenSpan {
  /** The span that was active when the run started; operations seeing it as active belong to the run instead. */
  outerSpanId?: string;
}

/** Open spans by run, operation, turn, tool call, command, task and compaction. */
export class OpenSpans {
  /** By run id. */
  readonly runs: Map<string, RunEntry> = new Map();
  /** By operation id. */
  readonly operations: Map<string, OperationEntry> = new Map();
  /** By turn id. */
  readonly turns: Map<string, TurnEntry> = new Map();
  /** By {@linkcode toolKey}. */
  readonly tools: Map<string, ToolEntry> = new Map();
  /** By {@linkcode toolKey} (an empty call id for `session.shell`); commands of one call run one after another. */
  readonly commands: Map<string, CommandEntry[]> = new Map();
  /** By task id. */
  readonly tasks: Map<string, OpenSpan> = new Map();
  /** By operation id: one compaction at a time per operation. */
  readonly compactions: Map<string, OpenSpan> = new Map();

  /**
   * Ends what an ending operation left open: turns, tool calls, commands, compactions and tasks.
   *
   * @param operationId The operation.
   * @param errorType The `error.type` they end with.
   */
  endOperationChildren(operationId: string, errorType: string): void {
    for (const [key, list] of this.commands) {
      if (list[0]?.operationId !== operationId) continue;
      for (const entry of list) endWithError(entry.span, errorType);
      this.commands.delete(key);
    }
    for (const map of [this.tools, this.turns, this.compactions, this.tasks]) {
      for (const [key, entry] of map) {
        if (entry.operationId !== operationId) continue;
        endWithError(entry.span, errorType);
        map.delete(key);
      }
    }
  }

  /**
   * Ends every open span, children first.
   *
   * @param errorType The `error.type` they end with.
   */
  endAll(errorType: string): void {
    for (const list of this.commands.values()) for (const entry of list) endWithError(entry.span, errorType);
    this.commands.clear();
    for (const map of [this.tools, this.turns, this.compactions, this.tasks, this.operations, this.runs]) {
      for (const entry of map.values()) endWithError(entry.span, errorType);
      map.clear();
    }
  }

  /**
   * The parent of an operation's span. A subagent's operation belongs to its task; an operation inside a workflow run
   * to the run, unless the workflow's code made its own span active; any other operation to whatever span was active
   * when it started (events are emitted synchronously from the caller's async context).
   *
   * @param event The `operation_start` event.
   * @returns The parent context.
   */
  operationParent(event: FlueEvent): Context {
    const task = event.taskId ? this.tasks.get(event.taskId) : undefined;
    if (task) return task.context;
    const active = context.active();
    const run = event.runId ? this.runs.get(event.runId) : undefined;
    if (!run) return active;
    const activeSpan = trace.getSpan(active);
    if (!activeSpan || activeSpan.spanContext().spanId === run.outerSpanId) return run.context;
    return active;
  }

  /**
   * The parent of a task's span: the `task` tool call that started it, or else the operation (`session.task`).
   *
   * @param event The `task_start` event.
   * @returns The parent context.
   */
  taskParent(event: EventOf<"task_start">): Context {
    const candidates: ToolEntry[] = [];
    for (const tool of this.tools.values()) {
      if (tool.operationId !== event.operationId || tool.toolName !== "task") continue;
      // Task calls of one turn run concurrently; the prompt tells them apart.
      if (typeof tool.taskPrompt === "string" && tool.taskPrompt.trim() === event.prompt.trim()) return tool.context;
      candidates.push(tool);
    }
    if (candidates.length === 1) return candidates[0].context;
    return this.operationContext(event);
  }

  /**
   * The context of the operation an event belongs to.
   *
   * @param event Any event of an operation.
   * @returns The operation span's context, or the nearest known one when the operation's start was not seen.
   */
  operationContext(event: FlueEvent): Context {
    return (event.operationId ? this.operations.get(event.operationId)?.context : undefined) ??
      (event.type !== "task_start" && event.taskId ? this.tasks.get(event.taskId)?.context : undefined) ??
      (event.runId ? this.runs.get(event.runId)?.context : undefined) ??
      context.active();
  }
}

/**
 * The key of a tool call: call ids come from the model, so they are only unique within an operation.
 *
 * @param operationId The operation.
 * @param toolCallId The call id.
 * @returns The key.
 */
export function toolKey(operationId: string | undefined, toolCallId: string): string {
  return `${operationId ?? ""}\u0000${toolCallId}`;
}

/**
 * Ends a span with an error status.
 *
 * @param span The span.
 * @param errorType Its `error.type`.
 * @param message The status description.
 */
export function endWithError(span: Span, errorType: string, message?: string): void {
  span.setAttribute("error.type", errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.end();
}
