/**
 * The sandbox as a session sees it: created on first use, with secret values redacted from everything it returns and
 * secrets reaching commands only through a per-call grant.
 *
 * @module
 */

import type { Redactor } from "../telemetry/redactor.ts";
import type { GlobOptions, GlobResult, GrepOptions, GrepResult } from "../sandbox/runner/deno_runner.ts";
import type {
  DirEntry,
  ExecOptions,
  FileStat,
  Sandbox,
  SandboxContext,
  SandboxFactory,
  SandboxPolicy,
  ShellResult,
} from "../sandbox/sandbox.ts";
import { virtualWorkspacePath } from "../sandbox/virtual_sandbox.ts";
import type { WorkspaceSandbox } from "../sandbox/workspace_sandbox.ts";

/** The part of a session's sandbox the system prompt reads the workspace's instructions through. */
export type InstructionsView = Pick<Sandbox, "readFile" | "root" | "kind" | "revision">;

/** How a {@linkcode SessionSandbox} treats a sandbox it has not created yet. */
export interface SessionSandboxOptions {
  /**
   * The sandbox outlives the process (a remote machine reconnected by stored id), so `destroy()` opens it to delete it
   * even when this process never used it.
   */
  destroyUnopened?: boolean;
  /**
   * Whether the workspace is known to be empty before creation (see {@linkcode isEmptyBeforeCreation}), so reading
   * `AGENTS.md` for the system prompt need not create it. Default: not known.
   */
  isEmptyBeforeCreation?: () => Promise<boolean>;
}

/** A sandbox created on first use, redacting what it returns. */
export class SessionSandbox implements Sandbox {
  readonly #create: () => Promise<Sandbox>;
  readonly #redactor: Redactor;
  #sandbox?: Promise<Sandbox>;
  /** The implementation's name. */
  readonly kind: string;
  /** The policy in force. */
  readonly policy: Readonly<SandboxPolicy>;

  /**
   * @param kind The sandbox kind, known before creation.
   * @param policy The policy in force.
   * @param create Creates the real sandbox on first use.
   * @param redactor Removes secret values from results.
   * @param options What is known of the sandbox before it is created.
   */
  constructor(
    kind: string,
    policy: Readonly<SandboxPolicy>,
    create: () => Promise<Sandbox>,
    redactor: Redactor,
    options: SessionSandboxOptions = {},
  ) {
    this.kind = kind;
    this.policy = policy;
    this.#create = create;
    this.#redactor = redactor;
    this.#destroyUnopened = options.destroyUnopened ?? false;
    this.#isEmptyBeforeCreation = options.isEmptyBeforeCreation ?? (() => Promise.resolve(false));
  }

  readonly #isEmptyBeforeCreation: () => Promise<boolean>;
  #instructions?: InstructionsView;

  /**
   * What the system prompt reads the workspace's `AGENTS.md` through. Until the sandbox is created, a workspace known
   * to be empty (see {@linkcode isEmptyBeforeCreation}) answers "not found" without creating it, so that a session
   * whose agent never touches a file never builds its sandbox.
   *
   * @returns The same view on every call.
   */
  instructionsView(): InstructionsView {
    const isCreated = () => this.#sandbox !== undefined;
    const isEmpty = () => this.#isEmptyBeforeCreation();
    const read = (path: string) => this.readFile(path);
    const facts = () => ({ kind: this.kind, root: this.root, revision: this.revision });
    this.#instructions ??= {
      get kind() {
        return facts().kind;
      },
      get root() {
        return facts().root;
      },
      get revision() {
        return facts().revision;
      },
      async readFile(path: string): Promise<string> {
        if (!isCreated() && await isEmpty()) {
          throw new Deno.errors.NotFound(`No such file or directory in the workspace: "${path}"`);
        }
        return await read(path);
      },
    };
    return this.#instructions;
  }

  readonly #destroyUnopened: boolean;

  /** The workspace root; empty until the sandbox has been used. */
  get root(): string {
    return this.#created?.root ?? "";
  }

  #created?: Sandbox;

  /** The underlying sandbox's revision, once it has been created (see `Sandbox.revision`). */
  get revision(): number | undefined {
    return this.#created?.revision;
  }

  /**
   * The underlying sandbox, created on the first call.
   *
   * @returns The sandbox.
   */
  open(): Promise<Sandbox> {
    if (!this.#sandbox) {
      this.#sandbox = this.#create().then((sandbox) => (this.#created = sandbox));
      this.#sandbox.catch(() => (this.#sandbox = undefined));
    }
    return this.#sandbox;
  }

  /** Reads a UTF-8 text file. */
  async readFile(path: string): Promise<string> {
    return this.#redactor.redactText(await (await this.open()).readFile(path));
  }
  /** Writes a UTF-8 text file (needs `allowWrite`). */
  async writeFile(path: string, content: string): Promise<void> {
    await (await this.open()).writeFile(path, content);
  }
  /** Facts about a path. */
  async stat(path: string): Promise<FileStat> {
    return await (await this.open()).stat(path);
  }
  /** Lists a directory. */
  async readdir(path: string): Promise<DirEntry[]> {
    return await (await this.open()).readdir(path);
  }
  /** Whether a path exists. */
  async exists(path: string): Promise<boolean> {
    return await (await this.open()).exists(path);
  }
  /** Creates a directory and its parents (needs `allowWrite`). */
  async mkdir(path: string): Promise<void> {
    await (await this.open()).mkdir(path);
  }
  /** Removes a file or directory (needs `allowWrite`). */
  async remove(path: string, options?: { recursive?: boolean }): Promise<void> {
    await (await this.open()).remove(path, options);
  }
  /**
   * Finds files whose path matches a glob in one request, when the sandbox can (see `WorkspaceSandbox.glob`). Paths are
   * not redacted, as `readdir` names are not.
   *
   * @param pattern The glob.
   * @param options Where to search and how many to return.
   * @returns What it found, or `undefined` when the sandbox cannot search itself; callers then walk it.
   */
  async glob(pattern: string, options?: GlobOptions): Promise<GlobResult | undefined> {
    const sandbox = await this.open() as Sandbox & Partial<Pick<WorkspaceSandbox, "glob">>;
    if (typeof sandbox.glob !== "function") return undefined;
    return await sandbox.glob(pattern, options);
  }
  /**
   * Searches files for lines matching a regular expression in one request, when the sandbox can (see
   * `WorkspaceSandbox.grep`) and there are no secrets to redact. With secrets, matching must run on the redacted text
   * the model may see, or a pattern matching a secret would tell it the secret; callers then search through `readFile`.
   *
   * @param pattern A JavaScript regular expression.
   * @param options Where to search, a file filter, case and limits.
   * @returns The matching lines, or `undefined` when this sandbox should not search itself.
   */
  async grep(pattern: string, options?: GrepOptions): Promise<GrepResult | undefined> {
    if (!this.#redactor.isEmpty) return undefined;
    const sandbox = await this.open() as Sandbox & Partial<Pick<WorkspaceSandbox, "grep">>;
    if (typeof sandbox.grep !== "function") return undefined;
    return await sandbox.grep(pattern, options);
  }
  /** Runs a command under the policy; output is redacted before anyone sees it. */
  async exec(command: string, options?: ExecOptions): Promise<ShellResult> {
    const result = await (await this.open()).exec(command, options);
    return {
      ...result,
      stdout: this.#redactor.redactText(result.stdout),
      stderr: this.#redactor.redactText(result.stderr),
    };
  }
  /**
   * Deletes the underlying sandbox's workspace for good where it can (see `Sandbox.destroy`); the next call starts a
   * fresh one. Called when the session is deleted.
   */
  async destroy(): Promise<void> {
    const pending = this.#sandbox ?? (this.#destroyUnopened ? this.open() : undefined);
    this.#sandbox = undefined;
    this.#created = undefined;
    const sandbox = await pending?.catch(() => undefined);
    if (sandbox?.destroy) await sandbox.destroy();
    else await sandbox?.close();
  }
  /** Stops the sandbox's helper processes, if it was ever created. */
  async close(): Promise<void> {
    const pending = this.#sandbox;
    this.#sandbox = undefined;
    this.#created = undefined;
    if (pending) await (await pending.catch(() => undefined))?.close();
  }
}

/**
 * A view of a sandbox whose commands receive extra environment values (granted secrets) on every call.
 *
 * @param sandbox The session's sandbox.
 * @param grantedEnv The values every command of this view receives.
 * @returns A sandbox that adds them.
 */
export function withGrantedEnv(sandbox: Sandbox, grantedEnv: Record<string, string>): Sandbox {
  if (Object.keys(grantedEnv).length === 0) return sandbox;
  return new Proxy(sandbox, {
    get(target, property, receiver) {
      if (property === "exec") {
        return (command: string, options: ExecOptions = {}) =>
          target.exec(command, { ...options, env: { ...options.env, ...grantedEnv } });
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value ?? Reflect.get(target, property, receiver);
    },
  });
}

/**
 * Tells, without creating it, whether a built-in sandbox would start empty: a `memory` sandbox or a `virtual` one whose
 * workspace directory does not exist yet, either without a seed. Any other sandbox may hold files from the start.
 *
 * @param spec The sandbox name or factory.
 * @param context What the sandbox would be created with.
 * @returns A check to run before the sandbox exists.
 */
export function isEmptyBeforeCreation(
  spec: string | SandboxFactory,
  context: SandboxContext,
): () => Promise<boolean> {
  if (context.seedFrom !== undefined) return () => Promise.resolve(false);
  if (spec === "memory") return () => Promise.resolve(true);
  if (spec !== "virtual") return () => Promise.resolve(false);
  const workspace = virtualWorkspacePath(context.stateDir, context.agent, context.instanceId, context.session);
  return async () => {
    try {
      await Deno.lstat(workspace);
      return false;
    } catch (error) {
      // Anything but a clear "missing" (say, no read permission) lets the sandbox decide.
      return error instanceof Deno.errors.NotFound;
    }
  };
}
