/**
 * The `deno-sandbox` provider: Deno Deploy's microVMs through `npm:@deno/sandbox`. Loaded only when chosen.
 *
 * @module
 */

import { Sandbox as DenoSandbox } from "@deno/sandbox";
import { SandboxUnavailableError } from "../../errors.ts";
import type { DenoSandboxProviderOptions } from "./remote_options.ts";
import type { DirEntry } from "../sandbox.ts";
import {
  type RemoteCommand,
  type RemoteCreateRequest,
  type RemoteMachine,
  type RemoteProvider,
  type RemoteRunOptions,
  type RemoteStat,
} from "./remote_machine.ts";
import { readTextStream } from "./_streams.ts";

type SdkOptions = Parameters<typeof DenoSandbox.create>[0] & Record<string, unknown>;

/**
 * Creates the provider adapter.
 *
 * @param options Token, endpoint and machine options.
 * @returns The provider.
 */
export function denoSandboxProvider(options: DenoSandboxProviderOptions = {}): RemoteProvider {
  const connection: SdkOptions = {};
  if (options.token !== undefined) connection.token = options.token;
  if (options.sandboxEndpoint !== undefined) connection.sandboxEndpoint = options.sandboxEndpoint;
  if (options.region !== undefined) connection.region = options.region;
  return {
    name: "deno-sandbox",
    workspaceRoot: options.workspaceRoot ?? "/workspace",
    async create(request: RemoteCreateRequest): Promise<RemoteMachine> {
      const sandbox = await DenoSandbox.create({
        ...connection,
        timeout: `${Math.max(1, Math.ceil(request.lifetimeMs / 1000))}s`,
        labels: request.labels,
        // No hosts at all without allowNet; the SDK reads an absent list as "no restriction".
        allowNet: request.allowNet === true ? undefined : request.allowNet === false ? [] : [...request.allowNet],
        ...(options.memory ? { memory: options.memory as SdkOptions["memory"] } : {}),
      }).catch((error) => {
        throw describe(error);
      });
      return new DenoSandboxMachine(sandbox);
    },
    async connect(id: string): Promise<RemoteMachine | undefined> {
      try {
        return new DenoSandboxMachine(await DenoSandbox.connect(id, connection));
      } catch (error) {
        if ((error as { status?: number }).status === 404) return undefined;
        throw describe(error);
      }
    },
  };
}

function describe(error: unknown): unknown {
  const status = (error as { status?: number }).status;
  const name = error instanceof Error ? error.name : "";
  if (status === 401 || status === 403 || name === "InvalidTokenError" || name === "MissingTokenError") {
    return new SandboxUnavailableError(
      `Deno Deploy refused the sandbox token (${status ?? name}): set DENO_DEPLOY_TOKEN to a valid organization ` +
        `access token`,
      { cause: error },
    );
  }
  return error;
}

class DenoSandboxMachine implements RemoteMachine {
  readonly #sandbox: DenoSandbox;

  constructor(sandbox: DenoSandbox) {
    this.#sandbox = sandbox;
  }

  get id(): string {
    return this.#sandbox.id;
  }

  async readFile(path: string): Promise<Uint8Array> {
    try {
      return await this.#sandbox.fs.readFile(path);
    } catch (error) {
      throw toDenoError(error);
    }
  }

  async writeFile(path: string, content: Uint8Array): Promise<void> {
    const parent = path.slice(0, path.lastIndexOf("/")) || "/";
    try {
      await this.#sandbox.fs.mkdir(parent, { recursive: true });
      await this.#sandbox.fs.writeFile(path, content as Uint8Array<ArrayBuffer>);
    } catch (error) {
      throw toDenoError(error);
    }
  }

  async stat(path: string): Promise<RemoteStat | undefined> {
    try {
      const info = await this.#sandbox.fs.stat(path);
      return {
        isFile: info.isFile,
        isDirectory: info.isDirectory,
        isSymlink: info.isSymlink,
        size: info.size,
        modifiedAt: info.mtime?.toISOString(),
      };
    } catch (error) {
      const mapped = toDenoError(error);
      if (mapped instanceof Deno.errors.NotFound) return undefined;
      throw mapped;
    }
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const entries: DirEntry[] = [];
    try {
      for await (const entry of this.#sandbox.fs.readDir(path)) {
        entries.push({
          name: entry.name,
          isFile: entry.isFile,
          isDirectory: entry.isDirectory,
          isSymlink: entry.isSymlink,
        });
      }
    } catch (error) {
      throw toDenoError(error);
    }
    return entries;
  }

  async mkdir(path: string): Promise<void> {
    try {
      await this.#sandbox.fs.mkdir(path, { recursive: true });
    } catch (error) {
      throw toDenoError(error);
    }
  }

  async remove(path: string, recursive: boolean): Promise<void> {
    try {
      await this.#sandbox.fs.remove(path, { recursive });
    } catch (error) {
      throw toDenoError(error);
    }
  }

  async run(command: RemoteCommand, options: RemoteRunOptions): Promise<{ exitCode: number }> {
    const [program, ...args] = "argv" in command ? command.argv : ["bash", "-c", command.script];
    const child = await this.#sandbox.spawn(program, {
      args,
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    const kill = () => child.kill("SIGKILL").catch(() => undefined);
    options.signal.addEventListener("abort", kill, { once: true });
    try {
      const output = Promise.all([
        readTextStream(child.stdout, (chunk) => options.onOutput("stdout", chunk)),
        readTextStream(child.stderr, (chunk) => options.onOutput("stderr", chunk)),
      ]);
      const status = await child.status;
      // A killed command's streams may stay open while something it started lives on: its output so far is enough.
      if (!options.signal.aborted) await output;
      return { exitCode: status.code };
    } finally {
      options.signal.removeEventListener("abort", kill);
    }
  }

  async disconnect(): Promise<void> {
    await this.#sandbox.close().catch(() => undefined);
  }

  async destroy(): Promise<void> {
    try {
      await this.#sandbox.kill();
    } catch (error) {
      if ((error as { status?: number }).status === 404) {
        await this.disconnect();
        return;
      }
      if (error instanceof Error && error.name === "ConnectionClosedError") return;
      throw new Error(`Could not delete Deno sandbox "${this.id}": ${error}`, { cause: error });
    }
  }
}

const FILE_ERRORS: Record<string, new (message: string, options?: ErrorOptions) => Error> = {
  NotFound: Deno.errors.NotFound,
  AlreadyExists: Deno.errors.AlreadyExists,
  IsADirectory: Deno.errors.IsADirectory,
  NotADirectory: Deno.errors.NotADirectory,
  PermissionDenied: Deno.errors.PermissionDenied,
};

/** The SDK rebuilds the machine's errors with its own copy of `Deno.errors`: these are turned into the runtime's. */
function toDenoError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const ErrorClass = FILE_ERRORS[error.constructor.name] ?? FILE_ERRORS[error.name];
  if (!ErrorClass || error instanceof ErrorClass) return error;
  return new ErrorClass((error as Error).message, { cause: error });
}
