/**
 * One running file runner subprocess: the NDJSON exchange over its stdin and stdout, requests in flight, per-request
 * timeouts and shutdown. {@linkcode DenoRunner} starts a new one when this one has died.
 *
 * @module
 */

import { SandboxUnavailableError } from "../../errors.ts";

/** A failure reported by the runner: the error's name and message, and for policy denials what and which option. */
export interface RunnerFailure {
  /** The error name, such as `NotFound`, `NotCapable` or `PolicyDenied`. */
  name: string;
  /** The runner's message, naming workspace paths. */
  message: string;
  /** For `PolicyDenied`: what was denied. */
  denied?: string;
  /** For `PolicyDenied`: the option that would allow it. */
  option?: string;
  /** The OS error code, such as `ENOTEMPTY`, when there is one. */
  code?: string;
}

/** The runner exited before answering a request; whether the request ran is unknown. */
export class RunnerExitedError extends Error {
  /**
   * Creates the error.
   *
   * @param message What happened, with the runner's last words.
   */
  constructor(message: string) {
    super(message);
    this.name = "RunnerExitedError";
  }
}

/** The outcome of one request: a value, or a failure the runner reported. */
export type RunnerOutcome = { ok: true; value: unknown } | { ok: false; error: RunnerFailure };

interface Pending {
  op: string;
  resolve: (outcome: RunnerOutcome) => void;
  reject: (error: Error) => void;
  /** When to give up, on the `performance.now()` clock. */
  deadline: number;
  timeoutMs: number;
}

const STDERR_TAIL_CHARS = 2000;
const REPLY_CHUNK_BYTES = 64 * 1024;
const encoder = new TextEncoder();

/** A spawned runner. Replies are matched to requests by id, so several requests can be in flight. */
export class RunnerProcess {
  /** The subprocess id. */
  readonly pid: number;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pending = new Map<number, Pending>();
  readonly #finished: Promise<void>;
  #nextId = 1;
  #outgoing: string[] = [];
  #isWriting = false;
  #writing: Promise<void> | undefined;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #alive = true;
  #stderrTail = "";
  #endReason: string | undefined;

  /**
   * Starts a runner.
   *
   * @param denoPath The deno binary.
   * @param args The arguments after the binary.
   * @param cwd The working directory.
   * @throws {SandboxUnavailableError} When the binary cannot be run.
   */
  constructor(denoPath: string, args: string[], cwd: string) {
    try {
      this.#child = new Deno.Command(denoPath, {
        args,
        cwd,
        clearEnv: true,
        env: {},
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new SandboxUnavailableError(
          `The Deno binary "${denoPath}" that runs sandbox file operations was not found: install deno, or set ` +
            `FLUE_DENO_PATH or the denoPath option to its path`,
          { cause: error, installCommand: "curl -fsSL https://deno.land/install.sh | sh" },
        );
      }
      if (error instanceof Deno.errors.NotCapable) {
        throw new SandboxUnavailableError(
          `Starting the sandbox file runner "${denoPath}" needs run permission: start flue with --allow-run`,
          { cause: error },
        );
      }
      throw error;
    }
    this.pid = this.#child.pid;
    this.#stdin = this.#child.stdin.getWriter();
    this.#finished = Promise.all([this.#readReplies(), this.#readStderr()]).then(() => this.#failPending());
  }

  /** Whether the process may still answer. */
  get alive(): boolean {
    return this.#alive;
  }

  /**
   * Sends one request and waits for its reply.
   *
   * @param op The operation name.
   * @param params The operation's parameters.
   * @param timeoutMs How long to wait before giving up and stopping the runner.
   * @returns The runner's outcome.
   * @throws {Deno.errors.TimedOut} When no reply comes in time.
   * @throws {RunnerExitedError} When the runner dies before replying.
   */
  send(op: string, params: Record<string, unknown>, timeoutMs: number): Promise<RunnerOutcome> {
    if (!this.#alive) return Promise.reject(this.#deathError());
    const id = this.#nextId++;
    return new Promise<RunnerOutcome>((resolve, reject) => {
      this.#pending.set(id, { op, resolve, reject, deadline: performance.now() + timeoutMs, timeoutMs });
      this.#watchdog ??= this.#armWatchdog(timeoutMs);
      this.#outgoing.push(JSON.stringify({ ...params, id, op }));
      if (!this.#isWriting) this.#writeQueued();
    });
  }

  // One timer watches every request's deadline, rather than a timer per request, which would cost more than many of
  // the requests themselves. It is armed again only while requests wait.
  #armWatchdog(delayMs: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => this.#checkDeadlines(), delayMs);
    // The pending reply read keeps the program alive while requests wait; the watchdog need not.
    Deno.unrefTimer(timer);
    return timer;
  }

  #checkDeadlines(): void {
    this.#watchdog = undefined;
    const now = performance.now();
    let next = Infinity;
    for (const [id, pending] of this.#pending) {
      if (pending.deadline > now) {
        next = Math.min(next, pending.deadline);
        continue;
      }
      this.#pending.delete(id);
      pending.reject(
        new Deno.errors.TimedOut(
          `The sandbox file runner did not answer "${pending.op}" within ${pending.timeoutMs} ms`,
        ),
      );
      // A stuck operation would otherwise hold the process for good; the next request starts a fresh one.
      this.kill(`was stopped because "${pending.op}" timed out`);
    }
    if (next !== Infinity) this.#watchdog = this.#armWatchdog(next - now);
  }

  // A request goes out at once when no write is under way; those made meanwhile wait and then leave together, so that
  // a burst of requests costs a few writes rather than one each, without holding any request back.
  #writeQueued(): void {
    const bytes = encoder.encode(`${this.#outgoing.join("\n")}\n`);
    this.#outgoing.length = 0;
    this.#isWriting = true;
    this.#writing = this.#stdin.write(bytes).then(
      () => {
        this.#isWriting = false;
        this.#writing = undefined;
        if (this.#outgoing.length > 0) this.#writeQueued();
      },
      // A failed write means the process is gone; the reply reader then fails every pending request.
      () => {
        this.#isWriting = false;
        this.#writing = undefined;
        this.kill("could not be written to");
      },
    );
  }

  /**
   * Kills the process at once. Requests in flight fail.
   *
   * @param reason Words for the failure message, after "The sandbox file runner".
   */
  kill(reason: string): void {
    this.#endReason ??= reason;
    this.#alive = false;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }

  /**
   * Closes stdin so the runner finishes what is in flight and exits; kills it after `graceMs`.
   *
   * @param graceMs How long to wait for a clean exit.
   * @returns A promise that settles when the process and its pipes are done.
   */
  async close(graceMs: number): Promise<void> {
    this.#endReason ??= "was closed";
    this.#alive = false;
    // Requests already accepted go out first, so that closing answers them rather than failing them.
    for (let turn = 0; this.#writing !== undefined && turn < 1000; turn++) await this.#writing;
    await this.#stdin.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), graceMs));
    const outcome = await Promise.race([this.#finished.then(() => "done" as const), graceOver]);
    clearTimeout(timer);
    if (outcome === "late") this.kill("was killed because it did not exit when closed");
    await this.#finished;
  }

  /** Resolves when the process has exited and both pipes are drained. */
  get finished(): Promise<void> {
    return this.#finished;
  }

  async #readReplies(): Promise<void> {
    // Read without a decoding stream, which costs several promises per chunk. Only the new chunk is searched for a
    // newline (JSON text has none inside), so a long reply costs time linear in its length.
    const reader = this.#child.stdout.getReader({ mode: "byob" });
    const decoder = new TextDecoder();
    const partial: string[] = [];
    // One buffer, handed back and forth, instead of a fresh 64 KiB buffer for every read.
    let buffer = new ArrayBuffer(REPLY_CHUNK_BYTES);
    try {
      for (;;) {
        const { done, value } = await reader.read(new Uint8Array(buffer));
        if (done || value === undefined) break;
        buffer = value.buffer as ArrayBuffer;
        const text = decoder.decode(value, { stream: true });
        let start = 0;
        for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
          partial.push(text.slice(start, newline));
          this.#settle(partial.join(""));
          partial.length = 0;
          start = newline + 1;
        }
        if (start < text.length) partial.push(text.slice(start));
      }
    } catch {
      // The pipe broke because the process died; the status below says how.
    }
    const status = await this.#child.status;
    this.#alive = false;
    this.#endReason ??= status.signal
      ? `exited unexpectedly on signal ${status.signal}`
      : `exited unexpectedly with code ${status.code}`;
  }

  async #readStderr(): Promise<void> {
    try {
      for await (const chunk of this.#child.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderrTail = (this.#stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
      }
    } catch {
      // Nothing more to keep.
    }
  }

  #settle(line: string): void {
    let reply: { id?: unknown; ok?: unknown; value?: unknown; error?: RunnerFailure };
    try {
      reply = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof reply.id !== "number") return;
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (reply.ok === true) pending.resolve({ ok: true, value: reply.value });
    else pending.resolve({ ok: false, error: reply.error ?? { name: "Error", message: "The runner gave no error" } });
  }

  #failPending(): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      pending.reject(this.#deathError(pending.op));
    }
  }

  #deathError(op?: string): RunnerExitedError {
    const stderr = this.#stderrTail.trim();
    const during = op === undefined ? "" : ` during "${op}"`;
    return new RunnerExitedError(
      `The sandbox file runner ${this.#endReason ?? "is not running"}${during}` +
        (stderr === "" ? "" : `; its last output: ${stderr}`),
    );
  }
}
