/**
 * Splits a command string into the argv a program would receive, or reports the shell syntax that would need a shell.
 *
 * @module
 */

import { lexShell } from "./_shell_lexer.ts";
import { SHELL_SYNTAX_NAMES, type ShellSyntax, type ShellWord } from "./_shell_syntax.ts";

export type { ShellSyntax, ShellSyntaxKind } from "./_shell_syntax.ts";

/**
 * What {@linkcode tokenizeShell} found: a simple command as argv, or a compound one with every construct that makes it
 * compound.
 */
export type ShellTokenization =
  | {
    /** A simple command: the words need no shell. */
    compound: false;
    /** The program and its arguments, quotes removed and escapes applied. */
    argv: string[];
  }
  | {
    /** The command needs a shell. */
    compound: true;
    /** One sentence per construct, such as `"&&" (command list or pipeline) at position 9`. */
    reasons: string[];
    /** The constructs found, in order of position. */
    syntax: ShellSyntax[];
  };

const RESERVED_GROUPING = new Set(["{", "}", "!"]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*\+?=/;

/**
 * Tokenizes a command string the way bash would, without expanding or running anything.
 *
 * Single quotes, double quotes (with backslash escapes for `$`, `` ` ``, `"`, `\` and newline), backslash escapes and
 * adjacent quoted parts forming one word are handled. Everything argv execution would not do is reported as compound:
 * `;`, `&&`, `||`, `|`, `&`, redirections, here-documents, `$(...)`, backticks, newlines, carriage returns, comments,
 * `$VAR` and `${...}` expansions, `$'...'` quoting, process substitution, subshells and `{ }` groups, an environment
 * assignment before the program, and unquoted globs (`*`, `?`, `[...]`), brace expansion and `~`. Globs are refused
 * rather than passed literally because a caller writing `ls *.ts` expects them expanded; quote them to pass them
 * literally.
 *
 * @example Tokenizing
 * ```ts
 * import { tokenizeShell } from "./shell_tokenizer.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(tokenizeShell(`git commit -m "fix: it's done"`), {
 *   compound: false,
 *   argv: ["git", "commit", "-m", "fix: it's done"],
 * });
 * const result = tokenizeShell("git status && rm -rf .");
 * assert.equal(result.compound, true);
 * ```
 *
 * @param command The command string.
 * @returns The argv of a simple command, or the reasons it is compound.
 * @throws {SyntaxError} On an unterminated quote, substitution or parameter expansion, and on a NUL byte.
 */
export function tokenizeShell(command: string): ShellTokenization {
  const { tokens, syntax } = lexShell(command);
  const found = [...syntax];
  const first = tokens[0];
  if (first?.type === "word" && !first.isQuoted) {
    if (RESERVED_GROUPING.has(first.value)) {
      found.push({ kind: "grouping", text: first.value, position: first.position, isAnalysable: true });
    }
    if (ASSIGNMENT.test(first.value)) {
      found.push({
        kind: "assignment",
        text: first.value.split("=")[0] + "=",
        position: first.position,
        isAnalysable: true,
      });
    }
  }
  if (found.length === 0) return { compound: false, argv: tokens.map((token) => (token as ShellWord).value) };
  found.sort((a, b) => a.position - b.position);
  return { compound: true, reasons: found.map(describeShellSyntax), syntax: found };
}

/**
 * Describes one construct for a message.
 *
 * @param syntax The construct.
 * @returns A phrase such as `"&&" (command list or pipeline) at position 9`.
 */
export function describeShellSyntax(syntax: ShellSyntax): string {
  return `"${syntax.text}" (${SHELL_SYNTAX_NAMES[syntax.kind]}) at position ${syntax.position}`;
}
