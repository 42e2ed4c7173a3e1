/**
 * Finds the JSON a model meant as its answer inside a reply that may also hold prose, code fences or broken syntax.
 *
 * @module
 */

import { jsonrepair } from "jsonrepair";
import { RESULT_END_MARKER, RESULT_START_MARKER } from "./result_instructions.ts";

/**
 * Where in a reply a JSON candidate was found, in the order they are tried: between the result markers, the whole
 * text, a fenced code block, or the first balanced `{...}` or `[...]` span.
 */
export type JsonLayer = "delimited" | "whole" | "fenced" | "span";

/** A JSON value found in a reply. */
export interface JsonCandidate {
  /** The parsed value. */
  value: unknown;
  /** Where it was found. */
  layer: JsonLayer;
  /** Whether its syntax had to be repaired (`jsonrepair`) before it parsed. */
  repaired: boolean;
  /** The text it was parsed from. */
  source: string;
}

/** Blocks of one kind that are tried at most; a reply with hundreds of fences or braces is not worth scanning fully. */
const MAX_BLOCKS_PER_LAYER = 8;
/** Opening brackets the span scan starts from at most; each start scans forward, so this bounds the work. */
const MAX_SPAN_STARTS = 64;
const FENCE = /```([^\n`]*)\n([\s\S]*?)(?:```|$)/g;
const JSON_FENCE_LANGUAGES: ReadonlySet<string> = new Set(["", "json", "jsonc", "json5"]);

/**
 * Lists the JSON values in a reply, best first: the blocks between `---RESULT_START---` and `---RESULT_END---` (the
 * last block first, since a model may echo the instructions before answering), the whole text, fenced code blocks
 * (labelled `json` or unlabelled), then balanced `{...}` / `[...]` spans (those that parse as they are before those
 * that need repair). Each candidate is parsed with `JSON.parse` and, when that fails, repaired with `jsonrepair`. Repair
 * never turns prose into JSON: the whole text is only repaired when it starts like JSON, and a repaired value must be of
 * the kind its first character promises (`{` an object, `[` an array). A value found twice is listed once.
 *
 * @example Usage
 * ```ts
 * import { extractJsonCandidates } from "./extract_json.ts";
 *
 * const [first] = extractJsonCandidates('Sure: {"ok": true,} Hope that helps');
 * if (first.layer !== "span" || !first.repaired) throw new Error("unexpected");
 * ```
 *
 * @param text The model's reply.
 * @returns The candidates, possibly none.
 */
export function extractJsonCandidates(text: string): JsonCandidate[] {
  const candidates: JsonCandidate[] = [];
  const seenSources = new Set<string>();
  const add = (source: string, layer: JsonLayer, repairAnything: boolean): boolean => {
    const trimmed = source.trim();
    if (trimmed === "" || seenSources.has(trimmed)) return false;
    seenSources.add(trimmed);
    const parsed = parseJson(trimmed, repairAnything);
    if (parsed === undefined) return false;
    candidates.push({ value: parsed.value, layer, repaired: parsed.repaired, source: trimmed });
    return true;
  };

  // A marked block is the answer by the model's own word, so even a bare word in it may be repaired into a string.
  for (const block of delimitedBlocks(text)) add(stripFence(block), "delimited", true);
  add(text, "whole", false);
  for (const block of fencedBlocks(text)) add(block, "fenced", true);
  for (const span of balancedSpans(text)) add(span, "span", false);
  return candidates;
}

/**
 * The best JSON value in a reply: the first of {@linkcode extractJsonCandidates}.
 *
 * @example Usage
 * ```ts
 * import { extractJson } from "./extract_json.ts";
 *
 * const found = extractJson("Here you go:\n---RESULT_START---\n[1, 2, 3]\n---RESULT_END---");
 * if (found?.layer !== "delimited") throw new Error("unexpected");
 * ```
 *
 * @param text The model's reply.
 * @returns The candidate, or `undefined` when the reply holds no JSON.
 */
export function extractJson(text: string): JsonCandidate | undefined {
  return extractJsonCandidates(text)[0];
}

function parseJson(text: string, repairAnything: boolean): { value: unknown; repaired: boolean } | undefined {
  try {
    return { value: JSON.parse(text), repaired: false };
  } catch {
    // fall through to repair
  }
  const first = text[0];
  const opensLikeJson = first === "{" || first === "[" || first === '"' || first === "'";
  if (!opensLikeJson && !repairAnything) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(jsonrepair(text));
  } catch {
    return undefined;
  }
  // jsonrepair reads `{...} more text` as a list of values; that is not what an object-shaped reply meant.
  if (first === "{" && (typeof value !== "object" || value === null || Array.isArray(value))) return undefined;
  if (first === "[" && !Array.isArray(value)) return undefined;
  return { value, repaired: true };
}

/** The text between each start marker and the next end marker (or the end of a truncated reply), last block first. */
function delimitedBlocks(text: string): string[] {
  const blocks: string[] = [];
  let start = text.lastIndexOf(RESULT_START_MARKER);
  while (start !== -1 && blocks.length < MAX_BLOCKS_PER_LAYER) {
    const contentStart = start + RESULT_START_MARKER.length;
    const end = text.indexOf(RESULT_END_MARKER, contentStart);
    blocks.push(text.slice(contentStart, end === -1 ? undefined : end));
    start = start === 0 ? -1 : text.lastIndexOf(RESULT_START_MARKER, start - 1);
  }
  return blocks;
}

/** The contents of fenced code blocks labelled as JSON or unlabelled, in order; an unclosed fence runs to the end. */
function fencedBlocks(text: string): string[] {
  const blocks: string[] = [];
  for (const match of text.matchAll(FENCE)) {
    const language = match[1].trim().split(/\s/)[0].toLowerCase();
    if (JSON_FENCE_LANGUAGES.has(language)) blocks.push(match[2]);
    if (blocks.length >= MAX_BLOCKS_PER_LAYER) break;
  }
  return blocks;
}

function stripFence(block: string): string {
  const fenced = fencedBlocks(block.trim());
  return fenced.length > 0 && block.trim().startsWith("```") ? fenced[0] : block;
}

/**
 * Balanced `{...}` and `[...]` spans found by scanning (strings and escapes respected), those that parse strictly
 * first. A span that runs to the end of the text unclosed (a truncated reply) comes last, for repair.
 */
function balancedSpans(text: string): string[] {
  const strict: string[] = [];
  const other: string[] = [];
  let unclosedTail: string | undefined;
  let starts = 0;
  for (let index = 0; index < text.length && starts < MAX_SPAN_STARTS; index++) {
    const char = text[index];
    if (char !== "{" && char !== "[") continue;
    starts++;
    const end = findClosingBracket(text, index);
    if (end === "unclosed") {
      unclosedTail ??= text.slice(index);
      continue;
    }
    if (end === "mismatched") continue;
    const span = text.slice(index, end + 1);
    if (isStrictJson(span)) {
      strict.push(span);
      // Spans nested in one that parsed are parts of it, not answers of their own.
      index = end;
    } else {
      other.push(span);
    }
    if (strict.length >= MAX_BLOCKS_PER_LAYER) break;
  }
  const spans = [...strict, ...other.slice(0, MAX_BLOCKS_PER_LAYER)];
  if (unclosedTail !== undefined) spans.push(unclosedTail);
  return spans;
}

function findClosingBracket(text: string, start: number): number | "unclosed" | "mismatched" {
  const expected: string[] = [];
  let inString = false;
  for (let index = start; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === "\\") index++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === "{") expected.push("}");
    else if (char === "[") expected.push("]");
    else if (char === "}" || char === "]") {
      if (expected.pop() !== char) return "mismatched";
      if (expected.length === 0) return index;
    }
  }
  return "unclosed";
}

function isStrictJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
