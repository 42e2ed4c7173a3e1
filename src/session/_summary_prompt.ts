/**
 * The request that asks a model to summarise the older part of a conversation, sized so that it fits the model's
 * window however long that part is, and the text of the summary message that replaces it.
 *
 * @module
 */

import type { Message } from "../model/message.ts";
import type { ContextItem } from "./session_context.ts";

/** The first line of every summary message, so the model (and a person reading the history) knows what it is. */
export const SUMMARY_HEADING =
  "[Summary of the earlier conversation, which was compacted to fit the context window. The messages after this one " +
  "follow on from it.]";

const INSTRUCTIONS = `You compact conversations between a user and an AI agent that uses tools.
Write a summary of the conversation you are given, from which the agent can carry on the work without the original
messages. Keep:
- the user's goals, requests, constraints and preferences, in their own words where it matters;
- decisions made and why;
- facts learned: file paths, names, identifiers, numbers, commands, errors and their causes;
- what the tools were used for and their important results;
- what is done and what remains to do, including anything the agent promised.
A summary of still earlier messages may come first: fold what still matters from it into yours.
Leave out pleasantries and anything superseded. Write plain text in short sections. Do not answer questions from the
conversation or continue it: only summarise it.`;

/** Characters of one tool result, and of any other message, shown to the summariser at most. */
const TOOL_RESULT_CHARS = 2_000;
const MESSAGE_CHARS = 8_000;

/**
 * Builds the messages of the summarising call.
 *
 * @param items The context items to summarise, oldest first (a previous summary, if any, first).
 * @param budgetChars The most characters the transcript may take; older messages are left out beyond it.
 * @param maxSummaryWords About how long the summary may be.
 * @returns A system and a user message.
 */
export function summaryRequest(items: readonly ContextItem[], budgetChars: number, maxSummaryWords: number): Message[] {
  const parts = items.map((item) => renderItem(item, Math.min(MESSAGE_CHARS, Math.max(200, budgetChars / 4))));
  let total = parts.reduce((sum, part) => sum + part.length, 0);
  // Leave out the oldest messages after any previous summary until the rest fits; the newest matter most.
  const first = items[0]?.isSummary ? 1 : 0;
  let omitted = 0;
  while (total > budgetChars && parts.length - first - omitted > 1) {
    total -= parts[first + omitted].length;
    omitted++;
  }
  const shown = [
    ...parts.slice(0, first),
    ...(omitted ? [`[${omitted} older message(s) left out for length]`] : []),
    ...parts.slice(first + omitted),
  ];
  return [
    { role: "system", content: `${INSTRUCTIONS}\nUse at most about ${maxSummaryWords} words.` },
    { role: "user", content: `The conversation to summarise:\n\n${shown.join("\n\n")}` },
  ];
}

/**
 * The content of the summary message stored and shown to the model.
 *
 * @param summary The model's summary.
 * @param maxChars The most characters kept of it.
 * @param summarisedCount How many messages it replaces, for the fallback when the model wrote nothing.
 * @returns The message text.
 */
export function summaryMessageContent(summary: string, maxChars: number, summarisedCount: number): string {
  let body = summary.trim();
  if (body === "") body = `(${summarisedCount} earlier message(s) were removed; the summariser returned no text.)`;
  if (body.length > maxChars) body = `${body.slice(0, maxChars)}\n[summary cut at ${maxChars} characters]`;
  return `${SUMMARY_HEADING}\n\n${body}`;
}

function renderItem(item: ContextItem, maxChars: number): string {
  const message = item.message;
  if (item.isSummary) return `## Summary of what came before\n${message.content}`;
  switch (message.role) {
    case "system":
      return `## System\n${clip(message.content, maxChars)}`;
    case "user":
      return `## User\n${clip(message.content, maxChars)}`;
    case "assistant": {
      const calls = (message.toolCalls ?? []).map((call) =>
        `[called ${call.name} with ${clip(call.arguments, Math.min(maxChars, 1_000))}]`
      );
      return ["## Assistant", message.content ? clip(message.content, maxChars) : "", ...calls]
        .filter((line) => line !== "").join("\n");
    }
    case "tool":
      return `## Result of ${message.name}${message.isError ? " (error)" : ""}\n${
        clip(message.content, Math.min(maxChars, TOOL_RESULT_CHARS))
      }`;
  }
}

function clip(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const head = Math.floor(maxChars * 0.7);
  const tail = maxChars - head;
  return `${text.slice(0, head)}\n[... ${text.length - maxChars} characters left out ...]\n${text.slice(-tail)}`;
}
