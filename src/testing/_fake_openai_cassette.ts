/**
 * The fake OpenAI server's cassette mode: chat completion requests matched, in their wire form, against the requests
 * a `RecordingModel` wrote, and answered with the recorded replies.
 *
 * @module
 */

import type { Cassette, CassetteExchange, RecordedModelRequest } from "../model/cassette.ts";
import { ReplayCursor } from "../model/replay_model.ts";
import { toOpenAIMessage } from "../model/openai/_openai_request.ts";
import type { StopReason } from "../model/chat_model.ts";
import type { FakeStep } from "./_fake_openai_replies.ts";

/** The fields of the Chat Completions body a replay matches. */
interface WireRequest {
  messages: unknown;
  tools: unknown;
}

const FINISH_REASONS: Record<StopReason, string> = {
  stop: "stop",
  tool_calls: "tool_calls",
  length: "length",
  content_filter: "content_filter",
  other: "stop",
};

/**
 * Makes the handler that replays a cassette.
 *
 * @param cassette The cassette's path or content.
 * @returns A handler for `startFakeOpenAI`: the recorded reply, or a 400 naming the first differing field.
 */
export function cassetteHandler(cassette: string | Cassette): (request: { body: unknown }) => FakeStep {
  const cursor = new ReplayCursor(cassette);
  return ({ body }) => {
    const sent = body as Record<string, unknown>;
    let exchange: CassetteExchange;
    try {
      exchange = cursor.take({ messages: sent.messages, tools: sent.tools } satisfies WireRequest, wireForm);
    } catch (error) {
      return { status: 400, message: (error as Error).message, code: "cassette_mismatch" };
    }
    if (exchange.reply === undefined) {
      // Replayed as a plain 400 so the client does not retry a recorded 429 or 5xx against a used recording.
      return { status: 400, message: exchange.error?.message ?? "The recorded call failed", code: "recorded_error" };
    }
    const { reply } = exchange;
    const textDeltas = exchange.chunks.flatMap((chunk) => "text" in chunk ? [chunk.text] : []);
    const reasoningDeltas = exchange.chunks.flatMap((chunk) => "thinking" in chunk ? [chunk.thinking] : []);
    return {
      text: reply.text,
      textDeltas: textDeltas.length > 0 ? textDeltas : undefined,
      reasoning: reasoningDeltas.length > 0 ? reasoningDeltas.join("") : undefined,
      reasoningDeltas: reasoningDeltas.length > 0 ? reasoningDeltas : undefined,
      toolCalls: reply.toolCalls.map((call) => ({ id: call.id, name: call.name, arguments: call.arguments })),
      usage: { inputTokens: reply.usage.inputTokens, outputTokens: reply.usage.outputTokens },
      finishReason: FINISH_REASONS[reply.stopReason] ?? "stop",
    };
  };
}

/** A recorded request as the `openai` SDK sends it (`_openai_request.ts`), after a JSON round trip. */
function wireForm(request: RecordedModelRequest): WireRequest {
  const tools = request.tools.length === 0 ? undefined : request.tools.map((tool) => ({
    type: "function",
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
  return JSON.parse(JSON.stringify({ messages: request.messages.map(toOpenAIMessage), tools }));
}
