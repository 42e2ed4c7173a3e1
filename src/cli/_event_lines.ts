/**
 * Renders a run's events as one readable line each, for `flue logs`: index, time, type, agent and what happened.
 * Consecutive text (or thinking) deltas of one turn are joined into a single line.
 *
 * @module
 */

import type { FlueEvent } from "../events/event_types.ts";
import { shorten, type Styles } from "./terminal.ts";

type DeltaEvent = Extract<FlueEvent, { type: "text_delta" | "thinking_delta" }>;

/** Writes events as lines, joining the deltas of one turn; call `flush()` after the last event. */
export class EventLineWriter {
  readonly #write: (line: string) => void;
  readonly #style: Styles;
  #pending?: { first: DeltaEvent; text: string };

  /**
   * @param write Receives each line, newline included.
   * @param style Styles to use.
   */
  constructor(write: (line: string) => void, style: Styles) {
    this.#write = write;
    this.#style = style;
  }

  /**
   * Takes the next event.
   *
   * @param event The event.
   */
  push(event: FlueEvent): void {
    if (event.type === "text_delta" || event.type === "thinking_delta") {
      const pending = this.#pending;
      if (pending && pending.first.type === event.type && pending.first.turnId === event.turnId) {
        pending.text += event.text;
        return;
      }
      this.flush();
      this.#pending = { first: event, text: event.text };
      return;
    }
    this.flush();
    this.#line(event, describe(event, this.#style));
  }

  /** Writes the joined deltas held back, if any. */
  flush(): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = undefined;
    const label = pending.first.type === "text_delta" ? "text" : "thinking";
    this.#line(pending.first, JSON.stringify(pending.text), label);
  }

  #line(event: FlueEvent, detail: string, label: string = event.type): void {
    const style = this.#style;
    const time = event.timestamp.slice(11, 23);
    const head = `${style.dim(`#${event.eventIndex}`.padStart(5))} ${style.dim(time)} ${label.padEnd(16)}`;
    this.#write(`${head} ${style.cyan(event.agent)}${detail ? ` ${detail}` : ""}\n`);
  }
}

/**
 * What one event says, after its type and agent.
 *
 * @param event The event.
 * @param style Styles to use.
 * @returns The detail text (may be empty).
 */
export function describe(event: FlueEvent, style: Styles): string {
  switch (event.type) {
    case "run_start":
      return `workflow ${event.workflow} ${style.dim(shorten(JSON.stringify(event.payload) ?? "", 120))}`;
    case "run_end":
      return event.isError
        ? style.red(`failed after ${ms(event.durationMs)}: ${event.error?.name}: ${event.error?.message}`)
        : `done in ${ms(event.durationMs)} ${style.dim(shorten(JSON.stringify(event.result) ?? "", 120))}`;
    case "operation_start":
      return event.operationKind;
    case "operation":
      return `${event.operationKind} in ${ms(event.durationMs)}${event.usage ? ` ${tokens(event.usage)}` : ""}`;
    case "turn_start":
      return event.model;
    case "turn":
      return `${event.model} ${tokens(event.usage)} ${event.stopReason} in ${ms(event.durationMs)}`;
    case "tool_start":
      return `${event.toolName} ${style.dim(shorten(JSON.stringify(event.args) ?? "", 120))}`;
    case "tool_end":
      return event.isError
        ? style.red(`${event.toolName} failed in ${ms(event.durationMs)}: ${shorten(event.result, 200)}`)
        : `${event.toolName} ok in ${ms(event.durationMs)} ${style.dim(shorten(event.result, 120))}`;
    case "task_start":
      return `${event.subagent ?? event.role ?? "task"} ${event.taskId} ${style.dim(shorten(event.prompt, 120))}`;
    case "task_end":
      return event.isError
        ? style.red(`${event.taskId} failed after ${ms(event.durationMs)}: ${event.error?.message ?? ""}`)
        : `${event.taskId} done in ${ms(event.durationMs)}`;
    case "command_start":
      return `$ ${event.command}`;
    case "command_end":
      return `exit ${event.exitCode} in ${ms(event.durationMs)} ${style.dim(event.command)}`;
    case "compaction_start":
      return `${event.reason}, about ${event.estimatedTokens} tokens`;
    case "compaction":
      return `${event.messagesBefore} → ${event.messagesAfter} messages in ${ms(event.durationMs)}`;
    case "log": {
      const attributes = event.attributes ? ` ${style.dim(shorten(JSON.stringify(event.attributes), 200))}` : "";
      const text = `[${event.level}] ${event.message}`;
      return `${event.level === "error" || event.level === "warn" ? style.red(text) : text}${attributes}`;
    }
    case "aborted":
      return style.red(event.reason ?? "aborted");
    case "error":
      return style.red(`${event.error.name}: ${event.error.message}`);
    case "text_delta":
    case "thinking_delta":
      return JSON.stringify(event.text);
    default:
      return "";
  }
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

function tokens(usage: { inputTokens: number; outputTokens: number; costUsd?: number }): string {
  const cost = usage.costUsd === undefined ? "" : `, $${usage.costUsd.toFixed(4)}`;
  return `(${usage.inputTokens} in, ${usage.outputTokens} out tokens${cost})`;
}
