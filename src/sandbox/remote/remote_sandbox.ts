/**
 * The shared layer of every remote sandbox: Flue's policy checked before anything is sent, secrets given to one
 * command and redacted from what it returns, limits, and the machine's lifecycle (created or reconnected by stored id,
 * deleted on `destroy()`, after an idle timeout and, unless kept, on `close()`).
 *
 * @module
 */

import { abortErrorFrom, PolicyDeniedError, SandboxUnavailableError } from "../../errors.ts";
import { isDenoDeploy } from "../../deno_deploy.ts";
import { Redactor } from "../../telemetry/redactor.ts";
import { checkedEnv, positiveInteger } from "../_memory_support.ts";
import type {
  DirEntry,
  ExecOptions,
  FileStat,
  Sandbox,
  SandboxContext,
  SandboxPolicy,
  ShellResult,
} from "../sandbox.ts";
import { planCommand } from "../shell/shell_policy.ts";
import { resolveInsideWorkspace, toWorkspaceRelative } from "../workspace_paths.ts";
import { confineToWorkspace, untilStoppedOrDone } from "./_machine_commands.ts";
import { OutputBuffer } from "./_output_buffer.ts";
import { seedRemoteMachine } from "./_seed_remote.ts";
import { type RemoteMachine, type RemoteProvider, RemoteSandboxGoneError } from "./remote_machine.ts";
import {
  FileRemoteSandboxIds,
  KvRemoteSandboxIds,
  type RemoteSandboxIds,
  type RemoteSandboxKey,
} from "./remote_sandbox_ids.ts";

/** Lifecycle and limits of a remote sandbox. Every option has a default. */
export interface RemoteLifecycleOptions {
  /** Deletes the machine after this long without an operation, in milliseconds. Default 15 minutes. */
  idleTimeoutMs?: number;
  /**
   * How long the provider keeps a machine alive on its own, in milliseconds, so that a process that dies without
   * closing leaks nothing for longer. Default one hour.
   */
  lifetimeMs?: number;
  /**
   * Leave the machine running on `close()` (the stored id reconnects it later, within `lifetimeMs`). Default `false`:
   * `close()` deletes it, so `agent.close()` never leaves a machine running.
   */
  keepOnClose?: boolean;
  /** Timeout of a command that names none, in milliseconds. Default 120,000. */
  defaultTimeoutMs?: number;
  /** Cap on captured bytes of stdout and of stderr each, when a command names none. Default 1 MiB. */
  defaultMaxOutputBytes?: number;
  /** Most files uploaded from `seedFrom`. Default 10,000. */
  maxSeedFiles?: number;
  /** Where machine ids are kept: `<stateDir>/remote-sandboxes.json`, or Deno KV on Deno Deploy, by default. */
  ids?: RemoteSandboxIds;
}

const DEFAULTS = {
  idleTimeoutMs: 15 * 60_000,
  lifetimeMs: 60 * 60_000,
  defaultTimeoutMs: 120_000,
  defaultMaxOutputBytes: 1024 * 1024,
  maxSeedFiles: 10_000,
};

let deployIds: RemoteSandboxIds | undefined;

/**
 * Creates a remote sandbox for one session: reconnects to the machine whose id is stored for it, or creates one
 * (stores its id, makes the workspace directory, uploads `context.seedFrom`). A stored machine the provider no longer
 * has is replaced by a new one.
 *
 * Needs network access to the provider and, for the default id file, read and write access to the state directory.
 *
 * @param provider The provider adapter.
 * @param context The agent, instance, session, policy and optional seed directory.
 * @param options Lifecycle and limits.
 * @returns The sandbox.
 * @throws {SandboxUnavailableError} When the provider refuses or cannot be reached.
 */
export async function createRemoteSandbox(
  provider: RemoteProvider,
  context: SandboxContext,
  options: RemoteLifecycleOptions = {},
): Promise<RemoteSandbox> {
  const settings = {
    idleTimeoutMs: positiveInteger(options.idleTimeoutMs, DEFAULTS.idleTimeoutMs, "idleTimeoutMs"),
    lifetimeMs: positiveInteger(options.lifetimeMs, DEFAULTS.lifetimeMs, "lifetimeMs"),
    defaultTimeoutMs: positiveInteger(options.defaultTimeoutMs, DEFAULTS.defaultTimeoutMs, "defaultTimeoutMs"),
    defaultMaxOutputBytes: positiveInteger(
      options.defaultMaxOutputBytes,
      DEFAULTS.defaultMaxOutputBytes,
      "defaultMaxOutputBytes",
    ),
    maxSeedFiles: positiveInteger(options.maxSeedFiles, DEFAULTS.maxSeedFiles, "maxSeedFiles"),
    keepOnClose: options.keepOnClose ?? false,
  };
  const ids = options.ids ?? (isDenoDeploy() ? (deployIds ??= new KvRemoteSandboxIds()) : undefined) ??
    new FileRemoteSandboxIds(context.stateDir);
  const key: RemoteSandboxKey = {
    provider: provider.name,
    agent: context.agent,
    instanceId: context.instanceId,
    session: context.session,
  };
  const sandbox = new RemoteSandbox(provider, context, ids, key, settings);
  await sandbox.open();
  return sandbox;
}

interface Settings {
  idleTimeoutMs: number;
  lifetimeMs: number;
  defaultTimeoutMs: number;
  defaultMaxOutputBytes: number;
  maxSeedFiles: number;
  keepOnClose: boolean;
}

/** A sandbox on a remote machine, behind Flue's policy. Create it with {@linkcode createRemoteSandbox}. */
export class RemoteSandbox implements Sandbox {
  /** The provider's name, such as `e2b`. */
  readonly kind: string;
  /** The workspace directory on the machine. */
  readonly root: string;
  /** The policy in force. */
  readonly policy: Readonly<SandboxPolicy>;
  /** Always `undefined`: commands and other clients may change the remote files at any time. */
  readonly revision: undefined = undefined;
  readonly #provider: RemoteProvider;
  readonly #context: SandboxContext;
  readonly #ids: RemoteSandboxIds;
  readonly #key: RemoteSandboxKey;
  readonly #settings: Settings;
  readonly #running = new Set<AbortController>();
  #machine?: Promise<RemoteMachine>;
  #idleTimer?: ReturnType<typeof setTimeout>;
  #active = 0;
  #closed = false;

  /**
   * @param provider The provider adapter.
   * @param context The sandbox context.
   * @param ids Where the machine's id is kept.
   * @param key The id's key.
   * @param settings Lifecycle and limits, already checked.
   */
  constructor(
    provider: RemoteProvider,
    context: SandboxContext,
    ids: RemoteSandboxIds,
    key: RemoteSandboxKey,
    settings: Settings,
  ) {
    this.kind = provider.name;
    this.root = provider.workspaceRoot;
    this.policy = Object.freeze({
      ...context.policy,
      allowedCommands: Object.freeze([...context.policy.allowedCommands]),
    });
    this.#provider = provider;
    this.#context = context;
    this.#ids = ids;
    this.#key = key;
    this.#settings = settings;
  }

  /** The machine's id at the provider, once connected. */
  get machineId(): Promise<string | undefined> {
    return (this.#machine ?? Promise.resolve(undefined)).then((machine) => machine?.id, () => undefined);
  }

  /**
   * Connects to the session's machine: the stored one when the provider still has it, else a new one.
   *
   * @returns The machine.
   */
  open(): Promise<RemoteMachine> {
    this.#requireOpen();
    if (!this.#machine) {
      const machine = this.#connectOrCreate();
      this.#machine = machine;
      machine.catch(() => {
        if (this.#machine === machine) this.#machine = undefined;
      });
    }
    return this.#machine;
  }

  async #connectOrCreate(): Promise<RemoteMachine> {
    const storedId = await this.#ids.get(this.#key);
    if (storedId !== undefined) {
      const machine = await this.#provider.connect(storedId).catch((error) => {
        throw this.#unavailable("reconnect to", error);
      });
      if (machine) return machine;
      await this.#ids.delete(this.#key);
    }
    const machine = await this.#provider.create({
      labels: { "flue-agent": this.#context.agent, "flue-instance": this.#context.instanceId },
      allowNet: this.policy.allowNet,
      lifetimeMs: this.#settings.lifetimeMs,
    }).catch((error) => {
      throw this.#unavailable("create", error);
    });
    try {
      await this.#ids.set(this.#key, machine.id);
      await machine.mkdir(this.root);
      if (this.#context.seedFrom) {
        await seedRemoteMachine(machine, this.#context.seedFrom, this.root, {
          maxFiles: this.#settings.maxSeedFiles,
          skipDirectories: [this.#context.stateDir],
        });
      }
    } catch (error) {
      await machine.destroy().catch(() => undefined);
      await this.#ids.delete(this.#key).catch(() => undefined);
      throw error;
    }
    return machine;
  }

  async readFile(path: string): Promise<string> {
    const absolute = this.#resolve(path);
    const bytes = await this.#at(absolute, path, (machine) => machine.readFile(absolute));
    return new TextDecoder().decode(bytes);
  }

  async writeFile(path: string, content: string): Promise<void> {
    if (typeof content !== "string") {
      throw new TypeError(`Content for "${path}" must be a string, got ${typeof content}`);
    }
    const absolute = this.#resolveForWrite(path);
    if (absolute === this.root) throw new Deno.errors.IsADirectory(`Cannot write to "${path}": it is a directory`);
    await this.#at(absolute, path, (machine) => machine.writeFile(absolute, new TextEncoder().encode(content)));
  }

  async stat(path: string): Promise<FileStat> {
    const absolute = this.#resolve(path);
    const stat = await this.#at(absolute, path, (machine) => machine.stat(absolute));
    if (!stat) throw new Deno.errors.NotFound(`Path "${path}" does not exist`);
    return { path: toWorkspaceRelative(this.root, absolute), ...stat };
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const absolute = this.#resolve(path);
    return await this.#at(absolute, path, (machine) => machine.readdir(absolute));
  }

  async exists(path: string): Promise<boolean> {
    const absolute = this.#resolve(path);
    return (await this.#at(absolute, path, (machine) => machine.stat(absolute))) !== undefined;
  }

  async mkdir(path: string): Promise<void> {
    const absolute = this.#resolveForWrite(path);
    await this.#at(absolute, path, (machine) => machine.mkdir(absolute));
  }

  async remove(path: string, options?: { recursive?: boolean }): Promise<void> {
    const absolute = this.#resolveForWrite(path);
    if (absolute === this.root) {
      throw new PolicyDeniedError(
        `removing the workspace root "${path}"`,
        "none",
        `Refusing to remove the workspace root "${path}": remove the entries inside it instead`,
      );
    }
    const recursive = options?.recursive ?? false;
    await this.#at(absolute, path, async (machine) => {
      const stat = await machine.stat(absolute);
      if (!stat) throw new Deno.errors.NotFound(`Path "${path}" does not exist`);
      if (stat.isDirectory && !recursive && (await machine.readdir(absolute)).length > 0) {
        throw new Deno.errors.NotSupported(`Directory "${path}" is not empty: pass { recursive: true } to remove it`);
      }
      await machine.remove(absolute, recursive);
    });
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ShellResult> {
    this.#requireOpen();
    if (typeof command !== "string") throw new TypeError(`Command must be a string, got ${typeof command}`);
    const plan = planCommand(command, this.policy);
    const cwd = this.#resolve(options.cwd ?? ".");
    const env = checkedEnv(options.env);
    const timeoutMs = positiveInteger(options.timeoutMs, this.#settings.defaultTimeoutMs, "timeoutMs");
    const maxOutputBytes = positiveInteger(
      options.maxOutputBytes,
      this.#settings.defaultMaxOutputBytes,
      "maxOutputBytes",
    );
    if (options.signal?.aborted) throw abortErrorFrom(options.signal);

    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort("timeout"), timeoutMs);
    const onAbort = () => stop.abort("aborted");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    this.#running.add(stop);
    const stdout = new OutputBuffer(maxOutputBytes);
    const stderr = new OutputBuffer(maxOutputBytes);
    let exitCode: number;
    try {
      exitCode = await this.#use(async (machine) => {
        const run = machine.run(plan.kind === "argv" ? { argv: plan.argv } : { script: plan.script }, {
          cwd,
          env,
          timeoutMs,
          signal: stop.signal,
          onOutput: (stream, chunk) => (stream === "stdout" ? stdout : stderr).push(chunk),
        });
        return (await untilStoppedOrDone(run, stop.signal)).exitCode;
      });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      this.#running.delete(stop);
    }
    const aborted = stop.signal.reason === "aborted";
    const timedOut = stop.signal.reason === "timeout";
    // The command's own environment holds the secrets granted to it: none of them comes back in its output.
    const redactor = new Redactor(env);
    const out = stdout.result(redactor);
    const err = stderr.result(redactor);
    return {
      stdout: out.text,
      stderr: err.text,
      exitCode: aborted ? 130 : timedOut ? 124 : exitCode,
      truncated: out.truncated || err.truncated,
      timedOut,
      aborted,
    };
  }

  /**
   * Deletes the machine at the provider and forgets its id; used when the session is deleted. The sandbox is closed
   * afterwards.
   */
  async destroy(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#release(false);
  }

  /**
   * Stops running commands and deletes the machine, or only disconnects with `keepOnClose`. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#release(this.#settings.keepOnClose);
  }

  async #release(keep: boolean): Promise<void> {
    clearTimeout(this.#idleTimer);
    for (const stop of this.#running) stop.abort("aborted");
    const pending = this.#machine;
    this.#machine = undefined;
    const machine = await pending?.catch(() => undefined);
    if (keep) {
      await machine?.disconnect().catch(() => undefined);
      return;
    }
    if (machine) await machine.destroy();
    await this.#ids.delete(this.#key);
  }

  async #idleExpired(): Promise<void> {
    if (this.#closed || this.#active > 0) return;
    const pending = this.#machine;
    this.#machine = undefined;
    const machine = await pending?.catch(() => undefined);
    if (!machine) return;
    await machine.destroy().catch(() => undefined);
    await this.#ids.delete(this.#key).catch(() => undefined);
  }

  /** Runs one operation on the machine; errors other than file errors drop the connection for the next call. */
  async #use<T>(operation: (machine: RemoteMachine) => Promise<T>): Promise<T> {
    this.#requireOpen();
    clearTimeout(this.#idleTimer);
    this.#active++;
    const pending = this.open();
    try {
      return await operation(await pending);
    } catch (error) {
      if (isFileError(error)) throw error;
      if (this.#machine === pending) this.#machine = undefined;
      if (error instanceof RemoteSandboxGoneError) {
        await this.#ids.delete(this.#key).catch(() => undefined);
        throw new SandboxUnavailableError(
          `Remote sandbox "${this.kind}" machine "${error.sandboxId}" is gone (deleted or expired at the provider): ` +
            `its files are lost; the next call starts a new machine`,
          { cause: error },
        );
      }
      (await pending.catch(() => undefined))?.disconnect().catch(() => undefined);
      throw this.#unavailable("reach", error);
    } finally {
      this.#active--;
      if (!this.#closed && this.#active === 0) {
        const timer = setTimeout(() => this.#idleExpired(), this.#settings.idleTimeoutMs);
        Deno.unrefTimer(timer);
        this.#idleTimer = timer;
      }
    }
  }

  /** Runs one operation on a path once the machine has confirmed that the path stays inside the workspace. */
  #at<T>(absolute: string, path: string, operation: (machine: RemoteMachine) => Promise<T>): Promise<T> {
    return this.#use(async (machine) => {
      const timeoutMs = this.#settings.defaultTimeoutMs;
      await confineToWorkspace(machine, { root: this.root, absolute, path, timeoutMs });
      return await operation(machine);
    });
  }

  #unavailable(action: string, error: unknown): Error {
    if (error instanceof SandboxUnavailableError || error instanceof PolicyDeniedError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new SandboxUnavailableError(
      `Could not ${action} the remote sandbox "${this.kind}": ${message}`,
      { cause: error },
    );
  }

  #requireOpen(): void {
    if (this.#closed) throw new TypeError(`The remote sandbox "${this.kind}" is closed: create a new one`);
  }

  #resolve(path: string): string {
    this.#requireOpen();
    return resolveInsideWorkspace(this.root, path);
  }

  #resolveForWrite(path: string): string {
    this.#requireOpen();
    if (!this.policy.allowWrite) throw new PolicyDeniedError(`write to "${path}"`, "allowWrite");
    return resolveInsideWorkspace(this.root, path);
  }
}

function isFileError(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.AlreadyExists ||
    error instanceof Deno.errors.IsADirectory || error instanceof Deno.errors.NotADirectory ||
    error instanceof Deno.errors.NotSupported || error instanceof Deno.errors.PermissionDenied ||
    error instanceof PolicyDeniedError;
}
