/**
 * The tool loop two benchmarks share: a fake OpenAI-compatible server that asks for the `lookup` tool until a set
 * number of turns has passed, and the `lookup` tool it asks for.
 */

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
