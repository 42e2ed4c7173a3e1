/**
 * One running file runner subprocess: the NDJSON exchange over its stdin and stdout, requests in flight, per-request
 * timeouts and shutdown. {@linkcode DenoRunner} starts a new one when this one has died.
 *
 * @module
 */

import { SandboxUnavailableError } from "../errors.ts";

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
  timer: ReturnType<typeof setTimeout>;
}

const STDERR_TAIL_CHARS = 2000;
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
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Deno.errors.TimedOut(`The sandbox file runner did not answer "${op}" within ${timeoutMs} ms`));
        // A stuck operation would otherwise hold the process for good; the next request starts a fresh one.
        this.kill(`was stopped because "${op}" timed out`);
      }, timeoutMs);
      this.#pending.set(id, { op, resolve, reject, timer });
      const line = `${JSON.stringify({ ...params, id, op })}\n`;
      // A failed write means the process is gone; the reply reader then fails every pending request.
      this.#stdin.write(encoder.encode(line)).catch(() => this.kill("could not be written to"));
    });
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
    let buffered = "";
    try {
      for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        let newline = buffered.indexOf("\n");
        while (newline !== -1) {
          this.#settle(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf("\n");
        }
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
    clearTimeout(pending.timer);
    if (reply.ok === true) pending.resolve({ ok: true, value: reply.value });
    else pending.resolve({ ok: false, error: reply.error ?? { name: "Error", message: "The runner gave no error" } });
  }

  #failPending(): void {
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(pending.timer);
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
