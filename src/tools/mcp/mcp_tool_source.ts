/**
 * MCP servers as a tool source: connects to each configured server with the official SDK (stdio servers started
 * confined, streamable HTTP servers with headers from secrets), lists its tools, and offers the allowed ones to the
 * model as `<server>__<tool>`, their input validated against the server's own JSON Schema. Loaded by `init()` only
 * when `mcpServers` is set, so agents without MCP never load the SDK.
 *
 * @module
 */

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { z } from "zod";
import denoJson from "../../../deno.json" with { type: "json" };
import type { SandboxPolicy } from "../../sandbox/sandbox.ts";
import { defineTool, type FlueTool } from "../tool.ts";
import { confinedServerProcess } from "./_confined_stdio.ts";
import { type McpHttpServer, type McpServerConfig, type McpStdioServer, resolveHeaders } from "./mcp_servers.ts";

/** The connected servers and the tools they offer. */
export interface McpToolSource {
  /** The tools, named `<server>__<tool>`. */
  readonly tools: FlueTool<unknown>[];
  /** Disconnects from every server and stops the ones started as commands. */
  close(): Promise<void>;
}

/** What connecting needs besides the servers. */
export interface McpConnectContext {
  /** The project directory: the workspace of stdio servers. */
  projectDir: string;
  /** The state directory, hidden from stdio servers. */
  stateDir: string;
  /** The agent's policy. */
  policy: Readonly<SandboxPolicy>;
  /** The agent's `env`, from which secrets and header values are taken. */
  env: Readonly<Record<string, string>>;
  /** Run stdio servers without bubblewrap when it is missing. */
  unconfinedShell?: boolean;
}

const CONNECT_TIMEOUT_MS = 30_000;
const TOOL_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const KEPT_STDERR_CHARS = 2000;

/**
 * Connects to MCP servers and builds their tools. When one server fails, the ones already connected are closed.
 *
 * @param servers The servers by name (checked by `validateMcpServers`).
 * @param context Project, policy and secrets.
 * @returns The tools and a `close` function.
 * @throws {Error} Naming the server when it cannot be started or reached, or when an allowed tool does not exist.
 */
export async function connectMcpServers(
  servers: Readonly<Record<string, McpServerConfig>>,
  context: McpConnectContext,
): Promise<McpToolSource> {
  const clients: Client[] = [];
  const tools: FlueTool<unknown>[] = [];
  const releases: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    await Promise.all(clients.splice(0).map((client) => client.close().catch(() => {})));
    await Promise.all(releases.splice(0).map((release) => release()));
  };
  try {
    for (const [name, server] of Object.entries(servers)) {
      const client = new Client({ name: "flue", version: denoJson.version });
      const stderr: string[] = [];
      const transport = "command" in server
        ? await stdioTransport(server, context, stderr, releases)
        : httpTransport(server, context);
      try {
        await client.connect(transport, { signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) });
      } catch (error) {
        await transport.close().catch(() => {});
        const output = stderr.join("").trim().slice(-KEPT_STDERR_CHARS);
        throw new Error(
          `MCP server "${name}" could not be reached: ${(error as Error).message}${
            output ? `; its stderr: ${output}` : ""
          }`,
          { cause: error },
        );
      }
      clients.push(client);
      tools.push(...await serverTools(name, server, client));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { tools, close };
}

async function stdioTransport(
  server: McpStdioServer,
  context: McpConnectContext,
  stderr: string[],
  releases: Array<() => Promise<void>>,
): Promise<Transport> {
  const granted = Object.fromEntries((server.secrets ?? []).map((name) => [name, context.env[name]]));
  const process = await confinedServerProcess(server.command, {
    projectDir: context.projectDir,
    stateDir: context.stateDir,
    policy: context.policy,
    env: granted,
    unconfinedShell: context.unconfinedShell,
  });
  releases.push(process.release);
  const { command, args, env, cwd } = process;
  const transport = new StdioClientTransport({ command, args, env, cwd, stderr: "pipe" });
  // Kept for the error message when the server fails to start; drained always, so a chatty server never blocks.
  transport.stderr?.on("data", (chunk: Uint8Array | string) => {
    stderr.push(String(chunk));
    while (stderr.length > 1 && stderr.join("").length > KEPT_STDERR_CHARS * 2) stderr.shift();
  });
  return transport;
}

function httpTransport(server: McpHttpServer, context: McpConnectContext): Transport {
  return new StreamableHTTPClientTransport(new URL(server.url), {
    requestInit: { headers: resolveHeaders(server.headers, context.env) },
  });
}

async function serverTools(name: string, server: McpServerConfig, client: Client): Promise<FlueTool<unknown>[]> {
  const listed = [];
  let cursor: string | undefined;
  // Bounded: a server that pages forever cannot hang the agent's start.
  for (let page = 0; page < 100; page++) {
    const result = await client.listTools(cursor === undefined ? {} : { cursor });
    listed.push(...result.tools);
    cursor = result.nextCursor;
    if (cursor === undefined) break;
  }
  const allowed = server.tools;
  for (const wanted of allowed ?? []) {
    if (!listed.some((tool) => tool.name === wanted)) {
      throw new Error(
        `MCP server "${name}" has no tool "${wanted}" named in its "tools": it offers ${
          listed.map((tool) => `"${tool.name}"`).join(", ") || "none"
        }`,
      );
    }
  }
  return listed
    .filter((tool) => allowed === undefined || allowed.includes(tool.name))
    .map((tool) => toFlueTool(name, tool, client));
}

interface ListedTool {
  name: string;
  description?: string;
  title?: string;
  inputSchema: Record<string, unknown>;
}

function toFlueTool(server: string, tool: ListedTool, client: Client): FlueTool<unknown> {
  const name = `${server}__${tool.name}`;
  if (!TOOL_NAME.test(name)) {
    throw new Error(
      `MCP server "${server}" offers tool "${tool.name}", and "${name}" is not a name models accept (letters, ` +
        `digits, "_" and "-", at most 64): leave it out with the server's "tools" list`,
    );
  }
  let input: z.ZodType;
  try {
    input = z.fromJSONSchema(tool.inputSchema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    throw new Error(
      `MCP server "${server}" describes tool "${tool.name}" with an input schema Flue cannot read: ` +
        `${(error as Error).message}. Leave it out with the server's "tools" list`,
      { cause: error },
    );
  }
  return defineTool<unknown>({
    name,
    description: tool.description || tool.title || `The "${tool.name}" tool of MCP server "${server}"`,
    input,
    run: async (args, { signal }) => {
      const result = await client.callTool(
        { name: tool.name, arguments: args as Record<string, unknown> },
        undefined,
        { signal },
      );
      const text = resultText(result);
      if (result.isError) throw new Error(text || `MCP tool "${name}" failed`);
      return text;
    },
  });
}

type ContentPart = { type: string; text?: string; mimeType?: string; uri?: string; resource?: { text?: string } };

/** The result as text for the model: text parts as they are, other parts described, structured content as JSON. */
function resultText(result: { content?: unknown; structuredContent?: unknown; toolResult?: unknown }): string {
  const parts = Array.isArray(result.content) ? result.content as ContentPart[] : [];
  const texts = parts.map((part) => {
    if (part.type === "text") return part.text ?? "";
    if (part.type === "resource") return part.resource?.text ?? `[resource ${part.uri ?? ""}]`;
    if (part.type === "resource_link") return `[resource ${part.uri ?? ""}]`;
    return `[${part.type}${part.mimeType ? ` ${part.mimeType}` : ""}]`;
  });
  if (texts.length === 0 && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  if (texts.length === 0 && result.toolResult !== undefined) return JSON.stringify(result.toolResult);
  return texts.join("\n");
}
