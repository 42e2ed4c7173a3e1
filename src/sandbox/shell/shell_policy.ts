/**
 * Decides whether a command string may run under a {@linkcode SandboxPolicy}, and how: as argv, or as a script for
 * bash inside the sandbox.
 *
 * @module
 */

import { PolicyDeniedError } from "../../errors.ts";
import type { SandboxPolicy } from "../sandbox.ts";
import { lexShell } from "./_shell_lexer.ts";
import type { ShellWord } from "./_shell_syntax.ts";
import { splitScriptCommands } from "./_shell_script_commands.ts";
import { findRunnerForm, inspectsArguments, programName } from "../commands/_command_runners.ts";
import { gitSubcommandIndex } from "./_git_commands.ts";
import { describeShellSyntax, tokenizeShell } from "./shell_tokenizer.ts";

/** How a permitted command runs: a program with arguments, or a script for `bash -c` inside the sandbox. */
export type CommandPlan =
  | {
    /** Run the program directly, without a shell. */
    kind: "argv";
    /** The program and its arguments. */
    argv: string[];
  }
  | {
    /** Run through `bash -c` (only with `allowCompoundCommands`). */
    kind: "script";
    /** The command string, unchanged. */
    script: string;
  };

/** The longest command accepted, in UTF-8 bytes; Linux refuses single arguments longer than this anyway. */
export const MAX_COMMAND_BYTES: number = 128 * 1024;

const MAX_LISTED_ENTRIES = 8;

/**
 * Checks a command string against a policy and plans how to run it.
 *
 * Simple commands become argv. Compound ones (`;`, `&&`, `|`, redirections, expansions ...) are refused unless
 * `allowCompoundCommands`; then every simple command in them must pass the same checks, and constructs that cannot
 * be checked (`$(`, backticks, `eval`, `source`, `.`) are refused. `allowedCommands` entries match the program, or the
 * program and the first words after it (`"git status"` allows `git status --short`; for git, the subcommand after
 * global options). Programs given as paths need the exact path listed. Programs that run other programs (`env`,
 * `xargs`, `find -exec`, `git -c`, `sort --compress-program` ...) need that exact form listed. Interpreters (`sh`,
 * `python3`, `node`, `vim`, `make`, an awk program calling `system()` ...) also need `allowInterpreters`. git
 * subcommands must be built in, because aliases and external `git-*` commands could run anything.
 *
 * @example Planning commands
 * ```ts
 * import { planCommand } from "./shell_policy.ts";
 * import assert from "node:assert/strict";
 *
 * const policy = {
 *   allowWrite: false,
 *   allowShell: true,
 *   allowedCommands: ["git status", "ls"],
 *   allowCompoundCommands: false,
 *   allowNet: false,
 * };
 * assert.deepEqual(planCommand("git status --short", policy), { kind: "argv", argv: ["git", "status", "--short"] });
 * assert.throws(() => planCommand("git push", policy), { name: "PolicyDeniedError" });
 * assert.throws(() => planCommand("ls && git status", policy), { option: "allowCompoundCommands" });
 * ```
 *
 * @param command The command string.
 * @param policy The policy in force.
 * @returns How to run it.
 * @throws {PolicyDeniedError} When the policy does not allow it; `option` names the setting that would allow it
 *   (`allowShell`, `allowedCommands`, `allowCompoundCommands` or `allowInterpreters`).
 * @throws {SyntaxError} On unterminated quotes and NUL bytes.
 * @throws {RangeError} When the command is longer than {@linkcode MAX_COMMAND_BYTES}.
 * @throws {TypeError} On an empty command or a malformed `allowedCommands` entry.
 */
export function planCommand(command: string, policy: Readonly<SandboxPolicy>): CommandPlan {
  if (typeof command !== "string") throw new TypeError(`Command must be a string, got ${typeof command}`);
  if (!policy.allowShell) {
    throw new PolicyDeniedError(
      `command "${preview(command)}"`,
      "allowShell",
      `Running commands is not allowed: set "allowShell" to allow "${preview(command)}"`,
    );
  }
  const bytes = new TextEncoder().encode(command).length;
  if (bytes > MAX_COMMAND_BYTES) {
    throw new RangeError(
      `Command is ${bytes} bytes long, over the limit of ${MAX_COMMAND_BYTES}: write long input to a file instead`,
    );
  }
  const tokenized = tokenizeShell(command);
  if (!tokenized.compound) {
    if (tokenized.argv.length === 0) throw new TypeError("Command is empty: give a program to run");
    checkCommand(tokenized.argv.map((value) => ({ value, isDynamic: false, position: 0 })), policy);
    return { kind: "argv", argv: tokenized.argv };
  }
  if (!policy.allowCompoundCommands) {
    throw new PolicyDeniedError(
      `compound command "${preview(command)}"`,
      "allowCompoundCommands",
      `Command "${preview(command)}" uses shell syntax: ${listed(tokenized.reasons)}. ` +
        `Set "allowCompoundCommands" to run it through a shell, or run one program with plain (quoted) arguments`,
    );
  }
  const { tokens, syntax } = lexShell(command);
  const opaque = syntax.find((found) => !found.isAnalysable);
  if (opaque !== undefined) {
    throw unanalysableError(command, describeShellSyntax(opaque), "the shell decides what it runs");
  }
  const analysis = splitScriptCommands(tokens);
  if ("unanalysable" in analysis) {
    const { text, position, reason } = analysis.unanalysable;
    throw unanalysableError(command, `"${text}" at position ${position}`, reason);
  }
  for (const words of analysis.commands) checkCommand(words.map(toArgument), policy);
  return { kind: "script", script: command };
}

/** One argument with whether its value is known only at run time (expansions, globs). */
interface Argument {
  value: string;
  isDynamic: boolean;
  position: number;
}

function toArgument(word: ShellWord): Argument {
  return { value: word.value, isDynamic: word.expansions.length > 0, position: word.position };
}

/** An allowlist entry split into words. */
interface AllowEntry {
  text: string;
  words: string[];
}

function checkCommand(args: readonly Argument[], policy: Readonly<SandboxPolicy>): void {
  const argv = args.map((arg) => arg.value);
  const program = args[0];
  const shown = preview(argv.join(" "));
  if (program.isDynamic) {
    throw new PolicyDeniedError(
      `command "${shown}"`,
      "allowedCommands",
      `Program "${program.value}" at position ${program.position} is known only when the shell runs, so it cannot be ` +
        `checked against "allowedCommands": name the program literally`,
    );
  }
  checkProgramName(program.value);
  const entries = parseEntries(policy.allowedCommands);
  if (entries.length === 0) {
    throw new PolicyDeniedError(
      `command "${program.value}"`,
      "allowedCommands",
      `Program "${program.value}" is not allowed: "allowedCommands" is empty, so no program may run; ` +
        `add "${program.value}" to allow it`,
    );
  }
  if (program.value.includes("/") && !entries.some((entry) => entry.words[0] === program.value)) {
    throw new PolicyDeniedError(
      `command "${program.value}"`,
      "allowedCommands",
      `Program "${program.value}" is given as a path; only programs found on PATH may run unless ` +
        `"allowedCommands" lists the exact path`,
    );
  }
  const matched = entries.find((entry) => matchesEntry(entry, argv, args));
  if (matched === undefined) {
    const listed = entries.slice(0, MAX_LISTED_ENTRIES).map((entry) => `"${entry.text}"`).join(", ");
    const more = entries.length > MAX_LISTED_ENTRIES ? ` and ${entries.length - MAX_LISTED_ENTRIES} more` : "";
    throw new PolicyDeniedError(
      `command "${shown}"`,
      "allowedCommands",
      `Command "${shown}" is not allowed: "allowedCommands" lists ${listed}${more}; add "${
        suggestEntry(argv)
      }" to allow it`,
    );
  }
  const needsStatic = inspectsArguments(program.value);
  const dynamic = args.find((arg, index) => index > 0 && arg.isDynamic);
  if (needsStatic && dynamic !== undefined) {
    throw new PolicyDeniedError(
      `command "${shown}"`,
      "allowedCommands",
      `Argument "${dynamic.value}" of "${program.value}" at position ${dynamic.position} is known only when the ` +
        `shell runs, and "${programName(program.value)}" arguments must be checked: write it literally`,
    );
  }
  const runner = findRunnerForm(argv);
  if (runner?.kind === "interpreter" && policy.allowInterpreters !== true) {
    throw new PolicyDeniedError(
      `"${runner.form}"`,
      "allowInterpreters",
      `"${runner.form}" ${runner.reason}, which can run any program in the sandbox, so it is refused even when ` +
        `"${programName(program.value)}" is in "allowedCommands"; set "allowInterpreters" to allow interpreters`,
    );
  }
  if (runner?.kind === "runner" && !entries.some((entry) => entry.text === runner.form)) {
    throw new PolicyDeniedError(
      `"${runner.form}"`,
      "allowedCommands",
      `"${runner.form}" ${runner.reason}, so it is refused even when "${programName(program.value)}" is allowed; ` +
        `list "${runner.form}" in "allowedCommands" to allow exactly that`,
    );
  }
}

/** Program names must be plain ASCII so that lookalike letters (Cyrillic "і" in "gіt") cannot pass for allowed ones. */
function checkProgramName(program: string): void {
  if (/[^\x21-\x7e]/.test(program)) {
    const isNonAscii = [...program].some((character) => character.codePointAt(0)! > 0x7f);
    throw new PolicyDeniedError(
      `command "${program}"`,
      "allowedCommands",
      isNonAscii
        ? `Program name "${program}" contains non-ASCII characters, which can imitate an allowed program: ` +
          `program names must be plain ASCII`
        : `Program name ${JSON.stringify(program)} contains spaces or control characters: name a real program`,
    );
  }
}

function parseEntries(allowedCommands: readonly string[]): AllowEntry[] {
  return allowedCommands.map((entry) => {
    let words: string[];
    try {
      const tokenized = tokenizeShell(entry);
      words = tokenized.compound ? [] : tokenized.argv;
    } catch {
      words = [];
    }
    if (words.length === 0 || entry.trim() !== entry) {
      throw new TypeError(
        `"allowedCommands" entry "${entry}" is not a program and optional subcommand: use entries like "git status"`,
      );
    }
    return { text: words.join(" "), words };
  });
}

/**
 * An entry matches when its program is the command's program and its further words begin the command's arguments
 * (for git, the arguments from the subcommand on, skipping global options such as `-C dir`). An entry that names a
 * runner form (`"find -exec"`) also allows its program.
 */
function matchesEntry(entry: AllowEntry, argv: readonly string[], args: readonly Argument[]): boolean {
  if (entry.words[0] !== argv[0]) return false;
  if (entry.words.length === 1) return true;
  if (findRunnerForm(argv)?.form === entry.text) return true;
  const start = programName(argv[0]) === "git" ? gitSubcommandIndex(argv) : 1;
  if (start === undefined) return false;
  return entry.words.slice(1).every((word, index) => {
    const arg = args[start + index];
    return arg !== undefined && !arg.isDynamic && arg.value === word;
  });
}

function suggestEntry(argv: readonly string[]): string {
  if (programName(argv[0]) === "git") {
    const index = gitSubcommandIndex(argv);
    return index === undefined ? "git" : `git ${argv[index]}`;
  }
  return argv[0];
}

function unanalysableError(command: string, what: string, reason: string): PolicyDeniedError {
  return new PolicyDeniedError(
    `compound command "${preview(command)}"`,
    "allowedCommands",
    `Command "${preview(command)}" uses ${what}, which cannot be checked against "allowedCommands" (${reason}): ` +
      `run its parts as separate commands instead`,
  );
}

function listed(reasons: readonly string[]): string {
  const shown = reasons.slice(0, MAX_LISTED_ENTRIES).join(", ");
  return reasons.length > MAX_LISTED_ENTRIES ? `${shown} and ${reasons.length - MAX_LISTED_ENTRIES} more` : shown;
}

function preview(command: string): string {
  const flat = command.replaceAll("\n", "\\n").replaceAll("\r", "\\r");
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}
