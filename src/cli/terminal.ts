/**
 * Terminal output for the CLI: colours that respect `NO_COLOR` and a TTY check, and a readable rendering of events.
 *
 * @module
 */

import type { FlueEvent } from "../events/event_types.ts";

/** Where the CLI writes; injectable so tests can capture output. */
export interface CliIo {
  /** Writes to standard output. */
  stdout(text: string): void;
  /** Writes to standard error. */
  stderr(text: string): void;
  /** Whether colours may be used on standard error. */
  color: boolean;
  /** Whether to show tool activity on standard error while a call runs (a person is watching a terminal). */
  progress?: boolean;
}

const encoder = new TextEncoder();

/**
 * The process's own standard streams, with colours when standard error is a terminal and `NO_COLOR` is unset.
 *
 * @returns The streams.
 */
export function processIo(): CliIo {
  const noColor = Deno.env.get("NO_COLOR");
  return {
    stdout: (text) => void Deno.stdout.writeSync(encoder.encode(text)),
    stderr: (text) => void Deno.stderr.writeSync(encoder.encode(text)),
    color: (noColor === undefined || noColor === "") && Deno.stderr.isTerminal(),
    progress: Deno.stderr.isTerminal(),
  };
}

/** ANSI styles that become plain text when colours are off. */
export interface Styles {
  /** Dimmed text. */
  dim(text: string): string;
  /** Bold text. */
  bold(text: string): string;
  /** Red text. */
  red(text: string): string;
  /** Green text. */
  green(text: string): string;
  /** Cyan text. */
  cyan(text: string): string;
}

/**
 * Styles for a stream.
 *
 * @param color Whether to emit ANSI codes.
 * @returns The styles.
 */
export function styles(color: boolean): Styles {
  const wrap = (open: number, close: number) => (text: string) => color ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return { dim: wrap(2, 22), bold: wrap(1, 22), red: wrap(31, 39), green: wrap(32, 39), cyan: wrap(36, 39) };
}

/**
 * One line describing tool, command and lifecycle activity, or `undefined` for events not shown.
 *
 * @param event The event.
 * @param style Styles to use.
 * @returns The line, without a newline.
 */
export function describeActivity(event: FlueEvent, style: Styles): string | undefined {
  switch (event.type) {
    case "tool_start":
      return style.cyan(`→ ${event.toolName} ${shorten(JSON.stringify(event.args), 120)}`);
    case "tool_end":
      return event.isError
        ? style.red(`✗ ${event.toolName}: ${shorten(event.result, 200)}`)
        : style.dim(`✓ ${event.toolName} (${Math.round(event.durationMs)} ms) ${shorten(event.result, 120)}`);
    case "command_start":
      return style.cyan(`$ ${event.command}`);
    case "command_end":
      return style.dim(`exit ${event.exitCode} (${Math.round(event.durationMs)} ms)`);
    case "log":
      return `${style.dim(`[${event.level}]`)} ${event.message}`;
    case "error":
      return style.red(`error: ${event.error.name}: ${event.error.message}`);
    case "aborted":
      return style.red(`aborted${event.reason ? `: ${event.reason}` : ""}`);
    case "run_start":
      return style.dim(`run ${event.runId} started`);
    case "run_end":
      return event.isError
        ? style.red(`run failed after ${Math.round(event.durationMs)} ms`)
        : style.dim(`run finished in ${Math.round(event.durationMs)} ms`);
    default:
      return undefined;
  }
}

/**
 * Cuts text to a length, on one line.
 *
 * @param text Any text.
 * @param max The most characters kept.
 * @returns The text on one line, with `…` when cut.
 */
export function shorten(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
