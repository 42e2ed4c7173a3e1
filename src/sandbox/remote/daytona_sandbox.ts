/**
 * The `daytona` provider: Daytona's cloud sandboxes through `npm:@daytonaio/sdk`. Loaded only when chosen.
 *
 * @module
 */

import { Daytona, DaytonaError, DaytonaNotFoundError, type Sandbox as DaytonaSandbox } from "@daytonaio/sdk";
import { SandboxUnavailableError } from "../../errors.ts";
import type { DaytonaProviderOptions } from "./remote_options.ts";
import type { DirEntry } from "../sandbox.ts";
import {
  commandString,
  type RemoteCommand,
  type RemoteCreateRequest,
  type RemoteMachine,
  type RemoteProvider,
  type RemoteRunOptions,
  RemoteSandboxGoneError,
  type RemoteStat,
} from "./remote_machine.ts";

/**
 * Creates the provider adapter.
 *
 * @param options Key, endpoint, target and workspace.
 * @returns The provider.
 */
export function daytonaProvider(options: DaytonaProviderOptions = {}): RemoteProvider {
  let client: Daytona | undefined;
  // Created on first use, so that a bad endpoint surfaces at the first call like every other provider's.
  const daytona = (): Daytona =>
    client ??= new Daytona({
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
      ...(options.target ? { target: options.target } : {}),
      // Flue waits for a sandbox once, at creation: polling for that beats a socket.io connection held per process.
      useDeprecatedPolling: true,
    });
  return {
    name: "daytona",
    workspaceRoot: options.workspaceRoot ?? "/home/daytona/workspace",
    async create(request: RemoteCreateRequest): Promise<RemoteMachine> {
      const allowNet = request.allowNet;
      try {
        const sandbox = await daytona().create({
          ...(options.snapshot ? { snapshot: options.snapshot } : {}),
          labels: request.labels,
          // Minutes, the provider's unit; at least one, so that a short lifetime is not read as "none".
          ttlMinutes: Math.max(1, Math.ceil(request.lifetimeMs / 60_000)),
          ...(allowNet === false ? { networkBlockAll: true } : {}),
          ...(Array.isArray(allowNet) ? { domainAllowList: allowNet.join(",") } : {}),
        });
        return new DaytonaMachine(sandbox);
      } catch (error) {
        throw describe(error);
      }
    },
    async connect(id: string): Promise<RemoteMachine | undefined> {
      try {
        return new DaytonaMachine(await daytona().get(id));
      } catch (error) {
        if (error instanceof DaytonaNotFoundError) return undefined;
        throw describe(error);
      }
    },
  };
}

function describe(error: unknown): unknown {
  if (error instanceof DaytonaError && error.statusCode === 401) {
    return new SandboxUnavailableError(
      `Daytona refused the API key (${error.message}): set DAYTONA_API_KEY to a valid key`,
      { cause: error },
    );
  }
  return error;
}

/** Daytona's errors for files, as Deno's error classes. */
function toFileError(error: unknown, path: string): unknown {
  if (error instanceof DaytonaNotFoundError) {
    return new Deno.errors.NotFound(`Path "${path}" does not exist`, { cause: error });
  }
  if (error instanceof DaytonaError && /directory/i.test(error.message)) {
    return new Deno.errors.IsADirectory(`Path "${path}" is a directory`, { cause: error });
  }
  return error;
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

class DaytonaMachine implements RemoteMachine {
  readonly #sandbox: DaytonaSandbox;

  constructor(sandbox: DaytonaSandbox) {
    this.#sandbox = sandbox;
  }

  get id(): string {
    return this.#sandbox.id;
  }

  async readFile(path: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await this.#sandbox.fs.downloadFile(path));
    } catch (error) {
      throw toFileError(error, path);
    }
  }

  async writeFile(path: string, content: Uint8Array): Promise<void> {
    // The SDK's upload under Deno does not read the reply, so a parent that cannot be made must fail here instead.
    const parent = path.slice(0, path.lastIndexOf("/"));
    if (parent) await this.mkdir(parent);
    const existing = await this.stat(path);
    if (existing?.isDirectory) throw new Deno.errors.IsADirectory(`Path "${path}" is a directory`);
    await this.#sandbox.fs.uploadFile(Buffer.from(content), path);
  }

  async stat(path: string): Promise<RemoteStat | undefined> {
    try {
      const info = await this.#sandbox.fs.getFileDetails(path);
      return {
        isFile: !info.isDir,
        isDirectory: info.isDir,
        // Go's FileMode string marks a symbolic link with a leading "L"; the other facts are the target's.
        isSymlink: info.mode.startsWith("L"),
        size: info.size,
        modifiedAt: info.modTime ? new Date(info.modTime).toISOString() : undefined,
      };
    } catch (error) {
      if (error instanceof DaytonaNotFoundError) return undefined;
      throw error;
    }
  }

  async readdir(path: string): Promise<DirEntry[]> {
    try {
      const entries = await this.#sandbox.fs.listFiles(path);
      return entries.map((entry) => ({
        name: entry.name,
        isFile: !entry.isDir,
        isDirectory: entry.isDir,
        isSymlink: entry.mode.startsWith("L"),
      }));
    } catch (error) {
      throw toFileError(error, path);
    }
  }

  async mkdir(path: string): Promise<void> {
    await this.#sandbox.fs.createFolder(path, "755");
  }

  async remove(path: string, recursive: boolean): Promise<void> {
    try {
      await this.#sandbox.fs.deleteFile(path, recursive);
    } catch (error) {
      throw toFileError(error, path);
    }
  }

  async run(command: RemoteCommand, options: RemoteRunOptions): Promise<{ exitCode: number }> {
    const process = this.#sandbox.process;
    const sessionId = `flue-${crypto.randomUUID()}`;
    // Daytona's session commands take no environment: the variables go to a private file that the command reads and
    // deletes first, so that no value is part of the command text or of the session.
    let prelude = "";
    const variables = Object.entries(options.env);
    if (variables.length > 0) {
      const envFile = `/tmp/.flue-env-${crypto.randomUUID()}`;
      const lines = variables.map(([name, value]) => `export ${name}=${shellQuote(value)}\n`).join("");
      await this.#sandbox.fs.uploadFile(Buffer.from(lines), envFile);
      prelude = `. ${envFile}; rm -f ${envFile}; `;
    }
    const line = `${prelude}cd ${shellQuote(options.cwd)} && exec bash -c ${shellQuote(commandString(command))}`;
    await process.createSession(sessionId);
    const stop = () => process.deleteSession(sessionId).catch(() => undefined);
    options.signal.addEventListener("abort", stop, { once: true });
    try {
      const { cmdId } = await process.executeSessionCommand(sessionId, {
        command: `(${line})`,
        runAsync: true,
      }, Math.ceil(options.timeoutMs / 1000) + 5);
      if (!cmdId) throw new Error("Daytona did not return a command id");
      await process.getSessionCommandLogs(
        sessionId,
        cmdId,
        (chunk) => options.onOutput("stdout", chunk),
        (chunk) => options.onOutput("stderr", chunk),
      );
      if (options.signal.aborted) return { exitCode: 130 };
      const finished = await process.getSessionCommand(sessionId, cmdId);
      if (finished.exitCode === undefined || finished.exitCode === null) {
        // The log stream closed before the command ended: a dropped connection, not a vanished machine.
        throw new Error(`The output stream of a command on Daytona sandbox "${this.id}" ended before the command`);
      }
      return { exitCode: finished.exitCode };
    } catch (error) {
      if (options.signal.aborted) return { exitCode: 130 };
      if (error instanceof DaytonaNotFoundError) throw new RemoteSandboxGoneError(this.id, undefined, { cause: error });
      throw error;
    } finally {
      options.signal.removeEventListener("abort", stop);
      if (!options.signal.aborted) await stop();
    }
  }

  disconnect(): Promise<void> {
    // Daytona's SDK keeps no connection open between calls.
    return Promise.resolve();
  }

  async destroy(): Promise<void> {
    try {
      await this.#sandbox.delete();
    } catch (error) {
      if (!(error instanceof DaytonaNotFoundError)) throw error;
    }
  }
}
