/**
 * Turns a code snippet into modules whose default export runs it and returns its value: the value of a top-level
 * `return`, or of the final expression. A light scanner (strings, comments, templates, regex literals, brackets) finds
 * the top-level statements; no parser is shipped for this.
 *
 * @module
 */

/** The module sources to try in order: the first that compiles is run. */
export interface SnippetModules {
  /** With the final expression returned, when the snippet ends in one; then without. */
  variants: string[];
}

interface Statement {
  start: number;
  end: number;
}

/** Keywords that begin a statement which is not an expression, so the snippet has no final value to return. */
const STATEMENT_KEYWORDS: ReadonlySet<string> = new Set([
  "abstract",
  "break",
  "class",
  "const",
  "continue",
  "debugger",
  "declare",
  "do",
  "enum",
  "export",
  "for",
  "function",
  "if",
  "import",
  "interface",
  "let",
  "module",
  "namespace",
  "return",
  "switch",
  "throw",
  "try",
  "type",
  "using",
  "var",
  "while",
  "with",
]);

/** Characters that, ending a line, mean the statement goes on. */
const CONTINUES_AFTER = new Set([..."+-*/%=&|^<>!?:,.([{~"]);
/** Characters that, starting a line, mean it continues the previous one (as JavaScript's ASI reads it). */
const CONTINUES_BEFORE = new Set([..."+-*/%=&|^<>?:,.([`"]);
/** After these, a `/` starts a regular expression rather than a division. */
const REGEX_AFTER = new Set([..."(,=:[!&|?{};+-*%<>~^"]);
const REGEX_AFTER_WORDS: ReadonlySet<string> = new Set([
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "await",
  "yield",
]);

/**
 * Builds the modules for a snippet. Top-level `import` declarations are kept at module level; everything else becomes
 * the body of an exported async function, so `await` and `return` work at the top level.
 *
 * @param code The snippet.
 * @returns The module sources to try in order.
 */
export function buildSnippetModules(code: string): SnippetModules {
  const statements = scanStatements(code);
  const imports = statements.filter((statement) => isImport(code.slice(statement.start, statement.end)));
  let body = code;
  // Blank out imports in place (keeping line breaks) so positions and line numbers stay as written.
  for (const statement of imports) {
    body = body.slice(0, statement.start) + body.slice(statement.start, statement.end).replace(/[^\n]/g, " ") +
      body.slice(statement.end);
  }
  // Everything added goes on the snippet's first line or after its last, so error line numbers match what was written.
  const header = imports.map((statement) => `${code.slice(statement.start, statement.end).replace(/\n/g, " ")}; `)
    .join("");
  const wrap = (inner: string): string => `${header}export default async function () {${inner}\n}\n`;
  const last = statements.filter((statement) => !imports.includes(statement)).at(-1);
  const variants: string[] = [];
  if (last && isExpression(code.slice(last.start, last.end))) {
    variants.push(
      wrap(`${body.slice(0, last.start)}return (${body.slice(last.start, last.end)}\n);${body.slice(last.end)}`),
    );
  }
  variants.push(wrap(body));
  return { variants };
}

function isImport(statement: string): boolean {
  return /^import\s*[\w{*"']/.test(statement) && !/^import\s*[.(]/.test(statement);
}

function isExpression(statement: string): boolean {
  const word = /^[A-Za-z_$][\w$]*/.exec(statement)?.[0];
  if (word === "async" && /^async\s+function\b/.test(statement)) return false;
  if (word && STATEMENT_KEYWORDS.has(word)) return false;
  // A leading "{" is a block at statement level, and a leading "}" cannot start an expression.
  return !statement.startsWith("{") && !statement.startsWith("}") && !statement.startsWith(";");
}

/** Splits `code` into its top-level statements, trimmed, with comments outside them. */
function scanStatements(code: string): Statement[] {
  const statements: Statement[] = [];
  let depth = 0;
  let start = -1;
  let end = -1;
  let previous = "";
  let previousWord = "";
  const templateDepths: number[] = [];
  const finish = (): void => {
    if (start !== -1) statements.push({ start, end });
    start = -1;
  };
  const mark = (from: number, to: number): void => {
    if (start === -1) start = from;
    end = to;
  };
  let index = 0;
  while (index < code.length) {
    const character = code[index];
    const next = code[index + 1];
    if (character === "/" && next === "/") {
      const lineEnd = code.indexOf("\n", index);
      index = lineEnd === -1 ? code.length : lineEnd;
      continue;
    }
    if (character === "/" && next === "*") {
      const close = code.indexOf("*/", index + 2);
      index = close === -1 ? code.length : close + 2;
      continue;
    }
    if (character === "\n") {
      if (depth === 0 && start !== -1 && !CONTINUES_AFTER.has(previous)) {
        const following = nextSignificant(code, index + 1);
        if (!CONTINUES_BEFORE.has(following) && !code.startsWith("?.", index + 1)) finish();
      }
      index += 1;
      continue;
    }
    if (/\s/.test(character)) {
      index += 1;
      continue;
    }
    const tokenStart = index;
    if (character === "'" || character === '"') {
      index = skipQuoted(code, index, character);
    } else if (character === "`" || (character === "}" && templateDepths.at(-1) === depth - 1)) {
      // A template's `${ }` counts as a bracket, so line breaks inside it never end a statement.
      if (character === "}") depth = templateDepths.pop()!;
      index = skipTemplate(code, index + 1);
      if (code.startsWith("${", index - 2)) {
        templateDepths.push(depth);
        depth += 1;
      }
    } else if (
      character === "/" && (previous === "" || REGEX_AFTER.has(previous) || REGEX_AFTER_WORDS.has(previousWord))
    ) {
      index = skipRegex(code, index);
    } else if (/[A-Za-z_$\d]/.test(character)) {
      const word = /^[\w$]+/.exec(code.slice(index, index + 100))![0];
      index += word.length;
      previousWord = word;
      mark(tokenStart, index);
      previous = code[index - 1];
      continue;
    } else {
      if ("([{".includes(character)) depth += 1;
      else if (")]}".includes(character)) depth = Math.max(0, depth - 1);
      index += 1;
    }
    previousWord = "";
    if (character === ";" && depth === 0) {
      finish();
      previous = ";";
      continue;
    }
    mark(tokenStart, index);
    previous = code[index - 1];
  }
  finish();
  return statements;
}

function nextSignificant(code: string, from: number): string {
  for (let index = from; index < code.length; index += 1) {
    const character = code[index];
    if (character === "/" && (code[index + 1] === "/" || code[index + 1] === "*")) return "";
    if (!/\s/.test(character)) return character;
  }
  return "";
}

function skipQuoted(code: string, open: number, quote: string): number {
  for (let index = open + 1; index < code.length; index += 1) {
    if (code[index] === "\\") index += 1;
    else if (code[index] === quote || code[index] === "\n") return index + 1;
  }
  return code.length;
}

/** Skips template text from `from` up to and including the closing backtick or the `${` that opens an expression. */
function skipTemplate(code: string, from: number): number {
  for (let index = from; index < code.length; index += 1) {
    if (code[index] === "\\") index += 1;
    else if (code[index] === "`") return index + 1;
    else if (code[index] === "$" && code[index + 1] === "{") return index + 2;
  }
  return code.length;
}

function skipRegex(code: string, open: number): number {
  let inClass = false;
  for (let index = open + 1; index < code.length; index += 1) {
    const character = code[index];
    if (character === "\\") index += 1;
    else if (character === "[") inClass = true;
    else if (character === "]") inClass = false;
    else if (character === "/" && !inClass) {
      let end = index + 1;
      while (end < code.length && /[a-z]/i.test(code[end])) end += 1;
      return end;
    } else if (character === "\n") return index;
  }
  return code.length;
}
