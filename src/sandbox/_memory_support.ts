/**
 * Small pieces of the memory sandbox: argument checks, output cutting, quoting for the simulated shell, and turning
 * the in-memory file system's errno messages into Deno's error classes.
 *
 * @module
 */

import type { InMemoryFs } from "just-bash";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks an optional limit.
 *
 * @param value The limit given, if any.
 * @param fallback The default.
 * @param name The option's name, for the message.
 * @returns The limit to use.
 * @throws {RangeError} When the value is not a positive whole number.
 */
export function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Option "${name}" must be a positive whole number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Checks the extra environment of a command: names must be shell variable names and values strings.
 *
 * @param env The variables given, if any.
 * @returns A plain copy.
 * @throws {TypeError} On an invalid name or a value that is not a string.
 */
export function checkedEnv(env: Record<string, string> | undefined): Record<string, string> {
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(env ?? {})) {
    if (!ENV_NAME.test(name)) {
      throw new TypeError(`Invalid environment variable name "${name}": use letters, digits, "_"`);
    }
    if (typeof value !== "string") throw new TypeError(`Environment variable "${name}" must be a string`);
    checked[name] = value;
  }
  return checked;
}

/**
 * Whether a path exists without following a final symlink.
 *
 * @param files The in-memory file system.
 * @param path An absolute path in it.
 * @returns Its `lstat`, or `undefined` when nothing is there.
 */
export async function lstatOrUndefined(files: InMemoryFs, path: string): Promise<unknown> {
  try {
    return await files.lstat(path);
  } catch {
    return undefined;
  }
}

/**
 * Single-quotes a word for the simulated shell, so it is one literal word whatever it contains.
 *
 * @param word The word.
 * @returns The quoted word.
 */
export function quoteWord(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Decodes output just-bash returns as bytes (one character per byte) as UTF-8.
 *
 * @param text The byte string.
 * @returns The decoded text.
 */
export function decodeLatin1Bytes(text: string): string {
  return new TextDecoder().decode(Uint8Array.from(text, (character) => character.charCodeAt(0)));
}

/**
 * Cuts a command's output to a byte cap with a note, never inside a character.
 *
 * @param text The output.
 * @param maxBytes The cap.
 * @returns The output that fits, with the note when cut.
 */
export function cutOutput(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return { text, truncated: false };
  // Decoding a prefix that ends inside a character yields U+FFFD; dropping it keeps the cut clean.
  const head = new TextDecoder().decode(bytes.subarray(0, maxBytes)).replace(/\uFFFD$/, "");
  return { text: `${head}\n[output cut at ${maxBytes} of ${bytes.length} bytes]`, truncated: true };
}

const ERRNO_CLASSES: Record<string, new (message: string, options?: ErrorOptions) => Error> = {
  ENOENT: Deno.errors.NotFound,
  EEXIST: Deno.errors.AlreadyExists,
  EISDIR: Deno.errors.IsADirectory,
  ENOTDIR: Deno.errors.NotADirectory,
  ENOTEMPTY: Deno.errors.NotSupported,
  ENOSPC: RangeError,
};

const ERRNO_WORDING: Record<string, string> = {
  ENOENT: "does not exist",
  EEXIST: "already exists",
  EISDIR: "is a directory",
  ENOTDIR: "is not a directory, or a parent of it is not",
  ENOTEMPTY: "is a directory that is not empty",
  ENOSPC: "does not fit: the memory sandbox is full (raise maxFileSystemBytes)",
};

/**
 * Turns the in-memory file system's errno messages (`ENOENT: ...`) into Deno's error classes, quoting the path as the
 * caller gave it; other errors pass through.
 *
 * @param error What the file system threw.
 * @param path The path as given to the sandbox.
 * @returns The error to throw.
 */
export function toDenoError(error: unknown, path: string): unknown {
  if (!(error instanceof Error)) return error;
  const code = /^(E[A-Z]+)\b/.exec(error.message)?.[1];
  const ErrorClass = code ? ERRNO_CLASSES[code] : undefined;
  if (!code || !ErrorClass) return error;
  return new ErrorClass(`Path "${path}" ${ERRNO_WORDING[code]}`, { cause: error });
}
