/**
 * Splits a compound command into the simple commands bash would run, so each can be checked against the allowlist.
 * Only what can be followed statically is accepted: lists, pipelines, subshells, `{ }` groups, `if`/`while`/`until`
 * and `for NAME in WORDS`, function definitions and redirections. Everything else is reported as unanalysable.
 *
 * @module
 */

import type { ShellToken, ShellWord } from "./_shell_syntax.ts";

/** Where analysis had to stop, and why. */
export interface UnanalysableScript {
  /** The text found. */
  text: string;
  /** Zero-based offset in the command string. */
  position: number;
  /** Why it cannot be checked. */
  reason: string;
}

/** The simple commands of a script, or why they cannot all be found. */
export type ScriptAnalysis = { commands: ShellWord[][] } | { unanalysable: UnanalysableScript };

/** Reserved words bash reads before a command; the command after them is what runs. */
const TRANSPARENT_KEYWORDS = new Set([
  "!",
  "{",
  "}",
  "if",
  "then",
  "elif",
  "else",
  "fi",
  "while",
  "until",
  "do",
  "done",
]);

/** Keywords whose grammar is not followed here. */
const UNSUPPORTED_KEYWORDS = new Set(["case", "esac", "select", "function", "coproc", "[[", "]]", "time"]);

/**
 * Builtins that evaluate code, or take variable names whose array subscripts bash evaluates arithmetically (which can
 * run command substitutions hidden in a value).
 */
const EVALUATING_BUILTINS = new Set(
  (
    "eval source . exec command builtin trap enable alias hash let declare typeset local export readonly " +
    "read mapfile readarray getopts unset wait shopt set"
  ).split(" "),
);

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[.*\])?\+?=/;

/**
 * Finds the simple commands of a compound command.
 *
 * @param tokens The lexer's tokens.
 * @returns Each simple command's words, program first, or where analysis stopped.
 */
export function splitScriptCommands(tokens: readonly ShellToken[]): ScriptAnalysis {
  const commands: ShellWord[][] = [];
  let current: ShellWord[] | undefined;
  let isRedirectionTarget = false;
  let forHeader: "name" | "after-name" | "words" | undefined;
  for (const token of tokens) {
    if (token.type === "redirection") {
      isRedirectionTarget = true;
      continue;
    }
    if (token.type === "operator") {
      const endsHeader = token.text === ";" || token.text === "\n";
      if (forHeader === "name" || (forHeader !== undefined && !endsHeader) || /^;;|^;&/.test(token.text)) {
        return unanalysable(token.text, token.position, "this shell grammar is not followed");
      }
      forHeader = undefined;
      current = undefined;
      continue;
    }
    if (isRedirectionTarget) {
      isRedirectionTarget = false;
      continue;
    }
    const isPlain = !token.isQuoted && token.expansions.length === 0;
    if (forHeader === "name") {
      if (!isPlain || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(token.value)) {
        return unanalysable(token.value, token.position, "a for loop needs a plain variable name");
      }
      // An upper-case loop variable could replace PATH, IFS or another setting bash and programs read.
      if (!/[a-z]/.test(token.value)) {
        return unanalysable(token.value, token.position, "loop variables must contain a lower-case letter");
      }
      forHeader = "after-name";
    } else if (forHeader === "after-name") {
      if (isPlain && token.value === "in") forHeader = "words";
      else if (isPlain && token.value === "do") forHeader = undefined;
      else return unanalysable(token.value, token.position, 'expected "in" or "do" in a for loop');
    } else if (forHeader === "words") {
      continue;
    } else if (current !== undefined) {
      current.push(token);
    } else if (isPlain && TRANSPARENT_KEYWORDS.has(token.value)) {
      continue;
    } else if (isPlain && token.value === "for") {
      forHeader = "name";
    } else if (isPlain && UNSUPPORTED_KEYWORDS.has(token.value)) {
      return unanalysable(token.value, token.position, "this shell grammar is not followed");
    } else if (ASSIGNMENT.test(token.value)) {
      return unanalysable(token.value, token.position, "environment assignments could change what a program does");
    } else {
      current = [token];
      commands.push(current);
    }
  }
  if (forHeader !== undefined) return unanalysable("for", tokens.at(-1)?.position ?? 0, "the for loop is incomplete");
  for (const command of commands) {
    const refusal = findEvaluatingBuiltin(command);
    if (refusal !== undefined) return { unanalysable: refusal };
  }
  return { commands };
}

/** Bash builtins that evaluate code or variable names with subscripts; test's and printf's `-v` do the latter too. */
function findEvaluatingBuiltin(command: readonly ShellWord[]): UnanalysableScript | undefined {
  const [program, ...args] = command;
  if (EVALUATING_BUILTINS.has(program.value)) {
    return {
      text: program.value,
      position: program.position,
      reason: "this builtin evaluates code or variable names, which cannot be checked",
    };
  }
  const takesName = ["printf", "test", "["].includes(program.value);
  const nameOption = takesName ? args.find((arg) => arg.value === "-v" || arg.value === "-R") : undefined;
  if (nameOption === undefined) return undefined;
  return {
    text: `${program.value} ${nameOption.value}`,
    position: nameOption.position,
    reason: "bash evaluates the subscript of the variable name given, which can run commands",
  };
}

function unanalysable(text: string, position: number, reason: string): ScriptAnalysis {
  return { unanalysable: { text, position, reason } };
}
