/**
 * The error for bad command-line input: the CLI prints its message and exits with status 2.
 *
 * @module
 */

/** Bad command-line input (unknown flag, bad payload, missing argument). Exit status 2. */
export class UsageError extends Error {
  /**
   * @param message What was wrong and what is valid.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/**
 * Wraps `node:util` `parseArgs` errors (unknown flags, missing values) as `UsageError`s that list the valid flags.
 *
 * @param error What `parseArgs` threw.
 * @param validFlags The command's flags, for the message.
 * @returns The error to throw.
 */
export function usageErrorFromParseArgs(error: unknown, validFlags: readonly string[]): Error {
  const code = (error as { code?: string }).code;
  if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    return new UsageError(`${message}; valid flags are ${validFlags.join(", ")}`, { cause: error });
  }
  return error as Error;
}
