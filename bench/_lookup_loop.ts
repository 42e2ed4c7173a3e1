/**
 * The tool loop the benchmarks share: a fake OpenAI-compatible server that asks for the `lookup` tool until a set
 * number of turns has passed, the `lookup` tool it asks for, and the plain `openai` SDK loop that is their floor.
 */

import type OpenAI from "openai";
import { z } from "zod";
import { defineTool, type FlueTool } from "../mod.ts";
import { type FakeOpenAIServer, startFakeOpenAI } from "../testing.ts";

/** The record text `lookup` returns after its key. */
export const RESULT_TEXT: string = "record ".repeat(80);

/**
 * Starts the fake server.
 *
 * @param turns How many model calls an operation makes (read at each request, so it can change between runs).
 * @returns The server.
 */
export function startLookupServer(turns: () => number): FakeOpenAIServer {
  return startFakeOpenAI({
    handler: (request) => {
      const body = request.body as { messages: { role: string }[] };
      const toolResults = body.messages.filter((message) => message.role === "tool").length;
      if (toolResults < turns() - 1) {
        return {
          toolCalls: [{ name: "lookup", arguments: { key: `k${toolResults}` } }],
          usage: { inputTokens: 10, outputTokens: 5 },
        };
      }
      return { text: "All records looked up.", usage: { inputTokens: 10, outputTokens: 5 } };
    },
  });
}

/** The tool the fake server asks for: a record of about 560 characters per key. */
export const lookup: FlueTool<{ key: string }> = defineTool({
  name: "lookup",
  description: "Looks a record up by key",
  input: z.object({ key: z.string() }),
  run: ({ key }) => `${key}: ${RESULT_TEXT}`,
});

/**
 * The floor: the loop a user would write with the `openai` SDK alone, streaming, answering each `lookup` call.
 *
 * @param client The SDK client, pointed at the lookup server.
 * @param request The system prompt and the tools to send, as the user's own loop would.
 * @param turns The most model calls to make.
 * @returns When the model answers without a tool call, or after `turns` calls.
 */
export async function plainLookupLoop(
  client: OpenAI,
  request: { systemPrompt: string; tools: OpenAI.ChatCompletionTool[] },
  turns: number,
): Promise<void> {
  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: "system", content: request.systemPrompt },
    { role: "user", content: "go" },
  ];
  for (let turn = 0; turn < turns; turn++) {
    const stream = await client.chat.completions.create({
      model: "fake-model",
      messages,
      tools: request.tools,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    const calls: { id: string; name: string; arguments: string }[] = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      if (delta?.content) text += delta.content;
      for (const part of delta?.tool_calls ?? []) {
        const call = calls[part.index] ??= { id: "", name: "", arguments: "" };
        if (part.id) call.id = part.id;
        if (part.function?.name) call.name += part.function.name;
        if (part.function?.arguments) call.arguments += part.function.arguments;
      }
    }
    if (calls.length === 0) return;
    messages.push({
      role: "assistant",
      content: text || null,
      tool_calls: calls.map((call) => ({
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: call.arguments },
      })),
    });
    for (const call of calls) {
      const { key } = JSON.parse(call.arguments);
      messages.push({ role: "tool", tool_call_id: call.id, content: `${key}: ${RESULT_TEXT}` });
    }
  }
}
