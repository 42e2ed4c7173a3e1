/**
 * The `e2b` provider: E2B's cloud sandboxes through `npm:e2b`. Loaded only when chosen.
 *
 * @module
 */

import { CommandExitError, FileType, NotFoundError, Sandbox as E2BSandbox } from "e2b";
import { SandboxUnavailableError } from "../../errors.ts";
import type { E2BProviderOptions } from "./remote_options.ts";
import type { DirEntry } from "../sandbox.ts";
import {
  commandString,
  type RemoteCommand,
  type RemoteCreateRequest,
  type RemoteMachine,
  type RemoteProvider,
  type RemoteRunOptions,
  type RemoteStat,
} from "./remote_machine.ts";

/**
 * Creates the provider adapter.
 *
 * @param options Key, endpoints, template and workspace.
 * @returns The provider.
 */
export function e2bProvider(options: E2BProviderOptions = {}): RemoteProvider {
  const connection: Record<string, string> = {};
  for (const name of ["apiKey", "apiUrl", "sandboxUrl", "domain"] as const) {
    if (options[name] !== undefined) connection[name] = options[name];
  }
  return {
    name: "e2b",
    workspaceRoot: options.workspaceRoot ?? "/home/user/workspace",
    async create(request: RemoteCreateRequest): Promise<RemoteMachine> {
      try {
        const sandbox = await E2BSandbox.create({
          ...connection,
          ...(options.template ? { template: options.template } : {}),
          timeoutMs: request.lifetimeMs,
          metadata: request.labels,
          // E2B can only switch the internet on or off: a host list keeps it on (see docs/sandboxes.md).
          allowInternetAccess: request.allowNet !== false,
        });
        return new E2BMachine(sandbox);
      } catch (error) {
        throw describe(error);
      }
    },
    async connect(id: string): Promise<RemoteMachine | undefined> {
      try {
        return new E2BMachine(await E2BSandbox.connect(id, connection));
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw describe(error);
      }
    },
  };
}

function describe(error: unknown): unknown {
  if (error instanceof Error && error.name === "AuthenticationError") {
    return new SandboxUnavailableError(
      `E2B refused the API key (${error.message}): set E2B_API_KEY to a valid key`,
      { cause: error },
    );
  }
  return error;
}

/** E2B's errors for files, as Deno's error classes. */
function toFileError(error: unknown, path: string): unknown {
  if (error instanceof NotFoundError) {
    return new Deno.errors.NotFound(`Path "${path}" does not exist`, { cause: error });
  }
  if (error instanceof Error && error.name === "InvalidArgumentError" && /directory/i.test(error.message)) {
    return new Deno.errors.IsADirectory(`Path "${path}" is a directory`, { cause: error });
  }
  return error;
}

class E2BMachine implements RemoteMachine {
  readonly #sandbox: E2BSandbox;

  constructor(sandbox: E2BSandbox) {
    this.#sandbox = sandbox;
  }

  get id(): string {
    return this.#sandbox.sandboxId;
  }

  async readFile(path: string): Promise<Uint8Array> {
    try {
      return await this.#sandbox.files.read(path, { format: "bytes" });
    } catch (error) {
      throw toFileError(error, path);
    }
  }

  async writeFile(path: string, content: Uint8Array): Promise<void> {
    try {
      await this.#sandbox.files.write(path, new Blob([content as Uint8Array<ArrayBuffer>]));
    } catch (error) {
      throw toFileError(error, path);
    }
  }

  async stat(path: string): Promise<RemoteStat | undefined> {
    try {
      const link = await this.#sandbox.files.getInfo(path);
      const isSymlink = link.type === FileType.SYMLINK || Boolean(link.symlinkTarget);
      // Facts about a link are its target's, as Deno.stat gives them; the shared layer already kept the target inside.
      const info = isSymlink && link.symlinkTarget
        ? await this.#sandbox.files.getInfo(
          link.symlinkTarget.startsWith("/")
            ? link.symlinkTarget
            : `${path.slice(0, path.lastIndexOf("/")) || "/"}/${link.symlinkTarget}`,
        )
        : link;
      return {
        isFile: info.type === FileType.FILE,
        isDirectory: info.type === FileType.DIR,
        isSymlink,
        size: info.size,
        modifiedAt: info.modifiedTime?.toISOString(),
      };
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async readdir(path: string): Promise<DirEntry[]> {
    try {
      const entries = await this.#sandbox.files.list(path, { depth: 1 });
      return entries.map((entry) => ({
        name: entry.name,
        isFile: entry.type === FileType.FILE,
        isDirectory: entry.type === FileType.DIR,
        isSymlink: entry.symlinkTarget !== undefined && entry.symlinkTarget !== "",
      }));
    } catch (error) {
      throw toFileError(error, path);
    }
  }

  async mkdir(path: string): Promise<void> {
    await this.#sandbox.files.makeDir(path);
  }

  async remove(path: string): Promise<void> {
    try {
      await this.#sandbox.files.remove(path);
    } catch (error) {
      throw toFileError(error, path);
    }
  }

  async run(command: RemoteCommand, options: RemoteRunOptions): Promise<{ exitCode: number }> {
    const handle = await this.#sandbox.commands.run(commandString(command), {
      background: true,
      cwd: options.cwd,
      envs: options.env,
      // A little longer than ours, so that Flue's timeout (which keeps partial output) fires first.
      timeoutMs: options.timeoutMs + 5_000,
      onStdout: (chunk) => options.onOutput("stdout", chunk),
      onStderr: (chunk) => options.onOutput("stderr", chunk),
    });
    const kill = () => handle.kill().catch(() => undefined);
    options.signal.addEventListener("abort", kill, { once: true });
    try {
      return { exitCode: (await handle.wait()).exitCode };
    } catch (error) {
      if (error instanceof CommandExitError) return { exitCode: error.exitCode };
      throw error;
    } finally {
      options.signal.removeEventListener("abort", kill);
    }
  }

  disconnect(): Promise<void> {
    // E2B's SDK keeps no connection open between calls.
    return Promise.resolve();
  }

  async destroy(): Promise<void> {
    await this.#sandbox.kill();
  }
}
