/**
 * Conversions between Flue's stored conversation format and the AI SDK's two formats: the `ModelMessage`s that
 * `streamText` takes, and the `LanguageModelV4Prompt` a language model receives.
 *
 * @module
 */

import type { LanguageModelV4Prompt, LanguageModelV4ToolResultOutput } from "@ai-sdk/provider";
import type { ModelMessage, ToolResultPart } from "ai";
import type { Message, ToolCall } from "../../model/message.ts";
import { parseToolArguments } from "../../tools/execute_tool_call.ts";

/** A Flue conversation in the shape `streamText` takes. */
export interface ModelConversation {
  /** The leading system messages, joined; passed as `instructions`. */
  instructions?: string;
  /** The rest of the conversation. */
  messages: ModelMessage[];
  /** Whether a system message comes after the first non-system one (such as a compaction summary). */
  hasLaterSystemMessages: boolean;
}

/**
 * Converts a Flue conversation for `streamText`. Tool-call arguments that are not valid JSON stay raw text, so the
 * model sees what it sent; a failed tool result becomes an `error-text` output.
 *
 * @param messages The conversation, system message first.
 * @returns Instructions and messages.
 */
export function toModelConversation(messages: readonly Message[]): ModelConversation {
  const leading: string[] = [];
  let start = 0;
  while (start < messages.length && messages[start].role === "system") leading.push(messages[start++].content);
  const converted: ModelMessage[] = [];
  let hasLaterSystemMessages = false;
  for (let index = start; index < messages.length; index++) {
    const message = messages[index];
    switch (message.role) {
      case "system":
        hasLaterSystemMessages = true;
        converted.push({ role: "system", content: message.content });
        break;
      case "user":
        converted.push({ role: "user", content: message.content });
        break;
      case "assistant":
        converted.push(
          message.toolCalls?.length
            ? {
              role: "assistant",
              content: [
                ...(message.content ? [{ type: "text" as const, text: message.content }] : []),
                ...message.toolCalls.map((call) => ({
                  type: "tool-call" as const,
                  toolCallId: call.id,
                  toolName: call.name,
                  input: argumentsValue(call),
                })),
              ],
            }
            : { role: "assistant", content: message.content },
        );
        break;
      case "tool": {
        const part: ToolResultPart = {
          type: "tool-result",
          toolCallId: message.toolCallId,
          toolName: message.name,
          output: message.isError
            ? { type: "error-text", value: message.content }
            : { type: "text", value: message.content },
        };
        // Results of one turn travel in one tool message, as the SDK itself builds them.
        const previous = converted.at(-1);
        if (previous?.role === "tool" && messages[index - 1].role === "tool") previous.content.push(part);
        else converted.push({ role: "tool", content: [part] });
        break;
      }
    }
  }
  return {
    instructions: leading.length ? leading.join("\n\n") : undefined,
    messages: converted,
    hasLaterSystemMessages,
  };
}

/**
 * Converts the prompt a language model receives back into Flue messages, for a `ChatModel` driven by the AI SDK.
 * Files and other parts a `ChatModel` cannot take are refused.
 *
 * @param prompt The prompt.
 * @returns The conversation.
 * @throws {TypeError} For a file part, which Flue models do not take.
 */
export function fromLanguageModelPrompt(prompt: LanguageModelV4Prompt): Message[] {
  const messages: Message[] = [];
  for (const message of prompt) {
    switch (message.role) {
      case "system":
        messages.push({ role: "system", content: message.content });
        break;
      case "user": {
        const texts = message.content.map((part) => {
          if (part.type !== "text") throw new TypeError(`A Flue model takes text only, got a "${part.type}" part`);
          return part.text;
        });
        messages.push({ role: "user", content: texts.join("") });
        break;
      }
      case "assistant": {
        let text = "";
        const toolCalls: ToolCall[] = [];
        for (const part of message.content) {
          if (part.type === "text") text += part.text;
          else if (part.type === "tool-call") {
            toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: argumentsText(part.input) });
          }
        }
        messages.push(
          toolCalls.length ? { role: "assistant", content: text, toolCalls } : {
            role: "assistant",
            content: text,
          },
        );
        break;
      }
      case "tool":
        for (const part of message.content) {
          if (part.type !== "tool-result") continue;
          const { text, isError } = outputText(part.output);
          messages.push(
            isError
              ? { role: "tool", toolCallId: part.toolCallId, name: part.toolName, content: text, isError: true }
              : { role: "tool", toolCallId: part.toolCallId, name: part.toolName, content: text },
          );
        }
        break;
    }
  }
  return messages;
}

function argumentsValue(call: ToolCall): unknown {
  const parsed = parseToolArguments(call.arguments);
  return parsed.ok ? parsed.value : call.arguments;
}

/**
 * The raw arguments text of a tool call. Flue tools take objects, so a string is the text of arguments that did not
 * parse, kept as the model sent it.
 *
 * @param input The call's input as the SDK holds it.
 * @returns The arguments text.
 */
export function argumentsText(input: unknown): string {
  return typeof input === "string" ? input : JSON.stringify(input ?? {});
}

function outputText(output: LanguageModelV4ToolResultOutput): { text: string; isError: boolean } {
  switch (output.type) {
    case "text":
      return { text: output.value, isError: false };
    case "json":
      return { text: JSON.stringify(output.value), isError: false };
    case "error-text":
      return { text: output.value, isError: true };
    case "error-json":
      return { text: JSON.stringify(output.value), isError: true };
    case "execution-denied":
      return { text: `Error: the tool call was denied${output.reason ? `: ${output.reason}` : ""}`, isError: true };
    case "content":
      return {
        text: output.value.map((part) => part.type === "text" ? part.text : `[${part.type}]`).join(""),
        isError: false,
      };
  }
}
