/**
 * How the CLI prints a failure: `error: <message>`, then where in the user's own code it happened (the first stack frame
 * outside Flue and its dependencies, as `path:line:column`), then the chain of causes. `--debug` or `FLUE_DEBUG=1`
 * prints every stack in full instead.
 *
 * @module
 */

import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Styles } from "./terminal.ts";

/** Options of {@linkcode formatCliError}. */
export interface ErrorReportOptions {
  /** Colours. */
  style: Styles;
  /** Print full stacks of the error and each cause. */
  debug: boolean;
  /** Paths are shown relative to this directory when inside it. */
  cwd: string;
}

// Flue's own source folder: frames inside it are ours, not the user's.
const FLUE_SOURCE = new URL("../", import.meta.url).href;
const MAX_CAUSES = 8;

/**
 * Whether a debug switch is on: `--debug` among the arguments or `FLUE_DEBUG` set to something other than `0`.
 *
 * @param args The command-line arguments.
 * @returns Whether full stacks are wanted.
 */
export function isDebugRequested(args: readonly string[]): boolean {
  if (args.includes("--debug")) return true;
  try {
    const value = Deno.env.get("FLUE_DEBUG");
    return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
  } catch {
    return false; // no --allow-env
  }
}

/**
 * Formats an error for standard error.
 *
 * @example A workflow's failure with a cause
 * ```ts
 * import { formatCliError } from "./error_report.ts";
 * import { styles } from "./terminal.ts";
 *
 * const error = new Error("database unreachable", { cause: new Error("connection refused") });
 * const text = formatCliError(error, { style: styles(false), debug: false, cwd: "/" });
 * if (!text.startsWith("error: database unreachable\n")) throw new Error("unexpected");
 * if (!text.includes("caused by: connection refused")) throw new Error("unexpected");
 * ```
 *
 * @param error What was thrown.
 * @param options Colours, the debug switch and the directory paths are shown relative to.
 * @returns The text, ending with a newline.
 */
export function formatCliError(error: unknown, options: ErrorReportOptions): string {
  const { style, debug } = options;
  const lines: string[] = [];
  const chain = causeChain(error);
  chain.forEach((current, depth) => {
    const message = describe(current);
    lines.push(depth === 0 ? `${style.red("error:")} ${message}` : `  ${style.dim("caused by:")} ${message}`);
    if (debug) {
      for (const frame of stackFrames(current)) lines.push(`      ${style.dim(frame)}`);
      return;
    }
    const where = userFrame(current, options.cwd);
    if (where) lines.push(`    ${style.dim("at")} ${where}`);
  });
  if (!debug && chain.some((current) => current instanceof Error && current.stack)) {
    lines.push(style.dim("  (run with --debug or FLUE_DEBUG=1 for full stacks)"));
  }
  return `${lines.join("\n")}\n`;
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && chain.length < MAX_CAUSES && !chain.includes(current)) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

// The message without the class name, except where the name says something the message does not.
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = error.message || error.name;
  // Deno reports a module that does not parse as a TypeError whose message starts with "SyntaxError: ".
  if (message.startsWith("SyntaxError: ")) return `syntax error: ${message.slice("SyntaxError: ".length)}`;
  if (error instanceof SyntaxError) return `syntax error: ${message}`;
  return message;
}

function stackFrames(error: unknown): string[] {
  if (!(error instanceof Error) || !error.stack) return [];
  return error.stack.split("\n").filter((line) => /^\s+at /.test(line)).map((line) => line.trim());
}

/**
 * The first stack frame in the user's code: a `file:` URL outside Flue's source and outside dependency caches.
 *
 * @param error What was thrown.
 * @param cwd Paths inside it are shown relative to it.
 * @returns `path:line:column`, or `undefined` when no frame is the user's.
 */
export function userFrame(error: unknown, cwd: string): string | undefined {
  if (!(error instanceof Error) || !error.stack) return undefined;
  for (const match of error.stack.matchAll(/(file:\/\/[^\s()]+?):(\d+):(\d+)/g)) {
    const [, url, line, column] = match;
    if (url.startsWith(FLUE_SOURCE) || /\/(node_modules|deno|\.cache)\//.test(url) || url.includes("/jsr.io/")) {
      continue;
    }
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch {
      continue;
    }
    const shown = relative(cwd, path);
    return `${shown.startsWith("..") ? path : shown}:${line}:${column}`;
  }
  return undefined;
}
