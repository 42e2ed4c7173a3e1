/**
 * A lexer for bash command strings: a small state machine that turns a string into words, operators and
 * redirections, and records every piece of shell syntax found. `tokenizeShell()` and the compound-command check in
 * `planCommand()` both build on it, so both see the string the way bash would.
 *
 * @module
 */

import type { ShellLexResult, ShellSyntax, ShellSyntaxKind, ShellToken } from "./_shell_syntax.ts";

const CONTROL_OPERATORS = [";;&", ";;", ";&", "&&", "||", "|&", ";", "&", "|", "(", ")"];
const REDIRECTIONS = ["<<<", "<<-", "&>>", "<<", "<>", "<&", ">>", ">|", ">&", "&>", "<", ">"];
const SPECIAL_PARAMETERS = "@*#?$!-0123456789";
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

interface WordBuilder {
  value: string;
  /** The word with quoted and escaped characters masked as `_`, for glob, brace and tilde detection. */
  shape: string;
  /** The input offset of each character of `value`, for reporting positions. */
  offsets: number[];
  position: number;
  isQuoted: boolean;
  expansions: ShellSyntax[];
}

interface PendingHereDocument {
  delimiter: string;
  isQuoted: boolean;
  stripsTabs: boolean;
}

/**
 * Splits a bash command string into tokens the way bash would, without running or expanding anything.
 *
 * @param input The command string.
 * @returns The tokens and the shell syntax found.
 * @throws {SyntaxError} On unterminated quotes, substitutions or parameter expansions, and on NUL bytes.
 */
export function lexShell(input: string): ShellLexResult {
  const nul = input.indexOf("\0");
  if (nul !== -1) {
    throw new SyntaxError(`Command contains a NUL byte at position ${nul}: programs cannot receive NUL bytes`);
  }
  const lexer = new Lexer(input);
  lexer.run(0, false);
  lexer.syntax.sort((a, b) => a.position - b.position);
  return { tokens: lexer.tokens, syntax: lexer.syntax };
}

class Lexer {
  readonly tokens: ShellToken[] = [];
  readonly syntax: ShellSyntax[] = [];
  #word: WordBuilder | undefined;
  #pendingHereDocuments: PendingHereDocument[] = [];
  #expectHereDelimiter: { stripsTabs: boolean } | undefined;

  constructor(readonly input: string) {}

  /** Lexes from `start`; when `untilParen`, stops after the `)` that closes a substitution and returns its index. */
  run(start: number, untilParen: boolean): number {
    const input = this.input;
    let depth = 0;
    let pos = start;
    while (pos < input.length) {
      const char = input[pos];
      if (char === " " || char === "\t") {
        this.#endWord();
        pos++;
      } else if (char === "\n") {
        this.#endWord();
        this.#note("newline", "\\n", pos, true);
        this.tokens.push({ type: "operator", text: "\n", position: pos });
        pos = this.#readHereDocuments(pos + 1);
      } else if (char === "\\") {
        pos = this.#escape(pos);
      } else if (char === "'") {
        pos = this.#singleQuoted(pos);
      } else if (char === '"') {
        pos = this.#doubleQuoted(pos);
      } else if (char === "$") {
        pos = this.#dollar(pos, false);
      } else if (char === "`") {
        pos = this.#backtick(pos);
      } else if (char === "#" && this.#word === undefined) {
        this.#note("comment", "#", pos, true);
        while (pos < input.length && input[pos] !== "\n") pos++;
      } else if ((char === "<" || char === ">") && input[pos + 1] === "(") {
        const word = this.#wordAt(pos);
        this.#note("process-substitution", `${char}(`, pos, false, word);
        const end = this.#skipNested(pos + 2);
        this.#append(input.slice(pos, end), "_".repeat(end - pos), pos);
        pos = end;
      } else if (";&|()<>".includes(char)) {
        if (untilParen && char === ")" && depth === 0) {
          this.#endWord();
          return pos + 1;
        }
        if (char === "(" && input[pos + 1] !== "(") depth++;
        if (char === ")") depth--;
        pos = this.#operator(pos);
      } else {
        if (char === "\r") this.#note("carriage-return", "\\r", pos, true, this.#wordAt(pos));
        this.#append(char, char, pos);
        pos++;
      }
    }
    if (untilParen) throw new SyntaxError(`Unterminated substitution: a "(" at position ${start - 1} is never closed`);
    this.#endWord();
    this.#readHereDocuments(input.length);
    return pos;
  }

  #note(kind: ShellSyntaxKind, text: string, position: number, isAnalysable: boolean, word?: WordBuilder): void {
    const found: ShellSyntax = { kind, text, position, isAnalysable };
    this.syntax.push(found);
    word?.expansions.push(found);
  }

  #wordAt(position: number): WordBuilder {
    this.#word ??= { value: "", shape: "", offsets: [], position, isQuoted: false, expansions: [] };
    return this.#word;
  }

  /** Appends to the current word; `source` is the input offset of the first appended character. */
  #append(value: string, shape: string, source: number): void {
    const word = this.#wordAt(source);
    word.value += value;
    word.shape += shape;
    for (let index = 0; index < value.length; index++) word.offsets.push(source + index);
  }

  #escape(pos: number): number {
    const next = this.input[pos + 1];
    if (next === "\n") return pos + 2;
    if (next === undefined) {
      this.#append("\\", "\\", pos);
      return pos + 1;
    }
    this.#wordAt(pos).isQuoted = true;
    this.#append(next, "_", pos + 1);
    return pos + 2;
  }

  #singleQuoted(pos: number): number {
    const end = this.input.indexOf("'", pos + 1);
    if (end === -1) throw new SyntaxError(`Unterminated single quote at position ${pos}: add the closing '`);
    const word = this.#wordAt(pos);
    word.isQuoted = true;
    const text = this.input.slice(pos + 1, end);
    this.#append(text, "_".repeat(text.length), pos + 1);
    return end + 1;
  }

  #doubleQuoted(pos: number): number {
    const input = this.input;
    const word = this.#wordAt(pos);
    word.isQuoted = true;
    let index = pos + 1;
    while (index < input.length) {
      const char = input[index];
      if (char === '"') return index + 1;
      if (char === "\\" && index + 1 < input.length) {
        const next = input[index + 1];
        if (next === "\n") index += 2;
        else if ('$`"\\'.includes(next)) {
          this.#append(next, "_", index + 1);
          index += 2;
        } else {
          this.#append("\\", "_", index);
          index++;
        }
      } else if (char === "$") {
        index = this.#dollar(index, true);
      } else if (char === "`") {
        index = this.#backtick(index);
      } else {
        this.#append(char, "_", index);
        index++;
      }
    }
    throw new SyntaxError(`Unterminated double quote at position ${pos}: add the closing "`);
  }

  /** Handles `$`: variables, `${...}`, `$(...)`, `$((...))`, `$'...'`, `$"..."`, or a literal `$`. */
  #dollar(pos: number, inDoubleQuotes: boolean): number {
    const input = this.input;
    const next = input[pos + 1];
    const word = this.#wordAt(pos);
    if (next === "(") {
      const isArithmetic = input[pos + 2] === "(";
      this.#note(
        isArithmetic ? "arithmetic" : "command-substitution",
        isArithmetic ? "$((" : "$(",
        pos,
        false,
        word,
      );
      const end = this.#skipNested(pos + 2);
      this.#append(input.slice(pos, end), "_".repeat(end - pos), pos);
      return end;
    }
    if (next === "{") {
      const end = this.#parameter(pos, word);
      this.#append(input.slice(pos, end), "_".repeat(end - pos), pos);
      return end;
    }
    if (!inDoubleQuotes && next === "'") {
      this.#note("ansi-c-quote", "$'", pos, true, word);
      let index = pos + 2;
      while (index < input.length && input[index] !== "'") index += input[index] === "\\" ? 2 : 1;
      if (index >= input.length) throw new SyntaxError(`Unterminated $'...' quote at position ${pos}`);
      this.#append(input.slice(pos, index + 1), "_".repeat(index + 1 - pos), pos);
      return index + 1;
    }
    if (!inDoubleQuotes && next === '"') {
      this.#note("locale-quote", '$"', pos, true, word);
      return this.#doubleQuoted(pos + 1);
    }
    if (next !== undefined && (NAME_START.test(next) || SPECIAL_PARAMETERS.includes(next))) {
      let end = pos + 2;
      if (NAME_START.test(next)) { while (end < input.length && NAME_CHAR.test(input[end])) end++; }
      this.#note("variable", input.slice(pos, end), pos, true, word);
      this.#append(input.slice(pos, end), "_".repeat(end - pos), pos);
      return end;
    }
    this.#append("$", "_", pos);
    return pos + 1;
  }

  /** Scans `${...}` to its closing brace, noting substitutions inside; only `${NAME}` and `${1}` count as simple. */
  #parameter(pos: number, word: WordBuilder): number {
    const input = this.input;
    let index = pos + 2;
    let depth = 1;
    while (index < input.length) {
      const char = input[index];
      if (char === "\\") index += 2;
      else if (char === "'" || char === '"') {
        let end = index + 1;
        while (end < input.length && input[end] !== char) end += char === '"' && input[end] === "\\" ? 2 : 1;
        if (end >= input.length) break;
        index = end + 1;
      } else if (char === "$" && input[index + 1] === "(") {
        this.#note("command-substitution", "$(", index, false, word);
        index = this.#skipNested(index + 2);
      } else if (char === "`") {
        this.#note("backtick", "`", index, false, word);
        index = this.#skipBacktick(index);
      } else if (char === "$" && input[index + 1] === "{") {
        depth++;
        index += 2;
      } else if (char === "}") {
        depth--;
        index++;
        if (depth === 0) {
          const inner = input.slice(pos + 2, index - 1);
          const isSimple = /^([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])$/.test(inner);
          this.#note(isSimple ? "parameter" : "parameter-operator", "${", pos, isSimple, word);
          return index;
        }
      } else index++;
    }
    throw new SyntaxError(`Unterminated parameter expansion at position ${pos}: add the closing }`);
  }

  #backtick(pos: number): number {
    const word = this.#wordAt(pos);
    this.#note("backtick", "`", pos, false, word);
    const end = this.#skipBacktick(pos);
    this.#append(this.input.slice(pos, end), "_".repeat(end - pos), pos);
    return end;
  }

  #skipBacktick(pos: number): number {
    let index = pos + 1;
    while (index < this.input.length && this.input[index] !== "`") index += this.input[index] === "\\" ? 2 : 1;
    if (index >= this.input.length) {
      throw new SyntaxError(`Unterminated backtick at position ${pos}: add the closing \``);
    }
    return index + 1;
  }

  /** Lexes a nested command up to its closing `)`, keeping only the substitutions in it. */
  #skipNested(start: number): number {
    const nested = new Lexer(this.input);
    const end = nested.run(start, true);
    for (const found of nested.syntax) if (!found.isAnalysable) this.syntax.push(found);
    return end;
  }

  #operator(pos: number): number {
    const input = this.input;
    const rest = input.slice(pos, pos + 3);
    const redirection = REDIRECTIONS.find((candidate) => rest.startsWith(candidate));
    if (redirection !== undefined) {
      const word = this.#word;
      const hasDescriptor = word !== undefined && !word.isQuoted && /^[0-9]+$/.test(word.shape);
      const start = hasDescriptor ? word.position : pos;
      const text = hasDescriptor ? word.value + redirection : redirection;
      if (hasDescriptor) this.#word = undefined;
      else this.#endWord();
      const isHereDocument = redirection === "<<" || redirection === "<<-";
      this.#note(isHereDocument ? "here-document" : "redirection", text, start, true);
      this.tokens.push({ type: "redirection", text, position: start });
      if (isHereDocument) this.#expectHereDelimiter = { stripsTabs: redirection === "<<-" };
      return pos + redirection.length;
    }
    this.#endWord();
    if (input.startsWith("((", pos)) {
      this.#note("arithmetic", "((", pos, false);
      this.tokens.push({ type: "operator", text: "((", position: pos });
      return this.#skipNested(pos + 1);
    }
    const operator = CONTROL_OPERATORS.find((candidate) => rest.startsWith(candidate)) ?? input[pos];
    this.#note(operator === "(" || operator === ")" ? "grouping" : "operator", operator, pos, true);
    this.tokens.push({ type: "operator", text: operator, position: pos });
    return pos + operator.length;
  }

  #endWord(): void {
    const word = this.#word;
    if (word === undefined) return;
    this.#word = undefined;
    this.#noteShape(word);
    this.tokens.push({
      type: "word",
      value: word.value,
      position: word.position,
      isQuoted: word.isQuoted,
      expansions: word.expansions,
    });
    if (this.#expectHereDelimiter !== undefined) {
      this.#pendingHereDocuments.push({
        delimiter: word.value,
        isQuoted: word.isQuoted,
        stripsTabs: this.#expectHereDelimiter.stripsTabs,
      });
      this.#expectHereDelimiter = undefined;
    }
  }

  /** Finds globs, brace expansion and tilde expansion from the unquoted shape of a word. */
  #noteShape(word: WordBuilder): void {
    const shape = word.shape;
    const glob = /[*?]|\[[^\]]*\]/.exec(shape);
    if (glob !== null) this.#note("glob", glob[0], word.offsets[glob.index], true, word);
    const brace = /\{[^{}]*(,|\.\.)[^{}]*\}/.exec(shape);
    if (brace !== null) this.#note("brace-expansion", brace[0], word.offsets[brace.index], true, word);
    if (shape.startsWith("~")) this.#note("tilde", "~", word.position, true, word);
  }

  /** Reads the bodies of here-documents that start after a newline; returns where commands resume. */
  #readHereDocuments(pos: number): number {
    const input = this.input;
    let index = pos;
    for (const pending of this.#pendingHereDocuments) {
      while (index < input.length) {
        const lineEnd = input.indexOf("\n", index) === -1 ? input.length : input.indexOf("\n", index);
        const line = input.slice(index, lineEnd);
        const compared = pending.stripsTabs ? line.replace(/^\t+/, "") : line;
        if (compared === pending.delimiter) {
          index = lineEnd + 1;
          break;
        }
        if (!pending.isQuoted) this.#noteHereDocumentExpansions(line, index);
        index = lineEnd + 1;
      }
    }
    this.#pendingHereDocuments = [];
    return Math.min(index, input.length);
  }

  /** An unquoted here-document's body is expanded by bash, so substitutions in it run. */
  #noteHereDocumentExpansions(line: string, offset: number): void {
    for (let index = 0; index < line.length; index++) {
      const char = line[index];
      if (char === "\\") index++;
      else if (char === "`") this.#note("backtick", "`", offset + index, false);
      else if (char === "$" && line[index + 1] === "(") {
        this.#note(line[index + 2] === "(" ? "arithmetic" : "command-substitution", "$(", offset + index, false);
      } else if (char === "$" && line[index + 1] === "{") {
        const close = line.indexOf("}", index);
        const inner = close === -1 ? "" : line.slice(index + 2, close);
        const isSimple = /^([A-Za-z_][A-Za-z0-9_]*|[0-9]+)$/.test(inner);
        this.#note(isSimple ? "parameter" : "parameter-operator", "${", offset + index, isSimple);
      }
    }
  }
}
