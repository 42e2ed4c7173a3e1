/**
 * The `memory` sandbox: an in-memory workspace with a simulated shell (`npm:just-bash`), for places without
 * subprocesses such as Deno Deploy. Nothing it does reaches the host's files, processes or network.
 *
 * @module
 */

import { Bash, InMemoryFs } from "just-bash";
import { abortErrorFrom, PolicyDeniedError } from "../errors.ts";
import type {
  DirEntry,
  ExecOptions,
  FileStat,
  Sandbox,
  SandboxContext,
  SandboxPolicy,
  ShellResult,
} from "./sandbox.ts";
import { isInsideOrEqual, resolveInsideWorkspace, toWorkspaceRelative, WORKSPACE_ALIAS } from "./workspace_paths.ts";
import { planCommand } from "./shell/shell_policy.ts";
import { ShellFileSystem } from "./_shell_file_system.ts";
import { seedMemoryFileSystem } from "./_seed_memory.ts";
import {
  checkedEnv,
  cutOutput,
  decodeLatin1Bytes,
  lstatOrUndefined,
  positiveInteger,
  quoteWord,
  toDenoError,
} from "./_memory_support.ts";

/** Where the workspace lives inside the in-memory file system, and where commands see it. */
export const MEMORY_SANDBOX_ROOT: string = WORKSPACE_ALIAS;

/** Limits of a memory sandbox. Every limit has a default, so none is required. */
export interface MemorySandboxOptions {
  /** Most bytes all files together may hold, seeded files included (the shell's layout aside). Default 64 MiB. */
  maxFileSystemBytes?: number;
  /** Most files copied from `seedFrom`. Default 10,000. */
  maxSeedFiles?: number;
  /** Timeout of a command that names none, in milliseconds. Default 120,000. */
  defaultTimeoutMs?: number;
  /** Cap on captured bytes of stdout and of stderr each, when a command names none. Default 1 MiB. */
  defaultMaxOutputBytes?: number;
}

const DEFAULTS: Required<MemorySandboxOptions> = {
  maxFileSystemBytes: 64 * 1024 * 1024,
  maxSeedFiles: 10_000,
  defaultTimeoutMs: 120_000,
  defaultMaxOutputBytes: 1024 * 1024,
};

/** Room for the shell's own layout (command stubs in /bin, /proc), about 6 KB, on top of the workspace's budget. */
const SHELL_LAYOUT_BYTES = 64 * 1024;

/**
 * Creates a memory sandbox. Its workspace is `/workspace` in an in-memory file system; `context.seedFrom`, when given,
 * is copied in first (without `.git` and the state directory, and without following symlinks). Commands run in
 * `just-bash`'s simulated shell, with no network, no JavaScript or Python runtimes, and a read-only file system unless
 * the policy has `allowWrite`. The policy checks are those of every sandbox: paths stay inside the workspace, writes need
 * `allowWrite`, and commands need `allowShell` and pass `planCommand`.
 *
 * A simulated command runs on the caller's thread: a busy loop blocks the event loop until its timeout, which is a
 * hard deadline the shell checks between steps.
 *
 * Seeding needs `--allow-read` for `seedFrom`; nothing else needs permissions.
 *
 * @example Writing a file and reading it back with a command
 * ```ts
 * import { createMemorySandbox } from "./memory_sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * const sandbox = await createMemorySandbox({
 *   projectDir: "/project",
 *   stateDir: "/project/.flue",
 *   agent: "demo",
 *   instanceId: "1",
 *   session: "main",
 *   policy: {
 *     allowWrite: true,
 *     allowShell: true,
 *     allowedCommands: ["cat"],
 *     allowCompoundCommands: false,
 *     allowNet: false,
 *   },
 * });
 * await sandbox.writeFile("notes/hello.txt", "hello\n");
 * const result = await sandbox.exec("cat notes/hello.txt");
 * assert.equal(result.stdout, "hello\n");
 * await sandbox.close();
 * ```
 *
 * @param context The sandbox to create: its policy and optional seed directory.
 * @param options Size, time and output limits.
 * @returns The sandbox.
 * @throws {RangeError} When the seed directory holds more than the limits allow.
 */
export async function createMemorySandbox(context: SandboxContext, options?: MemorySandboxOptions): Promise<Sandbox> {
  const limits = resolveLimits(options);
  const policy: Readonly<SandboxPolicy> = Object.freeze({
    ...context.policy,
    allowedCommands: Object.freeze([...context.policy.allowedCommands]),
  });
  const files = new InMemoryFs(undefined, { maxTotalBytes: limits.maxFileSystemBytes + SHELL_LAYOUT_BYTES });
  await files.mkdir(MEMORY_SANDBOX_ROOT, { recursive: true });
  // Built once on the raw file system so the shell's layout (/bin, /dev, /proc) exists; later shells use a view
  // without synchronous methods, which just-bash takes as a sign not to rewrite it.
  new Bash({ fs: files, cwd: MEMORY_SANDBOX_ROOT, defenseInDepth: false });
  if (context.seedFrom) {
    await seedMemoryFileSystem(files, context.seedFrom, MEMORY_SANDBOX_ROOT, {
      maxFiles: limits.maxSeedFiles,
      skipDirectories: [context.stateDir],
    });
  }
  return new MemorySandbox(files, policy, limits);
}

class MemorySandbox implements Sandbox {
  readonly kind: string = "memory";
  readonly root: string = MEMORY_SANDBOX_ROOT;
  readonly policy: Readonly<SandboxPolicy>;
  readonly #files: InMemoryFs;
  readonly #shellFiles: ShellFileSystem;
  readonly #limits: Required<MemorySandboxOptions>;
  #closed = false;
  #revision = 0;
  #changesRunning = 0;

  /**
   * Changes after every write, removal and command; `undefined` while one is running, when the files cannot be known
   * to stay as they are.
   */
  get revision(): number | undefined {
    return this.#changesRunning > 0 ? undefined : this.#revision;
  }

  constructor(files: InMemoryFs, policy: Readonly<SandboxPolicy>, limits: Required<MemorySandboxOptions>) {
    this.#files = files;
    this.policy = policy;
    this.#limits = limits;
    this.#shellFiles = new ShellFileSystem(files, policy.allowWrite);
  }

  async readFile(path: string): Promise<string> {
    const real = await this.#resolve(path);
    return await this.#fileOperation(path, () => this.#files.readFile(real, "utf8"));
  }

  writeFile(path: string, content: string): Promise<void> {
    return this.#changing(() => this.#writeFile(path, content));
  }

  async #writeFile(path: string, content: string): Promise<void> {
    if (typeof content !== "string") {
      throw new TypeError(`Content for "${path}" must be a string, got ${typeof content}`);
    }
    this.#requireWrite(path);
    const real = await this.#resolve(path);
    if (real === MEMORY_SANDBOX_ROOT) {
      throw new Deno.errors.IsADirectory(`Cannot write to "${path}": it is a directory`);
    }
    await this.#fileOperation(path, () => this.#files.writeFile(real, content, "utf8"));
  }

  async stat(path: string): Promise<FileStat> {
    const real = await this.#resolve(path);
    const absolute = resolveInsideWorkspace(MEMORY_SANDBOX_ROOT, path);
    const link = await this.#fileOperation(path, () => this.#files.lstat(absolute));
    const target = await this.#fileOperation(path, () => this.#files.stat(real));
    return {
      path: toWorkspaceRelative(MEMORY_SANDBOX_ROOT, absolute),
      isFile: target.isFile,
      isDirectory: target.isDirectory,
      isSymlink: link.isSymbolicLink,
      size: target.size,
      modifiedAt: target.mtime.toISOString(),
    };
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const real = await this.#resolve(path);
    const entries = await this.#fileOperation(path, () => this.#files.readdirWithFileTypes(real));
    return entries.map((entry) => ({
      name: entry.name,
      isFile: entry.isFile,
      isDirectory: entry.isDirectory,
      isSymlink: entry.isSymbolicLink,
    }));
  }

  async exists(path: string): Promise<boolean> {
    const real = await this.#resolve(path);
    return await this.#files.exists(real);
  }

  mkdir(path: string): Promise<void> {
    return this.#changing(() => this.#mkdir(path));
  }

  async #mkdir(path: string): Promise<void> {
    this.#requireWrite(path);
    const real = await this.#resolve(path);
    await this.#fileOperation(path, () => this.#files.mkdir(real, { recursive: true }));
  }

  remove(path: string, options?: { recursive?: boolean }): Promise<void> {
    return this.#changing(() => this.#remove(path, options));
  }

  async #remove(path: string, options?: { recursive?: boolean }): Promise<void> {
    this.#requireWrite(path);
    const real = await this.#resolve(path);
    if (real === MEMORY_SANDBOX_ROOT) {
      throw new PolicyDeniedError(
        `removing the workspace root "${path}"`,
        "none",
        `Refusing to remove the workspace root "${path}": remove the entries inside it instead`,
      );
    }
    const stat = await this.#fileOperation(path, () => this.#files.lstat(real));
    if (stat.isDirectory && !options?.recursive) {
      const entries = await this.#files.readdir(real);
      if (entries.length > 0) {
        throw new Deno.errors.NotSupported(`Directory "${path}" is not empty: pass { recursive: true } to remove it`);
      }
    }
    await this.#fileOperation(path, () => this.#files.rm(real, { recursive: options?.recursive ?? false }));
  }

  exec(command: string, options: ExecOptions = {}): Promise<ShellResult> {
    return this.#changing(() => this.#exec(command, options));
  }

  async #exec(command: string, options: ExecOptions): Promise<ShellResult> {
    this.#requireOpen();
    if (typeof command !== "string") throw new TypeError(`Command must be a string, got ${typeof command}`);
    const plan = planCommand(command, this.policy);
    const cwd = await this.#resolve(options.cwd ?? ".");
    const env = checkedEnv(options.env);
    const timeoutMs = positiveInteger(options.timeoutMs, this.#limits.defaultTimeoutMs, "timeoutMs");
    const maxOutputBytes = positiveInteger(
      options.maxOutputBytes,
      this.#limits.defaultMaxOutputBytes,
      "maxOutputBytes",
    );
    if (options.signal?.aborted) throw abortErrorFrom(options.signal);

    const shell = new Bash({
      fs: this.#shellFiles,
      cwd,
      env: { HOME: MEMORY_SANDBOX_ROOT, ...env },
      // just-bash's defense in depth patches process-wide globals while a script runs and prints to stdout on Deno.
      // It guards JavaScript and Python runtimes this shell never enables, so it stays off in a shared harness process.
      defenseInDepth: false,
      executionLimits: {
        maxExecutionTimeMs: timeoutMs,
        // At its own output cap just-bash fails the command and drops the output, so that cap sits well above ours.
        maxOutputSize: Math.max(16 * 1024 * 1024, maxOutputBytes * 4),
      },
    });
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout.signal, options.signal]) : timeout.signal;
    const started = performance.now();
    let stdout: string;
    let stderr: string;
    let exitCode: number;
    try {
      const result = plan.kind === "argv"
        ? await shell.exec(quoteWord(plan.argv[0]), { args: plan.argv.slice(1), signal })
        : await shell.exec(plan.script, { signal, rawScript: true });
      stdout = result.stdoutKind === "bytes" ? decodeLatin1Bytes(result.stdout) : result.stdout;
      stderr = result.stderr;
      exitCode = result.exitCode;
    } catch (error) {
      // just-bash lets some file system errors (a redirect into a read-only file system) escape exec.
      stdout = "";
      stderr = `bash: ${error instanceof Error ? error.message : String(error)}\n`;
      exitCode = 1;
    } finally {
      clearTimeout(timer);
    }
    const aborted = options.signal?.aborted ?? false;
    const timedOut = !aborted &&
      (timeout.signal.aborted || (exitCode === 124 && performance.now() - started >= timeoutMs));
    const cutStdout = cutOutput(stdout, maxOutputBytes);
    const cutStderr = cutOutput(stderr, maxOutputBytes);
    return {
      stdout: cutStdout.text,
      stderr: cutStderr.text,
      exitCode: aborted ? 130 : timedOut ? 124 : exitCode,
      truncated: cutStdout.truncated || cutStderr.truncated,
      timedOut,
      aborted,
    };
  }

  async #changing<T>(change: () => Promise<T>): Promise<T> {
    this.#changesRunning++;
    try {
      return await change();
    } finally {
      this.#changesRunning--;
      this.#revision++;
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #requireOpen(): void {
    if (this.#closed) throw new TypeError("The memory sandbox is closed: create a new one");
  }

  #requireWrite(path: string): void {
    this.#requireOpen();
    if (!this.policy.allowWrite) throw new PolicyDeniedError(`write to "${path}"`, "allowWrite");
  }

  /**
   * Resolves `path` inside the workspace, following symlinks the shell may have made, and refuses any that leads out.
   * Returns the real path, so the operation itself does not follow a link again.
   */
  async #resolve(path: string): Promise<string> {
    this.#requireOpen();
    const absolute = resolveInsideWorkspace(MEMORY_SANDBOX_ROOT, path);
    let existing = absolute;
    const missing: string[] = [];
    while (!(await lstatOrUndefined(this.#files, existing))) {
      missing.unshift(existing.slice(existing.lastIndexOf("/") + 1));
      existing = existing.slice(0, existing.lastIndexOf("/")) || "/";
    }
    let real: string;
    try {
      real = await this.#files.realpath(existing);
    } catch (error) {
      throw new PolicyDeniedError(
        `path "${path}"`,
        "none",
        `Path "${path}" goes through a symlink that points nowhere: paths must stay inside the workspace`,
        { cause: error },
      );
    }
    const resolved = missing.length ? `${real === "/" ? "" : real}/${missing.join("/")}` : real;
    if (!isInsideOrEqual(MEMORY_SANDBOX_ROOT, resolved)) {
      throw new PolicyDeniedError(
        `path "${path}"`,
        "none",
        `Path "${path}" leaves the workspace through a symlink: paths must stay inside the workspace`,
      );
    }
    return resolved;
  }

  /** Runs a file system call and turns just-bash's errno messages into Deno's error classes, quoting the given path. */
  async #fileOperation<T>(path: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw toDenoError(error, path);
    }
  }
}

function resolveLimits(options: MemorySandboxOptions | undefined): Required<MemorySandboxOptions> {
  return {
    maxFileSystemBytes: positiveInteger(options?.maxFileSystemBytes, DEFAULTS.maxFileSystemBytes, "maxFileSystemBytes"),
    maxSeedFiles: positiveInteger(options?.maxSeedFiles, DEFAULTS.maxSeedFiles, "maxSeedFiles"),
    defaultTimeoutMs: positiveInteger(options?.defaultTimeoutMs, DEFAULTS.defaultTimeoutMs, "defaultTimeoutMs"),
    defaultMaxOutputBytes: positiveInteger(
      options?.defaultMaxOutputBytes,
      DEFAULTS.defaultMaxOutputBytes,
      "defaultMaxOutputBytes",
    ),
  };
}
