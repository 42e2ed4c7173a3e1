/**
 * Turns Flue's events into OpenTelemetry spans: a span per workflow run, operation, model turn, tool call, subagent
 * task, command and compaction, parented through the events' correlation fields. Every span that is still open when
 * its operation ends (after a failure or an abort) is ended with an error status, so nothing leaks.
 *
 * @module
 */

import { type Context, context, type Span, SpanKind, trace, type Tracer } from "@opentelemetry/api";
import type { EventCallback, EventOf, FlueEvent } from "../events/event_types.ts";
import type { Redactor } from "./redactor.ts";
import { endWithError, OpenSpans, toolKey } from "./_open_spans.ts";
import {
  ABORT_ERROR,
  chatSpan,
  commandSpan,
  contentValue,
  MAX_CONTENT_CHARS,
  operationSpan,
  outputMessages,
  TASK_ERROR,
  taskSpan,
  TOOL_ERROR,
  toolSpan,
  turnEndAttributes,
  UNFINISHED_ERROR,
  usageAttributes,
  workflowSpan,
} from "./_span_attributes.ts";

/** Options of {@linkcode EventTracer}. */
export interface EventTracerOptions {
  /** Put content (tool arguments and results, model text, task prompts, command lines) in attributes. */
  recordContent?: boolean;
  /** Redacts content once more before it becomes an attribute (events are already redacted). */
  redactor?: Redactor;
}

/** Makes spans from events. Subscribe {@linkcode EventTracer.listener} to an event bus. */
export class EventTracer {
  readonly #tracer: Tracer;
  readonly #recordContent: boolean;
  readonly #redactor?: Redactor;
  readonly #open = new OpenSpans();

  /**
   * @param tracer Makes the spans.
   * @param options Whether content is recorded, and a redactor for it.
   */
  constructor(tracer: Tracer, options: EventTracerOptions = {}) {
    this.#tracer = tracer;
    this.#recordContent = options.recordContent ?? false;
    this.#redactor = options.redactor;
  }

  /** The bus listener. */
  readonly listener: EventCallback = (event) => this.handle(event);

  /**
   * The context of a running workflow run's span, to make it active while the workflow's code runs.
   *
   * @param runId The run.
   * @returns Its context, or undefined when the run has no open span.
   */
  runContext(runId: string): Context | undefined {
    return this.#open.runs.get(runId)?.context;
  }

  /**
   * Turns one event into span changes.
   *
   * @param event Any event.
   */
  handle(event: FlueEvent): void {
    switch (event.type) {
      case "run_start":
        return this.#startRun(event);
      case "run_end":
        return this.#endRun(event);
      case "operation_start":
        return this.#startOperation(event);
      case "operation":
      case "error":
      case "aborted":
        return this.#endOperation(event);
      case "turn_start":
        return this.#startTurn(event);
      case "text_delta":
        return this.#addText(event);
      case "turn":
        return this.#endTurn(event);
      case "tool_start":
        return this.#startTool(event);
      case "tool_end":
        return this.#endTool(event);
      case "command_start":
        return this.#startCommand(event);
      case "command_end":
        return this.#endCommand(event);
      case "task_start":
        return this.#startTask(event);
      case "task_end":
        return this.#endTask(event);
      case "compaction_start":
        return this.#startCompaction(event);
      case "compaction":
        return this.#endCompaction(event);
      case "log":
        return this.#log(event);
    }
  }

  /** Ends every open span with an error status (`error.type` `unfinished`): the agent or run is closing. */
  endUnfinished(): void {
    this.#open.endAll(UNFINISHED_ERROR);
  }

  #startRun(event: EventOf<"run_start">): void {
    if (!event.runId) return;
    const outer = context.active();
    const { name, attributes } = workflowSpan(event);
    const span = this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, outer);
    if (this.#records(span)) span.setAttribute("flue.workflow.payload", this.#content(event.payload));
    const outerSpan = trace.getSpan(outer);
    this.#open.runs.set(event.runId, {
      span,
      context: trace.setSpan(outer, span),
      outerSpanId: outerSpan?.spanContext().spanId,
    });
  }

  #endRun(event: EventOf<"run_end">): void {
    const entry = event.runId ? this.#open.runs.get(event.runId) : undefined;
    if (!entry) return;
    this.#open.runs.delete(event.runId!);
    if (event.isError) {
      const type = event.error?.name ?? "Error";
      return endWithError(entry.span, type, this.#text(event.error?.message ?? ""));
    }
    if (this.#records(entry.span)) entry.span.setAttribute("flue.workflow.result", this.#content(event.result));
    entry.span.end();
  }

  #startOperation(event: EventOf<"operation_start">): void {
    if (!event.operationId) return;
    // An id seen again (a dispatched input's retry reuses its dispatch id) must not orphan a span left open before.
    const previous = this.#open.operations.get(event.operationId);
    if (previous) {
      this.#open.endOperationChildren(event.operationId, UNFINISHED_ERROR);
      endWithError(previous.span, UNFINISHED_ERROR);
    }
    const { name, attributes } = operationSpan(event);
    const parent = this.#open.operationParent(event);
    const span = this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
    this.#open.operations.set(event.operationId, {
      span,
      context: trace.setSpan(parent, span),
      isAgent: attributes["gen_ai.operation.name"] === "invoke_agent",
      hasModel: false,
    });
  }

  #endOperation(event: EventOf<"operation" | "error" | "aborted">): void {
    const operationId = event.operationId;
    if (!operationId) return;
    const errorType = event.type === "error" ? event.error.name : event.type === "aborted" ? ABORT_ERROR : undefined;
    this.#open.endOperationChildren(operationId, errorType ?? UNFINISHED_ERROR);
    const entry = this.#open.operations.get(operationId);
    if (!entry) return;
    this.#open.operations.delete(operationId);
    const span = entry.span;
    if (event.type === "error") return endWithError(span, event.error.name, this.#text(event.error.message));
    if (event.type === "aborted") {
      return endWithError(span, ABORT_ERROR, event.reason === undefined ? "aborted" : this.#text(event.reason));
    }
    span.setAttributes(usageAttributes(event.usage));
    if (this.#records(span) && event.result !== undefined) {
      if (entry.isAgent) span.setAttribute("gen_ai.output.messages", outputMessages(this.#content(event.result)));
      else span.setAttribute("flue.operation.result", this.#content(event.result));
    }
    span.end();
  }

  #startTurn(event: EventOf<"turn_start">): void {
    const { name, attributes } = chatSpan(event);
    const operation = event.operationId ? this.#open.operations.get(event.operationId) : undefined;
    if (operation && !operation.hasModel) {
      // The operation span learns its model from its first turn: GenAI backends group agent calls by it.
      operation.hasModel = true;
      operation.span.setAttributes({
        "gen_ai.provider.name": attributes["gen_ai.provider.name"]!,
        "gen_ai.request.model": attributes["gen_ai.request.model"]!,
      });
    }
    const parent = operation?.context ?? this.#open.operationContext(event);
    const span = this.#tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
    this.#open.turns.set(event.turnId, {
      span,
      context: trace.setSpan(parent, span),
      operationId: event.operationId,
      text: this.#records(span) ? "" : undefined,
    });
  }

  #addText(event: EventOf<"text_delta">): void {
    const entry = this.#open.turns.get(event.turnId);
    if (entry?.text !== undefined && entry.text.length <= MAX_CONTENT_CHARS) entry.text += event.text;
  }

  #endTurn(event: EventOf<"turn">): void {
    const entry = this.#open.turns.get(event.turnId);
    if (!entry) return;
    this.#open.turns.delete(event.turnId);
    entry.span.setAttributes(turnEndAttributes(event));
    if (entry.text !== undefined) {
      entry.span.setAttribute("gen_ai.output.messages", outputMessages(this.#text(entry.text), event.stopReason));
    }
    entry.span.end();
  }

  #startTool(event: EventOf<"tool_start">): void {
    const { name, attributes } = toolSpan(event);
    const parent = this.#open.operationContext(event);
    const span = this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
    if (this.#records(span)) span.setAttribute("gen_ai.tool.call.arguments", this.#content(event.args));
    const args = event.args as { prompt?: unknown } | undefined;
    this.#open.tools.set(toolKey(event.operationId, event.toolCallId), {
      span,
      context: trace.setSpan(parent, span),
      operationId: event.operationId,
      toolName: event.toolName,
      taskPrompt: event.toolName === "task" && args && typeof args === "object" ? args.prompt : undefined,
    });
  }

  #endTool(event: EventOf<"tool_end">): void {
    const key = toolKey(event.operationId, event.toolCallId);
    const entry = this.#open.tools.get(key);
    if (!entry) return;
    this.#open.tools.delete(key);
    if (this.#records(entry.span)) entry.span.setAttribute("gen_ai.tool.call.result", this.#content(event.result));
    if (event.isError) return endWithError(entry.span, TOOL_ERROR);
    entry.span.end();
  }

  #startCommand(event: EventOf<"command_start">): void {
    const key = toolKey(event.operationId, event.toolCallId ?? "");
    const parent = (event.toolCallId ? this.#open.tools.get(key)?.context : undefined) ??
      this.#open.operationContext(event);
    const { name, attributes } = commandSpan(event);
    const span = this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
    if (this.#records(span)) span.setAttribute("process.command_line", this.#content(event.command));
    const list = this.#open.commands.get(key) ?? [];
    list.push({ span, context: parent, operationId: event.operationId, command: event.command });
    this.#open.commands.set(key, list);
  }

  #endCommand(event: EventOf<"command_end">): void {
    const key = toolKey(event.operationId, event.toolCallId ?? "");
    const list = this.#open.commands.get(key);
    if (!list) return;
    const index = Math.max(0, list.findIndex((entry) => entry.command === event.command));
    const [entry] = list.splice(index, 1);
    if (list.length === 0) this.#open.commands.delete(key);
    entry.span.setAttribute("process.exit.code", event.exitCode);
    // -1 means the command never ran to an exit code: refused, failed to start, or killed.
    if (event.exitCode === -1) return endWithError(entry.span, "command_failed");
    entry.span.end();
  }

  #startTask(event: EventOf<"task_start">): void {
    const parent = this.#open.taskParent(event);
    const { name, attributes } = taskSpan(event);
    const span = this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
    if (this.#records(span)) span.setAttribute("flue.task.prompt", this.#content(event.prompt));
    this.#open.tasks.set(event.taskId, { span, context: trace.setSpan(parent, span), operationId: event.operationId });
  }

  #endTask(event: EventOf<"task_end">): void {
    const entry = this.#open.tasks.get(event.taskId);
    if (!entry) return;
    this.#open.tasks.delete(event.taskId);
    if (this.#records(entry.span) && event.result !== undefined) {
      entry.span.setAttribute("flue.task.result", this.#content(event.result));
    }
    if (event.isError) {
      const message = event.error ? this.#text(event.error.message) : undefined;
      return endWithError(entry.span, event.error?.name ?? TASK_ERROR, message);
    }
    entry.span.end();
  }

  #startCompaction(event: EventOf<"compaction_start">): void {
    const parent = this.#open.operationContext(event);
    const span = this.#tracer.startSpan("compaction", {
      kind: SpanKind.INTERNAL,
      attributes: { "flue.compaction.reason": event.reason, "flue.compaction.estimated_tokens": event.estimatedTokens },
    }, parent);
    this.#open.compactions.get(event.operationId ?? "")?.span.end();
    this.#open.compactions.set(event.operationId ?? "", { span, context: parent, operationId: event.operationId });
  }

  #endCompaction(event: EventOf<"compaction">): void {
    const entry = this.#open.compactions.get(event.operationId ?? "");
    if (!entry) return;
    this.#open.compactions.delete(event.operationId ?? "");
    entry.span.setAttributes({
      "flue.compaction.messages_before": event.messagesBefore,
      "flue.compaction.messages_after": event.messagesAfter,
    });
    entry.span.end();
  }

  #log(event: EventOf<"log">): void {
    const target = (event.operationId ? this.#open.operations.get(event.operationId) : undefined) ??
      (event.runId ? this.#open.runs.get(event.runId) : undefined);
    if (!target) return;
    const attributes: Record<string, string> = { "log.level": event.level };
    if (this.#records(target.span)) {
      attributes["log.message"] = this.#content(event.message);
      if (event.attributes) attributes["log.attributes"] = this.#content(event.attributes);
    }
    target.span.addEvent("log", attributes);
  }

  #records(span: Span): boolean {
    return this.#recordContent && span.isRecording();
  }

  #content(value: unknown): string {
    return this.#text(contentValue(value));
  }

  #text(text: string): string {
    return this.#redactor ? this.#redactor.redactText(text) : text;
  }
}
