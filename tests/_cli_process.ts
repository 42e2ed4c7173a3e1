/** A long-running CLI subprocess for end-to-end tests (`flue serve`, `flue dev`, `flue logs --follow`). */

import { CLI } from "./_cli_helpers.ts";

/** A running `flue` subprocess whose output is collected as it arrives. */
export interface CliProcess {
  /** Everything printed on standard output so far. */
  stdout(): string;
  /** Everything printed on standard error so far. */
  stderr(): string;
  /**
   * Waits until standard output matches, failing after a bound.
   *
   * @param pattern What to wait for; matched against the whole output.
   * @param count How many matches to wait for.
   * @returns The last match.
   */
  waitForStdout(pattern: RegExp, count?: number): Promise<RegExpMatchArray>;
  /** Sends a signal. */
  kill(signal?: Deno.Signal): void;
  /** The exit status, within a bound (then the process is killed and the wait fails). */
  status(): Promise<Deno.CommandStatus>;
  /** Kills the process if it still runs and waits for it; safe to call in `finally`. */
  close(): Promise<void>;
}

const WAIT_MS = 60_000;

/**
 * Starts `flue <args>`.
 *
 * @param args The CLI arguments.
 * @param options The working directory, the project's deno.json, and extra environment.
 * @returns The process.
 */
export function spawnCli(
  args: string[],
  options: { cwd: string; config?: string; env?: Record<string, string> },
): CliProcess {
  const denoArgs = ["run", "-A", "--quiet"];
  if (options.config) denoArgs.push("--config", options.config);
  const child = new Deno.Command(Deno.execPath(), {
    args: [...denoArgs, CLI, ...args],
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  let changed = Promise.withResolvers<void>();
  const collect = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      add(text);
      changed.resolve();
      changed = Promise.withResolvers<void>();
    }
  };
  const collected = Promise.all([
    collect(child.stdout, (text) => out += text),
    collect(child.stderr, (text) => err += text),
  ]);
  const exited = child.status.then(async (status) => {
    await collected;
    changed.resolve();
    return status;
  });
  let isDone = false;
  exited.then(() => isDone = true);

  const withBound = async <T>(promise: Promise<T>, what: string): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Timed out waiting for ${what}\nstdout:\n${out}\nstderr:\n${err}`)),
        WAIT_MS,
      );
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    stdout: () => out,
    stderr: () => err,
    waitForStdout(pattern, count = 1) {
      const global = new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`);
      return withBound(
        (async () => {
          while (true) {
            const matches = [...out.matchAll(global)];
            if (matches.length >= count) return matches[count - 1];
            if (isDone) throw new Error(`Exited before printing ${pattern}\nstdout:\n${out}\nstderr:\n${err}`);
            await changed.promise;
          }
        })(),
        `${pattern} on stdout`,
      );
    },
    kill(signal = "SIGTERM") {
      if (!isDone) child.kill(signal);
    },
    status: () => withBound(exited, "the process to exit"),
    async close() {
      // SIGTERM first: `flue dev` then stops its server child before it exits.
      for (const signal of ["SIGTERM", "SIGKILL"] as const) {
        if (isDone) break;
        try {
          child.kill(signal);
        } catch {
          // exited meanwhile
        }
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      }
      await exited;
    },
  };
}
