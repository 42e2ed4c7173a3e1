/**
 * What the test model answers without a script: it calls the tools the prompt names, summarises their results,
 * returns schema-valid JSON for structured output, and otherwise echoes the prompt.
 *
 * @module
 */

import type { ModelRequest, ToolSchema } from "../chat_model.ts";
import type { Message } from "../message.ts";
import { sampleFromSchema } from "./_sample_from_schema.ts";
import type { TestReply } from "./test_model.ts";

/** How much of the prompt the default reply quotes. */
const ECHO_LENGTH = 80;
/** How much of each tool result the summary quotes. */
const SUMMARY_RESULT_LENGTH = 200;
const QUOTED =
  /(?<![\p{L}\p{N}])(?:"([^"\n]{1,200})"|'([^'\n]{1,200})'|`([^`\n]{1,200})`|“([^”\n]{1,200})”)(?![\p{L}\p{N}])/gu;

/**
 * Decides the test model's reply from the conversation alone, deterministically:
 * 1. when no tool has run since the newest user message and that message names offered tools (whole words, any case),
 *    it calls each of them once, in the order named, with arguments sampled from their JSON Schemas; each quoted
 *    string in the message fills the first string argument that it fits, once per turn;
 * 2. with `responseFormat`, it answers with JSON valid for the schema;
 * 3. after tool results, it answers with a summary of them;
 * 4. otherwise it answers `Test reply to: "<the first 80 characters of the message>"`.
 *
 * @param request The model request.
 * @returns The reply.
 */
export function unscriptedReply(request: ModelRequest): TestReply {
  const userIndex = request.messages.findLastIndex((message) => message.role === "user");
  const prompt = userIndex === -1 ? "" : request.messages[userIndex].content;
  const since = request.messages.slice(userIndex + 1);
  const toolsHaveRun = since.some((message) => message.role === "tool" || hasToolCalls(message));

  if (!toolsHaveRun) {
    const named = namedTools(prompt, request.tools);
    if (named.length > 0) {
      // One set for the whole turn, so a quoted string fills one argument, not one in every call.
      const preferred = { strings: quotedStrings(prompt), usedStrings: new Set<number>() };
      return {
        toolCalls: named.map((tool) => ({
          name: tool.name,
          args: JSON.stringify(sampleFromSchema(tool.parameters, preferred) ?? {}),
        })),
      };
    }
  }
  if (request.responseFormat) return { text: JSON.stringify(sampleFromSchema(request.responseFormat.schema)) };
  const results = since.filter((message) => message.role === "tool");
  if (results.length > 0) return { text: summarise(results) };
  return { text: `Test reply to: "${Array.from(prompt).slice(0, ECHO_LENGTH).join("")}"` };
}

/** The offered tools the prompt names as whole words, in the order it first names them. */
function namedTools(prompt: string, tools: readonly ToolSchema[]): ToolSchema[] {
  const words = prompt.toLowerCase().match(/[\p{L}\p{N}_-]+/gu) ?? [];
  const positions = new Map<string, number>();
  for (const [index, word] of words.entries()) if (!positions.has(word)) positions.set(word, index);
  return tools
    .filter((tool) => positions.has(tool.name.toLowerCase()))
    .sort((a, b) => positions.get(a.name.toLowerCase())! - positions.get(b.name.toLowerCase())!);
}

function quotedStrings(prompt: string): string[] {
  return Array.from(prompt.matchAll(QUOTED), (match) => match[1] ?? match[2] ?? match[3] ?? match[4]);
}

function summarise(results: readonly Message[]): string {
  const parts = results.map((message) => {
    if (message.role !== "tool") return "";
    const content = message.content.length > SUMMARY_RESULT_LENGTH
      ? `${message.content.slice(0, SUMMARY_RESULT_LENGTH - 1)}…`
      : message.content;
    return `${message.name} ${message.isError ? "failed" : "returned"}: ${content}`;
  });
  return `Tool results: ${parts.join("; ")}`;
}

function hasToolCalls(message: Message): boolean {
  return message.role === "assistant" && (message.toolCalls?.length ?? 0) > 0;
}
