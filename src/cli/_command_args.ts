/**
 * Parses a command's flags strictly, turning a parse failure into a usage error (exit 2) that names the valid flags.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { usageErrorFromParseArgs } from "./usage_error.ts";

/**
 * Parses a command's arguments: flags are checked strictly, positionals are allowed.
 *
 * @param args The arguments after the command's name.
 * @param options The flags, as `node:util` `parseArgs` takes them.
 * @param validFlags The flags to name when one is unknown or malformed.
 * @returns The flag values and positionals.
 * @throws {UsageError} When a flag is unknown or lacks its value.
 */
export function parseCommandArgs<const Options extends ParseArgsOptionsConfig>(
  args: string[],
  options: Options,
  validFlags: readonly string[],
): ReturnType<typeof parseArgs<{ args: string[]; options: Options; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageErrorFromParseArgs(error, validFlags);
  }
}
