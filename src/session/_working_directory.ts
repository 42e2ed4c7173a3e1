/**
 * A view of a sandbox confined to one of its directories, for a task given a `cwd`: file operations resolve against
 * the directory and may not leave it, and commands start in it.
 *
 * @module
 */

import { posix } from "node:path";
import { PolicyDeniedError } from "../errors.ts";
import type { DirEntry, ExecOptions, FileStat, Sandbox, SandboxPolicy, ShellResult } from "../sandbox/sandbox.ts";
import { WORKSPACE_ALIAS } from "../sandbox/workspace_paths.ts";

/**
 * Normalises a task's `cwd` to a path relative to the workspace root.
 *
 * @param cwd The directory as given: relative to the workspace, or under `/workspace`.
 * @returns The normalised relative path, `.` for the root.
 * @throws {PolicyDeniedError} When it leaves the workspace.
 */
export function normalizeTaskCwd(cwd: string): string {
  if (typeof cwd !== "string" || cwd.trim() === "" || cwd.includes("\0")) {
    throw new TypeError(`Invalid task cwd ${JSON.stringify(cwd)}: name a directory inside the workspace`);
  }
  const inside = cwd === WORKSPACE_ALIAS || cwd.startsWith(`${WORKSPACE_ALIAS}/`)
    ? cwd.slice(WORKSPACE_ALIAS.length)
    : cwd;
  if (inside.startsWith("/") && inside === cwd) {
    throw new PolicyDeniedError(
      `task cwd "${cwd}"`,
      "cwd",
      `Task cwd "${cwd}" is an absolute path outside ${WORKSPACE_ALIAS}: use a path relative to the workspace`,
    );
  }
  const normalized = posix.normalize(inside.replace(/^\/+/, "") || ".").replace(/\/$/, "");
  if (normalized === ".." || normalized.startsWith("../")) {
    throw new PolicyDeniedError(`task cwd "${cwd}"`, "cwd", `Task cwd "${cwd}" leaves the workspace`);
  }
  return normalized;
}

/** A sandbox whose paths are relative to, and confined to, one of its directories. */
export class WorkingDirectorySandbox implements Sandbox {
  readonly #sandbox: Sandbox;
  /** The directory, relative to the workspace root. */
  readonly cwd: string;

  /**
   * @param sandbox The whole workspace.
   * @param cwd A normalised directory relative to its root (see {@linkcode normalizeTaskCwd}).
   */
  constructor(sandbox: Sandbox, cwd: string) {
    this.#sandbox = sandbox;
    this.cwd = cwd;
  }

  /** The implementation's name. */
  get kind(): string {
    return this.#sandbox.kind;
  }
  /** The directory's place on the host, once the sandbox exists. */
  get root(): string {
    const root = this.#sandbox.root;
    return root ? posix.join(root, this.cwd) : "";
  }
  /** The policy in force: the workspace's. */
  get policy(): Readonly<SandboxPolicy> {
    return this.#sandbox.policy;
  }

  /** Reads a UTF-8 text file. */
  readFile(path: string): Promise<string> {
    return this.#sandbox.readFile(this.#resolve(path));
  }
  /** Writes a UTF-8 text file (needs `allowWrite`). */
  writeFile(path: string, content: string): Promise<void> {
    return this.#sandbox.writeFile(this.#resolve(path), content);
  }
  /** Facts about a path; `path` is reported as given. */
  async stat(path: string): Promise<FileStat> {
    return { ...await this.#sandbox.stat(this.#resolve(path)), path };
  }
  /** Lists a directory. */
  readdir(path: string): Promise<DirEntry[]> {
    return this.#sandbox.readdir(this.#resolve(path));
  }
  /** Whether a path exists. */
  exists(path: string): Promise<boolean> {
    return this.#sandbox.exists(this.#resolve(path));
  }
  /** Creates a directory and its parents (needs `allowWrite`). */
  mkdir(path: string): Promise<void> {
    return this.#sandbox.mkdir(this.#resolve(path));
  }
  /** Removes a file or directory (needs `allowWrite`). */
  remove(path: string, options?: { recursive?: boolean }): Promise<void> {
    return this.#sandbox.remove(this.#resolve(path), options);
  }
  /**
   * Runs a command starting in the directory. Commands are confined to the workspace by the sandbox, not to the
   * directory: a command can name paths above it.
   */
  exec(command: string, options: ExecOptions = {}): Promise<ShellResult> {
    return this.#sandbox.exec(command, { ...options, cwd: this.#resolve(options.cwd ?? ".") });
  }
  /** The workspace is the session's: closing a task's view leaves it running. */
  async close(): Promise<void> {}

  #resolve(path: string): string {
    if (typeof path !== "string") return path;
    const relative = path === WORKSPACE_ALIAS || path.startsWith(`${WORKSPACE_ALIAS}/`)
      ? path.slice(WORKSPACE_ALIAS.length + 1) || "."
      : path.startsWith("/")
      ? undefined
      : posix.join(this.cwd, path);
    const normalized = relative === undefined ? undefined : posix.normalize(relative);
    if (
      normalized === undefined || normalized === ".." || normalized.startsWith("../") ||
      !(this.cwd === "." || normalized === this.cwd || normalized.startsWith(`${this.cwd}/`))
    ) {
      throw new PolicyDeniedError(
        `path "${path}"`,
        "cwd",
        `Path "${path}" is outside this task's working directory "${this.cwd}": use a path inside it`,
      );
    }
    return normalized;
  }
}
