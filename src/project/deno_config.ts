/**
 * Finding and reading a project's Deno configuration file, `deno.json` or `deno.jsonc`, as JSONC (comments and
 * trailing commas allowed, as Deno itself allows them in both).
 *
 * @module
 */

import { join } from "node:path";
import { parse, type ParseError, printParseErrorCode } from "jsonc-parser";

/** The configuration file names Deno reads, in the order it prefers them. */
export const DENO_CONFIG_NAMES: readonly string[] = ["deno.json", "deno.jsonc"];

/**
 * Finds the Deno configuration file of a directory.
 *
 * @example A directory without one
 * ```ts
 * import assert from "node:assert/strict";
 * import { findDenoConfig } from "./deno_config.ts";
 *
 * const dir = await Deno.makeTempDir();
 * assert.equal(await findDenoConfig(dir), undefined);
 * await Deno.remove(dir);
 * ```
 *
 * @param dir The directory (not searched upwards).
 * @returns The file's path, or `undefined` when the directory has neither `deno.json` nor `deno.jsonc`.
 */
export async function findDenoConfig(dir: string): Promise<string | undefined> {
  for (const name of DENO_CONFIG_NAMES) {
    const path = join(dir, name);
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return undefined;
}

/**
 * Parses the text of a Deno configuration file as JSONC.
 *
 * @example Comments and trailing commas
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDenoConfig } from "./deno_config.ts";
 *
 * assert.deepEqual(parseDenoConfig('{ // the model\n "flue": { "model": "test", }, }', "deno.jsonc"), {
 *   flue: { model: "test" },
 * });
 * ```
 *
 * @param text The file's text.
 * @param path Where it came from, for error messages.
 * @returns The parsed object.
 * @throws {SyntaxError} When the text is not JSONC or not an object; the message names the line and column.
 */
export function parseDenoConfig(text: string, path: string): Record<string, unknown> {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length) {
    const [first] = errors;
    const before = text.slice(0, first.offset).split("\n");
    throw new SyntaxError(
      `Could not parse "${path}": ${printParseErrorCode(first.error)} at line ${before.length}, column ${
        before[before.length - 1].length + 1
      }`,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SyntaxError(`Could not parse "${path}": the configuration must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Reads a directory's Deno configuration file.
 *
 * @param dir The directory.
 * @returns The file's path and parsed contents, or `undefined` when there is none.
 */
export async function readDenoConfig(
  dir: string,
): Promise<{ path: string; config: Record<string, unknown> } | undefined> {
  const path = await findDenoConfig(dir);
  if (path === undefined) return undefined;
  return { path, config: parseDenoConfig(await Deno.readTextFile(path), path) };
}
