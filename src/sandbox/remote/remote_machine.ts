/**
 * What a remote sandbox provider adapter implements: a machine it can create, reconnect to by id, run commands on and
 * move files to and from. The shared layer (`remote_sandbox.ts`) puts Flue's policy, secrets, limits and lifecycle
 * around it, so an adapter only translates calls to its provider's SDK.
 *
 * @module
 */

import type { DirEntry } from "../sandbox.ts";

/** A command as the policy planned it: a program and its arguments, or a script for `bash -c`. */
export type RemoteCommand =
  | {
    /** The program and its arguments, each one word. */
    argv: string[];
  }
  | {
    /** A script for `bash -c` (only reached with `allowCompoundCommands`). */
    script: string;
  };

/** How one command runs on the machine. */
export interface RemoteRunOptions {
  /** Absolute working directory on the machine, inside the workspace. */
  cwd: string;
  /** The command's own environment (granted secrets included); never set machine-wide. */
  env: Record<string, string>;
  /** The provider-side timeout to ask for, in milliseconds; the shared layer enforces it too. */
  timeoutMs: number;
  /** Aborted on timeout, on the caller's abort and on close: the adapter stops the command and returns. */
  signal: AbortSignal;
  /** Receives output as it streams in, one decoded chunk at a time. */
  onOutput(stream: "stdout" | "stderr", chunk: string): void;
}

/** Facts about a path on the machine. */
export interface RemoteStat {
  /** A regular file. */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
  /** A symbolic link. */
  isSymlink: boolean;
  /** Size in bytes. */
  size: number;
  /** Last modification time, ISO 8601, when the provider reports it. */
  modifiedAt?: string;
}

/**
 * One running remote machine, as an adapter exposes it. Paths are absolute paths on the machine; the shared layer
 * has already checked them against the workspace and the policy. File errors use Deno's classes
 * (`Deno.errors.NotFound`, `IsADirectory`, ...); a machine that no longer exists is a `RemoteSandboxGoneError`.
 */
export interface RemoteMachine {
  /** The provider's id of the machine, stored so a later process can reconnect. */
  readonly id: string;
  /** Reads a file's bytes. */
  readFile(path: string): Promise<Uint8Array>;
  /** Writes a file, creating its parent directories. */
  writeFile(path: string, content: Uint8Array): Promise<void>;
  /** Facts about a path, or `undefined` when nothing is there. */
  stat(path: string): Promise<RemoteStat | undefined>;
  /** Lists a directory. */
  readdir(path: string): Promise<DirEntry[]>;
  /** Creates a directory and its parents. */
  mkdir(path: string): Promise<void>;
  /** Removes a file, or a directory and its contents with `recursive`. */
  remove(path: string, recursive: boolean): Promise<void>;
  /** Runs a command, streaming its output; resolves with its exit code (or any code once `signal` aborts it). */
  run(command: RemoteCommand, options: RemoteRunOptions): Promise<{ exitCode: number }>;
  /** Closes this process's connections and leaves the machine running, to be reconnected by id. */
  disconnect(): Promise<void>;
  /** Deletes the machine at the provider. Succeeds when it is already gone. */
  destroy(): Promise<void>;
}

/** What the shared layer asks of a new machine. */
export interface RemoteCreateRequest {
  /** Labels naming the agent, instance and session, where the provider keeps labels or metadata. */
  labels: Record<string, string>;
  /** Whether commands may reach the network (`allowNet`), for providers with network controls. */
  allowNet: boolean | readonly string[];
  /** How long the provider keeps the machine alive without Flue, in milliseconds: the backstop against leaks. */
  lifetimeMs: number;
}

/** A provider adapter: creates machines and reconnects to them by id. */
export interface RemoteProvider {
  /** The sandbox name, such as `e2b`. */
  readonly name: string;
  /** The workspace directory on the machine (absolute). */
  readonly workspaceRoot: string;
  /** Creates a machine. */
  create(request: RemoteCreateRequest): Promise<RemoteMachine>;
  /** Reconnects to a machine by id, or resolves `undefined` when the provider no longer has it. */
  connect(id: string): Promise<RemoteMachine | undefined>;
}

/** The remote machine is gone (deleted, expired, or never existed at this provider). */
export class RemoteSandboxGoneError extends Error {
  /** The machine's id. */
  readonly sandboxId: string;

  /**
   * @param sandboxId The machine's id.
   * @param message What happened.
   * @param options Standard error options.
   */
  constructor(sandboxId: string, message?: string, options?: ErrorOptions) {
    super(message ?? `Remote sandbox "${sandboxId}" no longer exists at its provider`, options);
    this.name = "RemoteSandboxGoneError";
    this.sandboxId = sandboxId;
  }
}

/**
 * Quotes a planned command as one string for providers that take command strings (`bash -c` on the machine).
 *
 * @example Quoting argv
 * ```ts
 * import assert from "node:assert/strict";
 * import { commandString } from "./remote_machine.ts";
 *
 * assert.equal(commandString({ argv: ["git", "status", "--short"] }), "'git' 'status' '--short'");
 * assert.equal(commandString({ argv: ["echo", "it's"] }), `'echo' 'it'\\''s'`);
 * assert.equal(commandString({ script: "ls | wc -l" }), "ls | wc -l");
 * ```
 *
 * @param command The planned command.
 * @returns A string `bash -c` runs as exactly that argv, or the script unchanged.
 */
export function commandString(command: RemoteCommand): string {
  if ("script" in command) return command.script;
  return command.argv.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(" ");
}
