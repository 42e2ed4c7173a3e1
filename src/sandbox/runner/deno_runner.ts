/**
 * The Deno file runner: the second sandbox layer. File operations of the `virtual` and `local` sandboxes run in a
 * long-lived Deno subprocess whose permission flags name only the directory it serves, itself under bubblewrap where
 * available, so that a bug in the first layer still cannot reach the rest of the disk. Sandboxes below one served
 * directory share a process from a bounded {@linkcode RunnerPool}.
 *
 * @module
 */

import { PolicyDeniedError } from "../../errors.ts";
import type { DirEntry, FileStat } from "../sandbox.ts";
import { RunnerExitedError, type RunnerFailure, type RunnerOutcome } from "./_runner_process.ts";
import { buildRunnerArgs, resolveDenoPath, type RunnerIsolation } from "./_runner_command.ts";
import { type RunnerLease, RunnerPool } from "./runner_pool.ts";
import { isInsideOrEqual, normalizePath, resolveInsideWorkspace, toWorkspaceRelative } from "../workspace_paths.ts";

export type { RunnerIsolation } from "./_runner_command.ts";

/** Options of {@linkcode DenoRunner.start}. */
export interface DenoRunnerOptions {
  /** The workspace: an absolute path of an existing directory. Symlinks in it are resolved once, here. */
  workspace: string;
  /** Grant `--allow-write` for the workspace. Without it every write fails with a `PolicyDeniedError`. */
  allowWrite: boolean;
  /** Paths relative to the workspace that may be read but never written through the runner, such as `.git`. */
  readOnlyPaths?: readonly string[];
  /** Paths relative to the workspace that may be neither read nor written, such as the state directory. */
  hiddenPaths?: readonly string[];
  /**
   * The directory the runner process serves: the workspace (the default) or a directory above it, such as the folder
   * of every `virtual` workspace, so that one process serves them all. Its path must not contain a comma.
   */
  servedRoot?: string;
  /**
   * The pool whose process serves the workspace. Default a private pool of one process, stopped by `close()`; pass
   * `defaultRunnerPool()` to share processes (then `readOnlyPaths` and `hiddenPaths` are kept by the runner's checks,
   * not also by permission flags, unless the served directory is the workspace).
   */
  pool?: RunnerPool;
  /**
   * Whether the runner runs under bubblewrap, with only the served directory mounted: `auto` (the default) where
   * bubblewrap works, `bubblewrap` always or fail with `SandboxUnavailableError`, `none` never.
   */
  isolation?: RunnerIsolation;
  /**
   * The deno binary to run. Defaults to `FLUE_DENO_PATH`, then to the running deno (`Deno.execPath()`). In a binary made
   * by `deno compile`, `Deno.execPath()` is that binary, which cannot run the runner; then `deno` on `PATH` is used, so
   * compiled binaries need deno installed, or this option or `FLUE_DENO_PATH` set.
   */
  denoPath?: string;
  /** How long one request may take before the runner is stopped and restarted. Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Largest file `readFile` returns and `grep` searches, in bytes. Default 10 MiB. */
  maxReadBytes?: number;
  /**
   * How long the subprocess may sit idle before it is stopped, in milliseconds; the next request starts a new one.
   * Default 60 000. An agent instance with many sessions would otherwise keep one deno process per session it ever
   * touched.
   */
  idleMs?: number;
  /**
   * Tests only: turn off the runner's own path checks (workspace prefix, hidden and read-only paths) to show that its
   * permission flags refuse the same accesses on their own.
   */
  unsafeSkipRunnerPathChecks?: boolean;
}

/** Options of {@linkcode DenoRunner.glob}. */
export interface GlobOptions {
  /**
   * The file or directory to search, relative to the workspace; the pattern is matched against paths relative to it. A
   * file is the only candidate, matched by its name. Default the workspace root.
   */
  path?: string;
  /** Most paths returned. Default 1000. */
  maxResults?: number;
  /** Most files looked at, in walk order; see {@linkcode GlobResult.isComplete}. Default no limit but the walk's own. */
  maxFiles?: number;
}

/** What {@linkcode DenoRunner.glob} found. */
export interface GlobResult {
  /**
   * Matching regular files, relative to the workspace root, sorted. The walk goes breadth first and by name, leaves out
   * links and special files, does not enter `.git`, `node_modules` and `.flue` below the directory it starts in, and
   * starts in the leading directories the pattern names without wildcards.
   */
  paths: string[];
  /** Whether more matched than `maxResults`. */
  truncated: boolean;
  /** Whether every file was looked at: false when the walk stopped at `maxFiles` files or at 200,000 entries. */
  isComplete: boolean;
  /** The path searched, relative to the workspace root, with links resolved (`.` for the root). */
  searched: string;
}

/** Options of {@linkcode DenoRunner.grep}. */
export interface GrepOptions {
  /** A file or directory to search, relative to the workspace. Default the whole workspace. */
  path?: string;
  /** Only files matching this glob; one without `/` is matched against file names at any depth. */
  glob?: string;
  /** Match without regard to case. */
  ignoreCase?: boolean;
  /** Most matches returned. Default 200. */
  maxMatches?: number;
  /** Most files looked at, in walk order (filtered out or not). Default no limit but the walk's own. */
  maxFiles?: number;
  /** Files larger than this many bytes are skipped and counted. Default the runner's read limit. */
  maxFileBytes?: number;
  /** The search stops before a file that would take the bytes searched past this. Default no limit. */
  maxTotalBytes?: number;
  /** Characters of a matching line returned. Default 400. */
  maxLineLength?: number;
}

/** One matching line. */
export interface GrepMatch {
  /** The file, relative to the workspace root. */
  path: string;
  /** The line number, from 1. */
  line: number;
  /** The line's text without its line break, cut after `maxLineLength` characters with `...` appended. */
  text: string;
  /** The line's whole length in characters, also when `text` was cut. */
  length: number;
}

/**
 * What {@linkcode DenoRunner.grep} found. Files are walked as {@linkcode GlobResult.paths} describes (without starting
 * deeper); binary files (a NUL in the first 8192 characters) and files over the read limit are skipped. A pattern is
 * tried on the first 10,000 characters of a line, so that a pathological one meets bounded input.
 */
export interface GrepResult {
  /** The matches in walk order. */
  matches: GrepMatch[];
  /** Whether the search stopped at `maxMatches`. */
  truncated: boolean;
  /** Whether every file was looked at or counted: false when the walk stopped at `maxFiles` files or 200,000 entries. */
  isComplete: boolean;
  /** The path searched, relative to the workspace root, with links resolved (`.` for the root). */
  searched: string;
  /** How many files were skipped for being larger than `maxFileBytes`. */
  filesOverSize: number;
  /** The bytes of the files searched. */
  bytesSearched: number;
  /** Whether the search stopped before a file that would have passed `maxTotalBytes`. */
  stoppedAtBytes: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_IDLE_MS = 60_000;
const DEFAULT_MAX_READ_BYTES = 10 * 1024 * 1024;
const WRITE_OPERATIONS = new Set(["writeFile", "mkdir", "remove"]);

/**
 * A file runner for one workspace. Requests may overlap; a runner that crashes or times out is replaced on the next
 * request. Call {@linkcode DenoRunner.close} when done, or the subprocess keeps the program alive.
 *
 * Needs `--allow-run` for the deno binary.
 *
 * @example Reading a file through the runner
 * ```ts ignore
 * import { DenoRunner } from "./deno_runner.ts";
 *
 * const runner = await DenoRunner.start({ workspace: "/srv/ws", allowWrite: true });
 * try {
 *   await runner.writeFile("notes/a.txt", "hello");
 *   console.log(await runner.readFile("notes/a.txt"));
 * } finally {
 *   await runner.close();
 * }
 * ```
 */
export class DenoRunner {
  /** The workspace's real path. */
  readonly workspace: string;
  /** Whether the runner was granted write access. */
  readonly allowWrite: boolean;
  /** The deno binary in use. */
  readonly denoPath: string;
  readonly #lease: RunnerLease;
  readonly #ownPool: RunnerPool | undefined;
  #closed = false;

  private constructor(workspace: string, allowWrite: boolean, denoPath: string, lease: RunnerLease, own?: RunnerPool) {
    this.workspace = workspace;
    this.allowWrite = allowWrite;
    this.denoPath = denoPath;
    this.#lease = lease;
    this.#ownPool = own;
  }

  /**
   * Starts a runner (or joins a pooled process serving the same directory) and waits until it answers, so that a
   * missing deno or a bad workspace shows up here.
   *
   * @param options The workspace, write access and limits.
   * @returns The running runner.
   * @throws {TypeError} When the workspace is not an absolute path of a directory inside the served directory, or a
   *   path has a comma.
   * @throws {SandboxUnavailableError} When deno cannot be started.
   */
  static async start(options: DenoRunnerOptions): Promise<DenoRunner> {
    if (typeof options.workspace !== "string" || !options.workspace.startsWith("/")) {
      throw new TypeError(`Workspace "${options.workspace}" is not an absolute path: pass an absolute directory path`);
    }
    // Synchronous: quick system calls, cheaper than trips through the thread pool when a session opens under load.
    const workspace = Deno.realPathSync(options.workspace);
    if (!Deno.statSync(workspace).isDirectory) {
      throw new TypeError(`Workspace "${options.workspace}" is not a directory`);
    }
    const servedRoot = options.servedRoot === undefined ? workspace : Deno.realPathSync(options.servedRoot);
    if (!isInsideOrEqual(servedRoot, workspace)) {
      throw new TypeError(`Workspace "${workspace}" is not inside the served directory "${servedRoot}"`);
    }
    const allowWrite = options.allowWrite === true;
    const denoPath = resolveDenoPath(options.denoPath);
    const isDedicated = servedRoot === workspace;
    const readOnlyPaths = (options.readOnlyPaths ?? []).map((entry) => protectedEntry(workspace, entry));
    const hiddenPaths = (options.hiddenPaths ?? []).map((entry) => protectedEntry(workspace, entry));
    const spec = {
      servedRoot,
      denoPath,
      allowWrite,
      isolation: options.isolation ?? "auto",
      maxReadBytes: positiveOption("maxReadBytes", options.maxReadBytes, DEFAULT_MAX_READ_BYTES),
      requestTimeoutMs: positiveOption("requestTimeoutMs", options.requestTimeoutMs, DEFAULT_TIMEOUT_MS),
      idleMs: positiveOption("idleMs", options.idleMs, DEFAULT_IDLE_MS),
      // Flags can name a workspace's protected paths only when the process serves that workspace alone.
      readOnlyPaths: isDedicated ? readOnlyPaths : [],
      hiddenPaths: isDedicated ? hiddenPaths : [],
      unsafeSkipRunnerPathChecks: options.unsafeSkipRunnerPathChecks === true,
    };
    // Checked here, so that a bad path fails at start rather than at the first request.
    buildRunnerArgs(servedRoot, spec);
    const own = options.pool === undefined ? new RunnerPool({ maxRunners: 1 }) : undefined;
    const lease = (options.pool ?? own!).lease(spec, workspace, { readOnlyPaths, hiddenPaths });
    const runner = new DenoRunner(workspace, allowWrite, denoPath, lease, own);
    try {
      await runner.request("ping");
    } catch (error) {
      await runner.close();
      throw error;
    }
    return runner;
  }

  /** The id of the process serving this workspace (bwrap's when confined), or `undefined` while none runs. */
  get pid(): number | undefined {
    return this.#closed ? undefined : this.#lease.pid;
  }

  /**
   * Sends one request as it is, without the first layer's path checks: for tests that probe the runner's own checks.
   *
   * @param op The operation: `ping`, `readFile`, `writeFile`, `stat`, `readdir`, `exists`, `mkdir`, `remove`, `glob`
   *   or `grep`.
   * @param params The operation's parameters; `path` may be any string.
   * @returns The operation's raw value.
   */
  async request(op: string, params: Record<string, unknown> = {}): Promise<unknown> {
    let outcome: RunnerOutcome;
    try {
      outcome = await this.#send(op, params);
    } catch (error) {
      // A runner that died before answering is replaced; a read is safe to ask again, a write may have happened.
      if (!(error instanceof RunnerExitedError) || WRITE_OPERATIONS.has(op)) throw error;
      outcome = await this.#send(op, params);
    }
    if (outcome.ok) return outcome.value;
    const shown = typeof params.path === "string" ? this.#shownPath(params.path) : undefined;
    throw this.#toError(op, shown, outcome.error);
  }

  /**
   * Reads a UTF-8 text file.
   *
   * @param path The file, relative to the workspace.
   * @returns Its text.
   */
  async readFile(path: string): Promise<string> {
    return await this.request("readFile", { path: this.#inside(path) }) as string;
  }

  /**
   * Writes a UTF-8 text file, creating its parent directories.
   *
   * @param path The file, relative to the workspace.
   * @param content The text.
   * @returns A promise that settles when written.
   */
  async writeFile(path: string, content: string): Promise<void> {
    if (typeof content !== "string") throw new TypeError(`Content for "${path}" must be a string`);
    await this.request("writeFile", { path: this.#inside(path), content });
  }

  /**
   * Facts about a path; a link is followed, and reported only when it stays inside the workspace.
   *
   * @param path The path, relative to the workspace.
   * @returns Its facts, with `path` relative to the workspace.
   */
  async stat(path: string): Promise<FileStat> {
    const absolute = this.#inside(path);
    const facts = await this.request("stat", { path: absolute }) as Omit<FileStat, "path">;
    return { path: toWorkspaceRelative(this.workspace, absolute), ...facts };
  }

  /**
   * Lists a directory, sorted by name.
   *
   * @param path The directory, relative to the workspace.
   * @returns Its entries.
   */
  async readdir(path: string): Promise<DirEntry[]> {
    return await this.request("readdir", { path: this.#inside(path) }) as DirEntry[];
  }

  /**
   * Whether a path exists.
   *
   * @param path The path, relative to the workspace.
   * @returns `true` when it exists.
   */
  async exists(path: string): Promise<boolean> {
    return await this.request("exists", { path: this.#inside(path) }) as boolean;
  }

  /**
   * Creates a directory and its parents.
   *
   * @param path The directory, relative to the workspace.
   * @returns A promise that settles when created.
   */
  async mkdir(path: string): Promise<void> {
    await this.request("mkdir", { path: this.#inside(path) });
  }

  /**
   * Removes a file or link, or a directory with `recursive`. A link is removed, not what it points to.
   *
   * @param path The path, relative to the workspace.
   * @param options `recursive` to remove a directory with its contents.
   * @returns A promise that settles when removed.
   */
  async remove(path: string, options?: { recursive?: boolean }): Promise<void> {
    await this.request("remove", { path: this.#inside(path), recursive: options?.recursive === true });
  }

  /**
   * Finds files whose path matches a glob: `*` and `?` stay within a path segment, `**` spans segments (`**\/` also
   * matches none), `[abc]`/`[!abc]` are classes and `{a,b}` alternatives. No link is followed.
   *
   * @param pattern The glob, relative to `options.path`.
   * @param options Where to search and how many to return.
   * @returns The matching paths.
   */
  async glob(pattern: string, options: GlobOptions = {}): Promise<GlobResult> {
    return await this.request("glob", {
      pattern,
      path: this.#inside(options.path ?? "."),
      maxResults: options.maxResults,
      maxFiles: options.maxFiles,
    }) as GlobResult;
  }

  /**
   * Searches text files for lines matching a regular expression.
   *
   * @param pattern A JavaScript regular expression.
   * @param options Where to search, a file filter, case and limits.
   * @returns The matching lines.
   */
  async grep(pattern: string, options: GrepOptions = {}): Promise<GrepResult> {
    return await this.request("grep", {
      pattern,
      path: this.#inside(options.path ?? "."),
      glob: options.glob,
      ignoreCase: options.ignoreCase === true,
      maxMatches: options.maxMatches,
      maxFiles: options.maxFiles,
      maxFileBytes: options.maxFileBytes,
      maxTotalBytes: options.maxTotalBytes,
      maxLineLength: options.maxLineLength,
    }) as GrepResult;
  }

  /**
   * Gives up the workspace: later requests fail. A pooled process stops when no workspace is left to serve; a runner
   * started without a pool stops its own. Safe to call twice.
   *
   * @returns A promise that settles when any process this stopped has exited.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#lease.release();
    await this.#ownPool?.close();
  }

  #send(op: string, params: Record<string, unknown>): Promise<RunnerOutcome> {
    if (this.#closed) throw new Error("The sandbox file runner was closed: create a new sandbox to use the workspace");
    return this.#lease.send(op, params);
  }

  #inside(path: string): string {
    return resolveInsideWorkspace(this.workspace, path);
  }

  #shownPath(path: string): string {
    const absolute = normalizePath(path.startsWith("/") ? path : `${this.workspace}/${path}`);
    return isInsideOrEqual(this.workspace, absolute) ? toWorkspaceRelative(this.workspace, absolute) : path;
  }

  #toError(op: string, shown: string | undefined, failure: RunnerFailure): Error {
    const subject = shown === undefined ? "the workspace" : `"${shown}"`;
    switch (failure.name) {
      case "PolicyDenied":
        return new PolicyDeniedError(failure.denied ?? `${op} ${subject}`, failure.option ?? "none", failure.message);
      case "NotCapable":
        if (WRITE_OPERATIONS.has(op) && !this.allowWrite) {
          return new PolicyDeniedError(
            `write to ${subject}`,
            "allowWrite",
            `Writing ${subject} needs write access: set "allowWrite" in the sandbox policy to allow it`,
          );
        }
        return new PolicyDeniedError(
          `access to ${subject}`,
          "none",
          `Access to ${subject} was refused by the file runner's permissions: paths must stay inside the workspace`,
        );
      case "NotFound":
        return new Deno.errors.NotFound(`No such file or directory in the workspace: ${subject}`);
      case "AlreadyExists":
        return new Deno.errors.AlreadyExists(`${subject} already exists`);
      case "IsADirectory":
        return new Deno.errors.IsADirectory(`${subject} is a directory: name a file`);
      case "NotADirectory":
        return new Deno.errors.NotADirectory(`A part of ${subject} is a file, not a directory`);
      case "FileTooLarge":
        return new RangeError(failure.message);
      case "InvalidPattern":
        return new SyntaxError(failure.message);
      case "InvalidRequest":
        return new TypeError(failure.message);
    }
    if (failure.code === "ENOTEMPTY") {
      return new Error(`Directory ${subject} is not empty: pass { recursive: true } to remove it with its contents`);
    }
    const KnownError = (Deno.errors as Record<string, (new (message: string) => Error) | undefined>)[failure.name];
    const error = KnownError === undefined ? new Error(failure.message) : new KnownError(failure.message);
    if (KnownError === undefined) error.name = failure.name;
    return error;
  }
}

function positiveOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`Option "${name}" must be a positive number, got ${value}`);
  }
  return value;
}

function protectedEntry(workspace: string, entry: string): string {
  if (typeof entry !== "string" || entry === "" || entry.includes("\0")) {
    throw new TypeError(`Protected path ${JSON.stringify(entry)} must be a non-empty path inside the workspace`);
  }
  const absolute = resolveInsideWorkspace(workspace, entry);
  if (absolute === workspace) throw new TypeError(`Protected path "${entry}" must not be the workspace itself`);
  return toWorkspaceRelative(workspace, absolute);
}
