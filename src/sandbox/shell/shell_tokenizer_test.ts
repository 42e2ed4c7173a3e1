import assert from "node:assert/strict";
import { tokenizeShell } from "./shell_tokenizer.ts";

function argvOf(command: string): string[] {
  const result = tokenizeShell(command);
  assert.equal(result.compound, false, `expected a simple command: ${JSON.stringify(command)}`);
  return result.compound ? [] : result.argv;
}

function compoundOf(command: string): { kinds: string[]; texts: string[]; reasons: string[] } {
  const result = tokenizeShell(command);
  assert.equal(result.compound, true, `expected a compound command: ${JSON.stringify(command)}`);
  if (!result.compound) return { kinds: [], texts: [], reasons: [] };
  return {
    kinds: result.syntax.map((found) => found.kind),
    texts: result.syntax.map((found) => found.text),
    reasons: result.reasons,
  };
}

Deno.test("tokenizeShell() splits plain words on spaces and tabs", () => {
  assert.deepEqual(argvOf("git  status\t--short"), ["git", "status", "--short"]);
  assert.deepEqual(argvOf(""), []);
});

Deno.test("tokenizeShell() keeps single-quoted text literally, backslashes and dollars included", () => {
  assert.deepEqual(argvOf(`echo 'a $HOME \\n "b"'`), ["echo", 'a $HOME \\n "b"']);
});

Deno.test("tokenizeShell() applies only bash's escapes inside double quotes", () => {
  assert.deepEqual(argvOf(`echo "a\\$b \\"c\\" \\\\ \\e \\\`"`), ["echo", 'a$b "c" \\ \\e `']);
});

Deno.test("tokenizeShell() joins adjacent quoted and unquoted parts into one word", () => {
  assert.deepEqual(argvOf(`echo 'a b'"c d"e\\ f`), ["echo", "a bc de f"]);
  assert.deepEqual(argvOf(`git commit -m "fix: it's done"`), ["git", "commit", "-m", "fix: it's done"]);
});

Deno.test("tokenizeShell() treats backslash escapes outside quotes as literal characters", () => {
  assert.deepEqual(argvOf("find . -name \\*.ts -exec echo {} \\;"), [
    "find",
    ".",
    "-name",
    "*.ts",
    "-exec",
    "echo",
    "{}",
    ";",
  ]);
  assert.deepEqual(argvOf("echo a\\\nb"), ["echo", "ab"]);
  assert.deepEqual(argvOf("echo \\"), ["echo", "\\"]);
});

Deno.test("tokenizeShell() keeps empty quoted words and quoted newlines", () => {
  assert.deepEqual(argvOf(`printf '' ""`), ["printf", "", ""]);
  assert.deepEqual(argvOf(`git commit -m "line 1\nline 2"`), ["git", "commit", "-m", "line 1\nline 2"]);
});

Deno.test("tokenizeShell() passes characters that are only special elsewhere literally", () => {
  assert.deepEqual(argvOf("echo a#b a=b a~b $ 100% [ ]"), ["echo", "a#b", "a=b", "a~b", "$", "100%", "[", "]"]);
  assert.deepEqual(argvOf(`echo '*' "?" '[a]' '~' '$HOME' '{a,b}'`), ["echo", "*", "?", "[a]", "~", "$HOME", "{a,b}"]);
});

const COMPOUND_CASES: Array<[command: string, kind: string, text: string]> = [
  ["a ; b", "operator", ";"],
  ["a && b", "operator", "&&"],
  ["a || b", "operator", "||"],
  ["a | b", "operator", "|"],
  ["a |& b", "operator", "|&"],
  ["a &", "operator", "&"],
  ["a > f", "redirection", ">"],
  ["a < f", "redirection", "<"],
  ["a >> f", "redirection", ">>"],
  ["a <<< s", "redirection", "<<<"],
  ["a >&2", "redirection", ">&"],
  ["a 2> f", "redirection", "2>"],
  ["a 2>&1", "redirection", "2>&"],
  ["a &> f", "redirection", "&>"],
  ["a <> f", "redirection", "<>"],
  ["a <<EOF\nx\nEOF", "here-document", "<<"],
  ["echo $(id)", "command-substitution", "$("],
  ["echo `id`", "backtick", "`"],
  ["a\nb", "newline", "\\n"],
  ["a\rb", "carriage-return", "\\r"],
  ["echo ${HOME}", "parameter", "${"],
  ["echo ${x:-y}", "parameter-operator", "${"],
  ["echo $HOME", "variable", "$HOME"],
  ["echo $1 $@", "variable", "$1"],
  ['echo "$HOME"', "variable", "$HOME"],
  ["echo $((1 + 2))", "arithmetic", "$(("],
  ["((x = 1))", "arithmetic", "(("],
  ["diff <(a) b", "process-substitution", "<("],
  ["tee >(a)", "process-substitution", ">("],
  ["(a)", "grouping", "("],
  ["{ a; }", "grouping", "{"],
  ["ls *.ts", "glob", "*"],
  ["ls a?", "glob", "?"],
  ["ls [ab].ts", "glob", "[ab]"],
  ["echo ~/x", "tilde", "~"],
  ["echo a # comment", "comment", "#"],
  ["FOO=1 git status", "assignment", "FOO="],
  ["echo a{b,c}", "brace-expansion", "{b,c}"],
  ["echo {1..3}", "brace-expansion", "{1..3}"],
  ["echo $'\\x41'", "ansi-c-quote", "$'"],
  ['echo $"hello"', "locale-quote", '$"'],
];

for (const [command, kind, text] of COMPOUND_CASES) {
  Deno.test(`tokenizeShell() reports ${kind} in ${JSON.stringify(command)} as compound`, () => {
    const found = compoundOf(command);
    const index = found.kinds.indexOf(kind);
    assert.notEqual(index, -1, `found ${found.kinds.join(", ")}`);
    assert.equal(found.texts[index], text);
    assert.match(found.reasons[index], /at position \d+$/);
  });
}

Deno.test("tokenizeShell() gives the position of each construct", () => {
  const result = tokenizeShell("git status && rm -rf . | tee log");
  assert.equal(result.compound, true);
  if (!result.compound) return;
  assert.deepEqual(result.syntax.map((found) => found.position), [11, 23]);
  assert.equal(result.reasons[0], '"&&" (command list or pipeline) at position 11');
});

Deno.test("tokenizeShell() says variable expansion is refused because only a shell performs it", () => {
  const { reasons } = compoundOf("echo $HOME");
  assert.match(reasons[0], /"\$HOME" \(variable expansion, which only a shell performs\) at position 5/);
});

Deno.test("tokenizeShell() marks substitutions as impossible to analyse and plain expansions as analysable", () => {
  const result = tokenizeShell("echo $HOME $(id) ${x:-$(id)} `id` <(id)");
  assert.equal(result.compound, true);
  if (!result.compound) return;
  const opaque = result.syntax.filter((found) => !found.isAnalysable).map((found) => found.text);
  assert.deepEqual(opaque, ["$(", "${", "$(", "`", "<("]);
  assert.ok(result.syntax.some((found) => found.text === "$HOME" && found.isAnalysable));
});

Deno.test("tokenizeShell() finds substitutions inside an unquoted here-document but not a quoted one", () => {
  assert.ok(compoundOf("cat <<EOF\n$(id)\nEOF").kinds.includes("command-substitution"));
  assert.ok(!compoundOf("cat <<'EOF'\n$(id)\nEOF").kinds.includes("command-substitution"));
});

Deno.test("tokenizeShell() rejects unterminated quotes and substitutions with their position", () => {
  assert.throws(() => tokenizeShell("echo 'abc"), { name: "SyntaxError", message: /single quote at position 5/ });
  assert.throws(() => tokenizeShell('echo "abc'), { name: "SyntaxError", message: /double quote at position 5/ });
  assert.throws(() => tokenizeShell("echo `id"), { name: "SyntaxError", message: /backtick at position 5/ });
  assert.throws(() => tokenizeShell("echo $(id"), { name: "SyntaxError", message: /never closed/ });
  assert.throws(() => tokenizeShell("echo ${HOME"), { name: "SyntaxError", message: /parameter expansion/ });
});

Deno.test("tokenizeShell() rejects NUL bytes", () => {
  assert.throws(() => tokenizeShell("echo a\0b"), { name: "SyntaxError", message: /NUL byte at position 6/ });
});
