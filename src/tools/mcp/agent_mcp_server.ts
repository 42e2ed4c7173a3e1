/**
 * A Flue agent served as an MCP server, so other agents and editors can call it: one `prompt` tool that sends a
 * message to a session of the agent and returns its answer. Used by `flue mcp` (stdio) and the server's
 * `/mcp/:name/:id` route (streamable HTTP); loaded only by them, so nothing else loads the MCP SDK.
 *
 * @module
 */

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";
import denoJson from "../../../deno.json" with { type: "json" };

/** The agent an MCP server answers for. */
export interface ServedAgent {
  /** The agent's name, shown in the tool's description. */
  name: string;
  /** What the agent is for, when known. */
  description?: string;
  /**
   * Prompts a session of the agent.
   *
   * @param message The message.
   * @param session The session name.
   * @param signal Aborted when the MCP client cancels the call.
   * @returns The answer's text.
   */
  prompt(message: string, session: string, signal: AbortSignal): Promise<string>;
}

/**
 * Builds the MCP server for an agent: a `prompt` tool taking `{ message, session? }` (session `mcp` by default). A
 * failed prompt is a tool error carrying the message, not a protocol error, so the calling model can read it.
 *
 * @example Serving an agent over stdio
 * ```ts ignore
 * import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
 * import { agentMcpServer } from "./agent_mcp_server.ts";
 *
 * const server = agentMcpServer({ name: "assistant", prompt: async (message) => `You said ${message}` });
 * await server.connect(new StdioServerTransport());
 * ```
 *
 * @param agent The agent's name and a prompt function.
 * @returns The MCP server, not yet connected.
 */
export function agentMcpServer(agent: ServedAgent): McpServer {
  const server = new McpServer({ name: `flue-${agent.name}`, version: denoJson.version });
  server.registerTool("prompt", {
    title: `Ask ${agent.name}`,
    description: `Send a message to the Flue agent "${agent.name}" and get its answer.` +
      (agent.description ? ` ${agent.description}` : "") +
      ` Calls with the same "session" continue one conversation.`,
    inputSchema: {
      message: z.string().min(1).describe("The message for the agent"),
      session: z.string().min(1).max(256).optional().describe('The session to continue; "mcp" by default'),
    },
  }, async ({ message, session }: { message: string; session?: string }, extra: { signal: AbortSignal }) => {
    try {
      const text = await agent.prompt(message, session ?? "mcp", extra.signal);
      return { content: [{ type: "text", text }] };
    } catch (error) {
      return { content: [{ type: "text", text: (error as Error).message ?? String(error) }], isError: true };
    }
  });
  return server;
}

/**
 * Answers one streamable HTTP request with a fresh, stateless MCP server for the agent (JSON responses, no MCP
 * session id), as the SDK's web-standard transport does.
 *
 * @param request The HTTP request.
 * @param agent The agent.
 * @returns The response.
 */
export async function handleMcpRequest(request: Request, agent: ServedAgent): Promise<Response> {
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  const server = agentMcpServer(agent);
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    // With JSON responses the answer is complete once returned; the per-request server is not needed after it.
    await server.close();
  }
}
