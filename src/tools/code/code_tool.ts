/**
 * The `code` tool: runs a JavaScript or TypeScript snippet in a Deno subprocess with no permissions, and returns what it
 * printed and the value it produced.
 *
 * @module
 */

import { z } from "zod";
import { abortErrorFrom, SandboxUnavailableError } from "../../errors.ts";
import { defineTool, type FlueTool } from "../tool.ts";
import { DEFAULT_MAX_OUTPUT_BYTES } from "../builtin/_truncate.ts";
import { buildSnippetModules } from "./_snippet_module.ts";
import { base64, findReport, hideModuleUrls, MAX_VALUE_CHARS, runnerProgram } from "./_code_runner.ts";
import { pyodideDirectory, PYTHON_LOAD_TIMEOUT_MS, pythonRunnerProgram, readySignal } from "./_python_runner.ts";
import { readCapped } from "../builtin/_read_capped.ts";

/** The languages a snippet may be written in. */
export type CodeLanguage = "javascript" | "typescript" | "python";

/** What to run and under which limits. */
export interface RunCodeOptions {
  /** The snippet. Its final expression, or a top-level `return`, is its value; top-level `await` works. */
  code: string;
  /**
   * Default `typescript`, which also runs plain JavaScript. `python` runs CPython (Pyodide) with its standard library;
   * its last expression is the value.
   */
  language?: CodeLanguage;
  /**
   * Kills the subprocess after this long. Default 10,000 ms. For Python it starts once CPython is loaded (which may take up to 180 s).
   */
  timeoutMs?: number;
  /** Heap cap of the subprocess, in MiB: V8's heap, and for Python the WebAssembly memory too. Default 128. */
  memoryMb?: number;
  /** Bytes kept of stdout and of stderr each. Default 50,000. */
  maxOutputBytes?: number;
  /** Kills the subprocess when aborted. */
  signal?: AbortSignal;
  /**
   * The `deno` executable to run the snippet with. Default `Deno.execPath()`, except in a compiled binary, where that
   * is the binary itself and this must be given.
   */
  denoPath?: string;
}

/** What a snippet did. */
export interface CodeResult {
  /** What it printed to stdout (cut at the cap). */
  stdout: string;
  /** What it printed to stderr (cut at the cap). */
  stderr: string;
  /** Whether the snippet produced a value (anything but `undefined`). */
  hasValue: boolean;
  /** The value as JSON data, when it could be expressed as JSON. */
  value?: unknown;
  /** The value as `Deno.inspect` printed it, when JSON could not express it. */
  inspected?: string;
  /** The error the snippet threw, or failed to compile with. */
  error?: { name: string; message: string };
  /** The subprocess's exit status; 124 after a timeout, 130 after an abort. */
  exitCode: number;
  /** Whether the timeout killed it. */
  timedOut: boolean;
  /** Whether it ran out of its memory cap. */
  memoryExceeded: boolean;
  /** Whether stdout or stderr was cut. */
  truncated: boolean;
}

/** Largest snippet accepted, in UTF-8 bytes: the program travels as a `data:` URL in one argument, which Linux caps. */
export const MAX_CODE_BYTES: number = 32 * 1024;

/** Linux refuses a single argument longer than 128 KiB (MAX_ARG_STRLEN); stay under it. */
const MAX_ARGUMENT_LENGTH = 128 * 1024 - 1;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MEMORY_MB = 128;
/** The value line is found in this much of stdout's end, so a chatty snippet does not lose its value. */
const RESULT_TAIL_BYTES = 1024 * 1024;

/**
 * Runs a snippet in a Deno subprocess with no permissions at all: no files (read is scoped to an empty temporary
 * directory, as one explicit allow flag keeps a future Deno from granting everything), no network, no environment
 * (cleared), no subprocesses, no FFI, no remote or npm imports. The snippet becomes the body of an async function;
 * its top-level `return`, or else its final expression, is the value, printed as JSON after a random marker.
 *
 * Requires `--allow-run` for the `deno` executable and `--allow-write` for the system temporary directory.
 *
 * @example Computing a value
 * ```ts
 * import { runCode } from "./code_tool.ts";
 * import assert from "node:assert/strict";
 *
 * const result = await runCode({ code: "const xs: number[] = [1, 2, 3];\nxs.reduce((a, b) => a + b, 0)" });
 * assert.equal(result.value, 6);
 * ```
 *
 * @param options The snippet, its language and limits.
 * @returns What it printed, its value or error, and how it ended.
 * @throws {RangeError} When the snippet or a limit is out of range.
 * @throws {SandboxUnavailableError} When no subprocess can be started here (Deno Deploy), or no `deno` is known.
 */
export async function runCode(options: RunCodeOptions): Promise<CodeResult> {
  const { code, language = "typescript", signal } = options;
  const timeoutMs = checkLimit(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, "timeoutMs", 1, 600_000);
  const memoryMb = checkLimit(options.memoryMb ?? DEFAULT_MEMORY_MB, "memoryMb", 16, 8_192);
  const maxOutputBytes = checkLimit(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES, "maxOutputBytes", 1, 1 << 30);
  if (typeof code !== "string") throw new TypeError(`Code must be a string, got ${typeof code}`);
  if (new TextEncoder().encode(code).length > MAX_CODE_BYTES) {
    throw new RangeError(`Code is longer than ${MAX_CODE_BYTES} bytes: split it into smaller snippets`);
  }
  if (language !== "javascript" && language !== "typescript" && language !== "python") {
    throw new TypeError(`Unknown language "${language}": use "javascript", "typescript" or "python"`);
  }
  if (signal?.aborted) throw abortErrorFrom(signal);
  const denoPath = options.denoPath ?? defaultDenoPath();

  const marker = `__flue_code_result_${crypto.randomUUID().replaceAll("-", "")}__`;
  const isPython = language === "python";
  const pyodide = isPython ? await pyodideDirectory() : undefined;
  const program = pyodide
    ? pythonRunnerProgram(code, pyodide, marker, MAX_VALUE_CHARS)
    : runnerProgram(buildSnippetModules(code).variants, language as "javascript" | "typescript", marker);
  const entry = `data:application/javascript;base64,${base64(program)}`;
  if (entry.length > MAX_ARGUMENT_LENGTH) {
    throw new RangeError(`Code is too long once encoded (${entry.length} characters): split it into smaller snippets`);
  }
  const emptyDir = await Deno.makeTempDir({ prefix: "flue-code-" });
  try {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(denoPath, {
        args: [
          "run",
          "--no-prompt",
          "--no-config",
          "--no-lock",
          "--no-remote",
          "--no-npm",
          // Python reads Pyodide's own files (its WebAssembly and standard library), and nothing else.
          `--allow-read=${pyodide ? decodeURIComponent(pyodide.pathname) : emptyDir}`,
          `--v8-flags=--max-old-space-size=${memoryMb},--wasm-max-mem-pages=${memoryMb * 16}`,
          entry,
        ],
        clearEnv: true,
        env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      throw new SandboxUnavailableError(
        `The code tool cannot start a Deno subprocess here (${
          (error as Error).message
        }): it needs --allow-run and a platform with subprocesses`,
        { cause: error },
      );
    }
    let timedOut = false;
    const kill = (): void => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (delayMs: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, delayMs);
    };
    // Python's own timeout starts once CPython is loaded, which the runner says on stderr.
    arm(isPython ? PYTHON_LOAD_TIMEOUT_MS : timeoutMs);
    const stderrStream: ReadableStream<Uint8Array> = isPython
      ? child.stderr.pipeThrough(readySignal(`${marker}ready`, () => arm(timeoutMs)))
      : child.stderr;
    signal?.addEventListener("abort", kill, { once: true });
    // An abort while the subprocess was starting fired no listener yet.
    if (signal?.aborted) kill();
    try {
      const [stdout, stderr, status] = await Promise.all([
        readCapped(child.stdout, maxOutputBytes, RESULT_TAIL_BYTES),
        readCapped(stderrStream, maxOutputBytes, 0),
        child.status,
      ]);
      if (signal?.aborted) throw abortErrorFrom(signal);
      const report = findReport(stdout.tail, marker);
      const shownStdout = report ? stdout.headBefore(stdout.totalBytes - report.lineBytes) : stdout.head;
      const stdoutCut = report ? stdout.totalBytes - report.lineBytes > maxOutputBytes : stdout.truncated;
      const memoryExceeded = !timedOut &&
        (/heap out of memory|Reached heap limit/i.test(stderr.head) || report?.payload.error?.name === "MemoryError");
      return {
        stdout: shownStdout + (stdoutCut ? `\n[stdout cut at ${maxOutputBytes} bytes]` : ""),
        stderr: hideModuleUrls(stderr.head) + (stderr.truncated ? `\n[stderr cut at ${maxOutputBytes} bytes]` : ""),
        hasValue: report?.payload.hasValue ?? false,
        ...(report?.payload.hasValue && "value" in report.payload ? { value: report.payload.value } : {}),
        ...(report?.payload.inspected !== undefined ? { inspected: report.payload.inspected } : {}),
        ...(report?.payload.error ? { error: report.payload.error } : {}),
        exitCode: timedOut ? 124 : status.code,
        timedOut,
        memoryExceeded,
        truncated: stdoutCut || stderr.truncated,
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", kill);
    }
  } finally {
    await Deno.remove(emptyDir, { recursive: true }).catch(() => {});
  }
}

/** Options of {@linkcode createCodeTool}. */
export interface CodeToolOptions {
  /** Timeout of a call that names none, in milliseconds. Default 10,000. */
  defaultTimeoutMs?: number;
  /** The longest timeout a call may name. Default 60,000. */
  maxTimeoutMs?: number;
  /** V8 heap cap, in MiB. Default 128. */
  memoryMb?: number;
  /** Bytes kept of stdout and of stderr each. Default 50,000. */
  maxOutputBytes?: number;
  /** The `deno` executable; see {@linkcode RunCodeOptions.denoPath}. */
  denoPath?: string;
}

/** The input of the `code` tool. */
export interface CodeInput {
  /** The snippet. */
  code: string;
  /** Its language. */
  language?: CodeLanguage;
  /** Kills it after this many milliseconds. */
  timeoutMs?: number;
}

/**
 * Creates the `code` tool: the model runs a snippet with {@linkcode runCode} and sees its value, output and error.
 *
 * @example Offering the code tool
 * ```ts
 * import { createCodeTool } from "./code_tool.ts";
 * import assert from "node:assert/strict";
 *
 * const tool = createCodeTool();
 * const context = { signal: new AbortController().signal, toolCallId: "1", emit: () => {} };
 * assert.equal(await tool.run({ code: "6 * 7" }, context), "value: 42");
 * ```
 *
 * @param options Default and largest timeout, memory cap and output cap.
 * @returns The tool.
 */
export function createCodeTool(options: CodeToolOptions = {}): FlueTool<CodeInput> {
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxTimeoutMs = options.maxTimeoutMs ?? 60_000;
  const input: z.ZodType<CodeInput> = z.strictObject({
    code: z.string().min(1).max(MAX_CODE_BYTES).describe(
      "The snippet. Its final expression (or a top-level return) is the result; top-level await works",
    ),
    language: z.enum(["javascript", "typescript", "python"]).optional().describe(
      "The language (default typescript); python has its standard library and no other packages",
    ),
    timeoutMs: z.number().int().min(1).max(maxTimeoutMs).optional().describe(
      `Kill it after this many milliseconds (default ${defaultTimeoutMs}, at most ${maxTimeoutMs})`,
    ),
  });
  return defineTool({
    name: "code",
    description: "Run a JavaScript, TypeScript or Python snippet for calculation or data processing and get its " +
      "result. " +
      "It runs isolated: no files, network, environment or subprocesses; only what you put in the snippet.",
    input,
    run: async ({ code, language, timeoutMs = defaultTimeoutMs }, context) => {
      const result = await runCode({
        code,
        language,
        timeoutMs,
        memoryMb: options.memoryMb,
        maxOutputBytes: options.maxOutputBytes,
        denoPath: options.denoPath,
        signal: context.signal,
      });
      return formatCodeResult(result, timeoutMs);
    },
  });
}

/**
 * Formats a snippet's result for the model: its value, output, error and any notes, each only when present.
 *
 * @param result What the snippet did.
 * @param timeoutMs The timeout it ran under, for the note when it was hit.
 * @returns The text for the model.
 */
export function formatCodeResult(result: CodeResult, timeoutMs: number): string {
  const parts: string[] = [];
  if (result.hasValue) {
    parts.push(`value: ${result.inspected ?? JSON.stringify(result.value, null, 2)}`);
  }
  if (result.stdout !== "") parts.push(`stdout:\n${result.stdout}`);
  // After a crash, stderr holds the runtime's own report (a GC trace, a stack) rather than the snippet's output.
  const crashed = result.error !== undefined || result.memoryExceeded || result.timedOut;
  if (result.stderr !== "" && !crashed) parts.push(`stderr:\n${result.stderr}`);
  if (result.error) parts.push(`error: ${result.error.name}: ${result.error.message}`);
  if (result.timedOut) parts.push(`[timed out after ${timeoutMs} ms and was killed]`);
  if (result.memoryExceeded) parts.push("[ran out of memory and was killed]");
  if (!crashed && result.exitCode !== 0) parts.push(`[exited with code ${result.exitCode}]`);
  return parts.length ? parts.join("\n") : "(no value and no output)";
}

function defaultDenoPath(): string {
  if (Deno.build.standalone) {
    throw new SandboxUnavailableError(
      "The code tool cannot use this compiled binary as its Deno runtime: pass denoPath with a deno executable",
    );
  }
  return Deno.execPath();
}

function checkLimit(value: number, name: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`Option "${name}" must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}
