/**
 * A cheap token estimate: about four bytes of UTF-8 per token, plus a few tokens of framing per message and per tool
 * call. It errs high for non-Latin text rather than low, and is only ever asked about new messages: sessions keep a
 * running total and correct it with the token counts providers report.
 *
 * @module
 */

import type { ToolSchema } from "../model/chat_model.ts";
import type { Message } from "../model/message.ts";

/** Tokens of framing a provider adds around each message (role, separators). */
const MESSAGE_OVERHEAD = 4;
/** Tokens of framing around each tool call (id, type, name wrapper). */
const TOOL_CALL_OVERHEAD = 8;

const toolSchemaTokens = new WeakMap<ToolSchema, number>();

/**
 * Estimates the tokens of a text.
 *
 * @param text The text.
 * @returns About a quarter of its UTF-8 size, rounded up.
 */
export function estimateTextTokens(text: string): number {
  // UTF-8 size without encoding: one byte below U+0080, two below U+0800, three otherwise (a surrogate pair counts
  // 3 + 3 rather than 4, which errs high as intended).
  let bytes = text.length;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0x80) bytes += code >= 0x800 ? 2 : 1;
  }
  return Math.ceil(bytes / 4);
}

/**
 * Estimates the tokens one message adds to a request.
 *
 * @param message The message.
 * @returns The estimate.
 */
export function estimateMessageTokens(message: Message): number {
  let tokens = MESSAGE_OVERHEAD + estimateTextTokens(message.content);
  if (message.role === "assistant") {
    for (const call of message.toolCalls ?? []) {
      tokens += TOOL_CALL_OVERHEAD + estimateTextTokens(call.name) + estimateTextTokens(call.arguments);
    }
  }
  return tokens;
}

/**
 * Estimates the tokens of the tool list sent with every request. Each schema is measured once.
 *
 * @param tools The tool schemas.
 * @returns The estimate.
 */
export function estimateToolTokens(tools: readonly ToolSchema[]): number {
  let tokens = 0;
  for (const tool of tools) {
    let known = toolSchemaTokens.get(tool);
    if (known === undefined) {
      known = TOOL_CALL_OVERHEAD + estimateTextTokens(tool.name) + estimateTextTokens(tool.description) +
        estimateTextTokens(JSON.stringify(tool.parameters));
      toolSchemaTokens.set(tool, known);
    }
    tokens += known;
  }
  return tokens;
}
