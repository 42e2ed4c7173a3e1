/**
 * The machines behind the fake remote sandbox providers: each is a temporary host directory standing for the remote
 * machine's root, where commands run as host subprocesses. A test fixture, not an isolation boundary: use it only with
 * commands a test chooses.
 *
 * @module
 */

import { dirname, join } from "node:path";

/** A running fake process. */
export interface FakeProcess {
  /** Its process id. */
  readonly pid: number;
  /** Resolves with the exit code (`128 + signal` when killed). */
  readonly exitCode: Promise<number>;
  /** Kills the process. */
  kill(): void;
}

/** How a fake process runs. */
export interface FakeSpawnOptions {
  /** The program and its arguments, or a script for `bash -c`. */
  command: { argv: string[] } | { script: string };
  /** Absolute working directory on the machine. */
  cwd?: string;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Standard input, written then closed. */
  stdin?: Uint8Array;
  /** Receives stdout bytes as they come. */
  onStdout(chunk: Uint8Array): void;
  /** Receives stderr bytes as they come. */
  onStderr(chunk: Uint8Array): void;
}

/** One fake remote machine: a host directory as its root file system. */
export class FakeMachine {
  /** The provider's id. */
  readonly id: string;
  /** The host directory standing for `/`. */
  readonly dir: string;
  /** Environment variables of processes, as last given per command (for tests of secret handling). */
  readonly commandEnvs: Record<string, string>[] = [];
  readonly #processes = new Set<Deno.ChildProcess>();

  /**
   * Describes a machine whose root is `dir`.
   *
   * @param id The provider's id.
   * @param dir The host directory standing for `/`.
   */
  constructor(id: string, dir: string) {
    this.id = id;
    this.dir = dir;
  }

  /**
   * The host path of a machine path.
   *
   * @param path An absolute path on the machine.
   * @returns The host path.
   */
  hostPath(path: string): string {
    if (!path.startsWith("/")) throw new TypeError(`Machine path "${path}" is not absolute`);
    return join(this.dir, path);
  }

  /** Reads a file. */
  async readFile(path: string): Promise<Uint8Array> {
    return await Deno.readFile(this.hostPath(path));
  }

  /** Writes a file, creating parents. */
  async writeFile(path: string, content: Uint8Array): Promise<void> {
    await Deno.mkdir(dirname(this.hostPath(path)), { recursive: true });
    await Deno.writeFile(this.hostPath(path), content);
  }

  /**
   * Starts a process on the machine.
   *
   * @param options What to run and where output goes.
   * @returns The process.
   */
  spawn(options: FakeSpawnOptions): FakeProcess {
    const argv = "argv" in options.command ? options.command.argv : ["bash", "-c", options.command.script];
    const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: this.hostPath("/root"), ...options.env };
    this.commandEnvs.push({ ...options.env });
    // In a session of its own, so that a kill reaches the whole tree, as a provider's kill does.
    const child = new Deno.Command("setsid", {
      args: argv,
      cwd: this.hostPath(options.cwd ?? "/"),
      env,
      clearEnv: true,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#processes.add(child);
    if (options.stdin) {
      const writer = child.stdin.getWriter();
      writer.write(options.stdin).then(() => writer.close()).catch(() => undefined);
    }
    const pump = async (stream: ReadableStream<Uint8Array>, sink: (chunk: Uint8Array) => void) => {
      for await (const chunk of stream) sink(chunk);
    };
    const exitCode = Promise.all([
      child.status,
      pump(child.stdout, options.onStdout),
      pump(child.stderr, options.onStderr),
    ]).then(([status]) => {
      this.#processes.delete(child);
      return status.signal ? 128 + (Deno.build.os === "linux" ? signalNumber(status.signal) : 15) : status.code;
    });
    return {
      pid: child.pid,
      exitCode,
      kill: () => killTree(child),
    };
  }

  /** Kills its processes and removes its directory. */
  async destroy(): Promise<void> {
    for (const child of this.#processes) killTree(child);
    await Promise.all([...this.#processes].map((child) => child.status.catch(() => undefined)));
    await Deno.remove(this.dir, { recursive: true }).catch(() => undefined);
  }
}

function killTree(child: Deno.ChildProcess): void {
  try {
    Deno.kill(-child.pid, "SIGKILL");
  } catch {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

function signalNumber(signal: Deno.Signal): number {
  return ({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 15;
}

/** The fake machines of one fake provider. */
export class FakeMachines {
  readonly #machines = new Map<string, FakeMachine>();
  readonly #newId: () => string;

  /**
   * @param newId Makes a provider-style id.
   */
  constructor(newId: () => string) {
    this.#newId = newId;
  }

  /** Creates a machine with an empty root directory. */
  async create(): Promise<FakeMachine> {
    const dir = await Deno.makeTempDir({ prefix: "flue_fake_machine_" });
    const machine = new FakeMachine(this.#newId(), dir);
    this.#machines.set(machine.id, machine);
    return machine;
  }

  /** The machine with this id, if it exists. */
  get(id: string): FakeMachine | undefined {
    return this.#machines.get(id);
  }

  /** Deletes a machine; `false` when there was none. */
  async delete(id: string): Promise<boolean> {
    const machine = this.#machines.get(id);
    if (!machine) return false;
    this.#machines.delete(id);
    await machine.destroy();
    return true;
  }

  /** The ids of the running machines. */
  ids(): string[] {
    return [...this.#machines.keys()];
  }

  /** Deletes every machine. */
  async clear(): Promise<void> {
    await Promise.all(this.ids().map((id) => this.delete(id)));
  }
}
