/**
 * A `CliIo` that keeps what a command prints, for tests that run `main()` in process.
 *
 * @module
 */

import type { CliIo } from "./terminal.ts";

/**
 * An uncoloured `CliIo` whose output collects in `out` and `err`.
 *
 * @param progress Whether the command may show progress, as on a terminal. Default false.
 * @returns The io, with the text printed so far.
 */
export function captureIo(progress = false): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    color: false,
    progress,
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
  };
  return io;
}
