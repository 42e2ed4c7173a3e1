/**
 * Text helpers of the triage model: reading the conversation the harness sends, the rules of AGENTS.md in the system
 * prompt, and the word overlap the find-duplicates skill describes.
 *
 * @module
 */

import type { Message } from "flue";

/** A tool call of the current operation and what it returned. */
export interface ToolResult {
  /** The tool's name. */
  name: string;
  /** The arguments the model passed. */
  args: Record<string, unknown>;
  /** The tool's output. */
  content: string;
  /** Whether the tool failed. */
  isError: boolean;
}

/** A rule of AGENTS.md: a name (a label or a severity) and the words that select it. */
export interface Rule {
  /** The label or severity. */
  name: string;
  /** Words and phrases, matched as whole words regardless of case. */
  words: string[];
}

/**
 * The newest user message and the tool calls made since it, with their results: what the model has learnt in the
 * current operation. Older turns of the session belong to earlier calls and are ignored.
 *
 * @param messages The conversation.
 * @returns The prompt and the results, oldest first.
 */
export function currentTurn(messages: readonly Message[]): { prompt: string; results: ToolResult[] } {
  const userIndex = messages.findLastIndex((message) => message.role === "user");
  const prompt = userIndex === -1 ? "" : messages[userIndex].content;
  const calls = new Map<string, { name: string; args: Record<string, unknown> }>();
  const results: ToolResult[] = [];
  for (const message of messages.slice(userIndex + 1)) {
    if (message.role === "assistant") {
      for (const call of message.toolCalls ?? []) {
        calls.set(call.id, { name: call.name, args: JSON.parse(call.arguments) });
      }
    } else if (message.role === "tool") {
      const call = calls.get(message.toolCallId);
      results.push({
        name: message.name,
        args: call?.args ?? {},
        content: message.content,
        isError: message.isError ?? false,
      });
    }
  }
  return { prompt, results };
}

/**
 * The last fenced JSON block of a message: how the workflow and `session.skill` pass structured input.
 *
 * @param text The message.
 * @returns The parsed value.
 * @throws {Error} When the message has no JSON block.
 */
export function lastJsonBlock(text: string): Record<string, unknown> {
  const blocks = [...text.matchAll(/```json\n([\s\S]*?)\n```/g)];
  if (blocks.length === 0) throw new Error("The prompt has no ```json block to read the issue from");
  return JSON.parse(blocks.at(-1)![1]);
}

/**
 * Reads a rule list from a section of the system prompt, lines such as ``- `bug`: crash, throws, TypeError``.
 *
 * @param system The system prompt, which carries AGENTS.md.
 * @param heading The section's heading, such as `Labels`.
 * @returns The rules, in order.
 * @throws {Error} When the section or its rules are missing.
 */
export function rulesUnder(system: string, heading: string): Rule[] {
  const section = new RegExp(`^## ${heading}\\n([\\s\\S]*?)(?=^#{1,2} |(?![\\s\\S]))`, "m").exec(system)?.[1] ?? "";
  const rules = [...section.matchAll(/^- `([a-z-]+)`: (.+)$/gm)].map((match) => ({
    name: match[1],
    words: match[2].split(",").map((word) => word.trim()).filter(Boolean),
  }));
  if (rules.length === 0) {
    throw new Error(`The system prompt has no "## ${heading}" rules: is AGENTS.md in the project directory?`);
  }
  return rules;
}

/**
 * The first rule with a word in the text, and the word.
 *
 * @param rules The rules, in order of precedence.
 * @param text Where to look.
 * @returns The rule and the word that matched, or `undefined`.
 */
export function firstMatch(rules: readonly Rule[], text: string): { rule: Rule; word: string } | undefined {
  for (const rule of rules) {
    const word = rule.words.find((candidate) => new RegExp(`\\b${escapeRegExp(candidate)}\\b`, "i").test(text));
    if (word) return { rule, word };
  }
  return undefined;
}

/**
 * Names of the project's functions and classes in an issue's text: camelCase and PascalCase identifiers, without the
 * runtime's own (`TypeError` in a stack trace is not the project's code).
 *
 * @param text The title and body.
 * @returns The names, each once.
 */
export function codeNames(text: string): string[] {
  const names = text.match(/\b[A-Za-z][a-z0-9]+[A-Z][A-Za-z0-9]*\b/g) ?? [];
  return [...new Set(names.filter((name) => !(name in globalThis)))];
}

const COMMON_WORDS = new Set(
  "about after also anyway because been before being does from have instead into just like more must only over same should than that their them then there these they this very want were what when where which while will with would your"
    .split(" "),
);

/**
 * The significant words of a text: four letters or more, lower case, common words left out.
 *
 * @param text Any text.
 * @returns The words, each once.
 */
export function significantWords(text: string): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]{4,}/gu) ?? [];
  return new Set(words.filter((word) => !COMMON_WORDS.has(word)));
}

/**
 * The share of significant words two texts have in common (Jaccard similarity).
 *
 * @param a One text's words.
 * @param b The other's.
 * @returns From 0 (nothing shared) to 1 (the same words).
 */
export function similarity(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  const shared = [...a].filter((word) => b.has(word)).length;
  const either = new Set([...a, ...b]).size;
  return either === 0 ? 0 : shared / either;
}

/**
 * A file's text as the `read` tool returned it, without its line numbers.
 *
 * @param output The tool's output (`"   12\tcode"` per line).
 * @returns The text.
 */
export function withoutLineNumbers(output: string): string {
  return output.split("\n").map((line) => line.replace(/^\s*\d+\t/, "")).join("\n");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
