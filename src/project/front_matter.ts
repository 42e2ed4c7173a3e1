/**
 * Front matter: the YAML block between `---` lines at the top of a Markdown file (skills, roles), parsed with
 * `npm:yaml`.
 *
 * @module
 */

import { parseDocument, YAMLError } from "yaml";

/** A Markdown file split into its front matter and its body. */
export interface FrontMatter {
  /** The front matter's keys and values; empty when the file has none. */
  data: Record<string, unknown>;
  /** The text after the closing `---` line (the whole text when there is no front matter). */
  body: string;
}

const OPENING = /^\uFEFF?---[ \t]*\r?\n/;
const CLOSING = /^(?:---|\.\.\.)[ \t]*$/m;

/**
 * Splits a Markdown file into its YAML front matter and its body.
 *
 * The front matter starts with a `---` line as the file's first line and ends at the next `---` (or `...`) line. It
 * must be a YAML mapping. A file without an opening `---` has no front matter.
 *
 * @example Usage
 * ```ts
 * import { parseFrontMatter } from "./front_matter.ts";
 *
 * const { data, body } = parseFrontMatter("---\nname: triage\n---\nRead the issue.\n", "triage.md");
 * if (data.name !== "triage" || body !== "Read the issue.\n") throw new Error("unexpected");
 * ```
 *
 * @param text The file's text.
 * @param file The file's path, named in errors.
 * @returns The front matter's data and the body.
 * @throws {SyntaxError} When the front matter is not closed, is not valid YAML, or is not a mapping; the message names
 * the file and the line.
 */
export function parseFrontMatter(text: string, file: string): FrontMatter {
  const opening = OPENING.exec(text);
  if (!opening) return { data: {}, body: text };
  const rest = text.slice(opening[0].length);
  const closing = CLOSING.exec(rest);
  if (!closing) {
    throw new SyntaxError(
      `Invalid front matter in "${file}" at line 1: the opening "---" has no closing "---" line; ` +
        `end the front matter with a line holding only "---"`,
    );
  }
  const yamlText = rest.slice(0, closing.index);
  const body = rest.slice(closing.index + closing[0].length).replace(/^\r?\n/, "");
  const document = parseDocument(yamlText, { prettyErrors: true, uniqueKeys: true });
  const problem = document.errors[0];
  if (problem) throw new SyntaxError(`Invalid front matter in "${file}"${lineOf(problem)}: ${firstLine(problem)}`);
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new SyntaxError(`Invalid front matter in "${file}": ${(error as Error).message}`, { cause: error });
  }
  if (data === null || data === undefined) return { data: {}, body };
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new SyntaxError(
      `Invalid front matter in "${file}" at line 2: expected "key: value" lines, got ${
        Array.isArray(data) ? "a list" : `the ${typeof data} ${JSON.stringify(data)}`
      }`,
    );
  }
  return { data: data as Record<string, unknown>, body };
}

function lineOf(error: YAMLError): string {
  // The YAML starts on the file's second line, after the opening "---".
  const line = error.linePos?.[0]?.line;
  return line === undefined ? "" : ` at line ${line + 1}`;
}

function firstLine(error: YAMLError): string {
  return error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}
