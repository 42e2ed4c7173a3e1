/**
 * The tokens and syntax kinds the shell lexer produces, and their names for messages.
 *
 * @module
 */

/** What a piece of shell syntax is; the descriptions are in {@linkcode SHELL_SYNTAX_NAMES}. */
export type ShellSyntaxKind =
  | "operator"
  | "redirection"
  | "here-document"
  | "newline"
  | "carriage-return"
  | "comment"
  | "grouping"
  | "variable"
  | "parameter"
  | "parameter-operator"
  | "command-substitution"
  | "backtick"
  | "arithmetic"
  | "process-substitution"
  | "ansi-c-quote"
  | "locale-quote"
  | "glob"
  | "brace-expansion"
  | "tilde"
  | "assignment";

/** Human names of each kind, used in messages. */
export const SHELL_SYNTAX_NAMES: Readonly<Record<ShellSyntaxKind, string>> = {
  "operator": "command list or pipeline",
  "redirection": "redirection",
  "here-document": "here-document",
  "newline": "newline (a second command)",
  "carriage-return": "carriage return",
  "comment": "comment",
  "grouping": "subshell or group",
  "variable": "variable expansion, which only a shell performs",
  "parameter": "parameter expansion",
  "parameter-operator": "parameter expansion with an operator",
  "command-substitution": "command substitution",
  "backtick": "backtick command substitution",
  "arithmetic": "arithmetic evaluation",
  "process-substitution": "process substitution",
  "ansi-c-quote": "ANSI-C quoting",
  "locale-quote": "locale quoting",
  "glob": "glob pattern, which only a shell expands",
  "brace-expansion": "brace expansion",
  "tilde": "tilde expansion",
  "assignment": "environment assignment",
};

/** One piece of shell syntax found in a command string. */
export interface ShellSyntax {
  /** What it is. */
  kind: ShellSyntaxKind;
  /** The text found, such as `&&` or `$(`. */
  text: string;
  /** Zero-based offset in the command string. */
  position: number;
  /** Whether a script using it can still be checked against the allowlist (`$(` and backticks cannot). */
  isAnalysable: boolean;
}

/** A word: the text one argument would get, with what in it only a shell would expand. */
export interface ShellWord {
  type: "word";
  /** The word with quotes removed and escapes applied; expansions are left as written. */
  value: string;
  /** Zero-based offset of the word's first character. */
  position: number;
  /** Whether any part was quoted or escaped (a quoted `if` is not a keyword). */
  isQuoted: boolean;
  /** Expansions, globs and similar in the word; empty when `value` is exactly what a program would receive. */
  expansions: ShellSyntax[];
}

/** A control operator: `;`, `&&`, `||`, `|`, `&`, `(`, `)`, newline and the like. */
export interface ShellOperator {
  type: "operator";
  /** The operator. */
  text: string;
  /** Zero-based offset. */
  position: number;
}

/** A redirection operator such as `>`, `<<` or `2>&`; the next word is its target. */
export interface ShellRedirection {
  type: "redirection";
  /** The operator, with its file descriptor prefix (`2>`). */
  text: string;
  /** Zero-based offset. */
  position: number;
}

/** One token of a command string. */
export type ShellToken = ShellWord | ShellOperator | ShellRedirection;

/** The lexer's result. */
export interface ShellLexResult {
  /** Words and operators in order. */
  tokens: ShellToken[];
  /** Every piece of shell syntax found, words' expansions included, in order of position. */
  syntax: ShellSyntax[];
}
