/**
 * The `Sandbox` interface: a workspace the agent's file operations and commands are confined to, under a policy.
 * Implementations: `virtual` (default), `local`, `memory`, and remote ones added through the provider registry.
 *
 * @module
 */

/** What an agent may do in its sandbox. Every option denies by default. */
export interface SandboxPolicy {
  /** Allow creating, changing and deleting files in the workspace. */
  allowWrite: boolean;
  /** Allow running commands at all. */
  allowShell: boolean;
  /** Programs, or a program and subcommand (`"git status"`), that may run. Empty means none. */
  allowedCommands: readonly string[];
  /** Allow `;`, `&&`, `|`, redirections, substitutions and the like; such commands then run through bash in the sandbox. */
  allowCompoundCommands: boolean;
  /** Allow commands to reach the network. */
  allowNet: boolean;
  /**
   * Allow listed programs that interpret code (`sh`, `python3`, `node`, `perl`, `vim`, `make`, awk programs that call
   * `system()` ...). Such a program can run any program in the sandbox, so listing it is not enough. Off when absent.
   */
  allowInterpreters?: boolean;
}

/** The policy that denies everything. */
export const DENY_ALL_POLICY: Readonly<SandboxPolicy> = Object.freeze({
  allowWrite: false,
  allowShell: false,
  allowedCommands: Object.freeze([]) as readonly string[],
  allowCompoundCommands: false,
  allowNet: false,
  allowInterpreters: false,
});

/** Facts about one file or directory. */
export interface FileStat {
  /** The path as given, relative to the workspace root. */
  path: string;
  /** A regular file. */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
  /** A symbolic link (only reported for links that stay inside the workspace). */
  isSymlink: boolean;
  /** Size in bytes. */
  size: number;
  /** Last modification time, ISO 8601, when known. */
  modifiedAt?: string;
}

/** One entry of a directory listing. */
export interface DirEntry {
  /** The entry's name. */
  name: string;
  /** A regular file. */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
  /** A symbolic link. */
  isSymlink: boolean;
}

/** Options of one command. */
export interface ExecOptions {
  /** Working directory, relative to the workspace root. */
  cwd?: string;
  /** Extra environment variables for this command only (granted secrets arrive here too). */
  env?: Record<string, string>;
  /** Kills the whole process tree after this long and keeps the output so far. */
  timeoutMs?: number;
  /** Kills the whole process tree when aborted and keeps the output so far. */
  signal?: AbortSignal;
  /** Cap on captured bytes of stdout and of stderr each. */
  maxOutputBytes?: number;
}

/** What a command did. */
export interface ShellResult {
  /** Standard output (cut at the cap, with a note). */
  stdout: string;
  /** Standard error (cut at the cap, with a note). */
  stderr: string;
  /** Exit status; 124 after a timeout, 130 after an abort. */
  exitCode: number;
  /** Whether either stream was cut at the cap. */
  truncated: boolean;
  /** Whether the timeout killed it. */
  timedOut: boolean;
  /** Whether an abort killed it. */
  aborted: boolean;
}

/** A workspace confined by a policy. Paths are relative to the workspace root; leaving it is a `PolicyDeniedError`. */
export interface Sandbox {
  /** The implementation's name, such as `virtual`. */
  readonly kind: string;
  /** Where the workspace is: an absolute host path, or a virtual root for in-memory sandboxes. */
  readonly root: string;
  /** The policy in force. */
  readonly policy: Readonly<SandboxPolicy>;
  /**
   * A number that changes whenever the sandbox's files may have changed, so readers can cache what they read;
   * `undefined` when the sandbox cannot tell (files on a disk that other processes may change, or a change running).
   */
  readonly revision?: number;
  /** Reads a UTF-8 text file. */
  readFile(path: string): Promise<string>;
  /** Writes a UTF-8 text file, creating parent directories (needs `allowWrite`). */
  writeFile(path: string, content: string): Promise<void>;
  /** Facts about a path. */
  stat(path: string): Promise<FileStat>;
  /** Lists a directory. */
  readdir(path: string): Promise<DirEntry[]>;
  /** Whether a path exists. */
  exists(path: string): Promise<boolean>;
  /** Creates a directory and its parents (needs `allowWrite`). */
  mkdir(path: string): Promise<void>;
  /** Removes a file, or a directory with `recursive` (needs `allowWrite`). */
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;
  /** Runs a command string under the policy (needs `allowShell`). */
  exec(command: string, options?: ExecOptions): Promise<ShellResult>;
  /** Stops the sandbox's helper processes. The workspace stays on disk. */
  close(): Promise<void>;
  /**
   * Deletes the workspace for good, for sandboxes whose workspace outlives the process (a remote machine); called when
   * the session is deleted, and closes the sandbox. Optional: sandboxes without it keep their workspace.
   */
  destroy?(): Promise<void>;
}

/** What a sandbox factory is told about the sandbox to create. */
export interface SandboxContext {
  /** The project directory (absolute). */
  projectDir: string;
  /** The state directory, `<projectDir>/.flue` unless configured (absolute). */
  stateDir: string;
  /** The agent's name. */
  agent: string;
  /** The agent instance id. */
  instanceId: string;
  /** The session name. */
  session: string;
  /** The policy to enforce. */
  policy: Readonly<SandboxPolicy>;
  /** A directory whose contents seed a new workspace (absolute), for sandboxes that copy one. */
  seedFrom?: string;
  /**
   * Run commands without OS isolation when bubblewrap is missing. Off by default: shell calls then fail with
   * `SandboxUnavailableError`. The policy checks still apply; only the OS layer is skipped.
   */
  unconfinedShell?: boolean;
  /**
   * With the `local` sandbox and `allowWrite`, let the model change the project's own instructions, configuration and
   * code ({@linkcode PROJECT_FILES}), which are otherwise read-only to it, so that it cannot rewrite what later runs
   * load. Off by default.
   */
  allowProjectWrites?: boolean;
}

/**
 * The project files the `local` sandbox keeps read-only to the model unless `allowProjectWrites`: its instructions
 * (`AGENTS.md`, `CLAUDE.md`, `.agents/` with skills and roles), its configuration (`deno.json`, `deno.jsonc`) and its
 * source folders (`src/`, and `agents/` and `workflows/` at the root).
 */
export const PROJECT_FILES: readonly string[] = Object.freeze([
  ".agents",
  "AGENTS.md",
  "CLAUDE.md",
  "deno.json",
  "deno.jsonc",
  "src",
  "agents",
  "workflows",
]);

/** Creates a sandbox for one agent instance and session. */
export type SandboxFactory = (context: SandboxContext) => Promise<Sandbox>;
