/**
 * The `mcpServers` option: which Model Context Protocol servers an agent takes tools from, checked at the boundary.
 * This file never loads the MCP SDK; `mcp_tool_source.ts` does, and only when servers are configured.
 *
 * @module
 */

/** What both kinds of MCP server accept. */
export interface McpServerCommon {
  /**
   * The server's tools the model may call, by their names on the server; all of them when omitted. They appear to
   * the model as `<server>__<tool>`.
   */
  tools?: string[];
}

/** An MCP server started as a command and spoken to over its standard input and output. */
export interface McpStdioServer extends McpServerCommon {
  /**
   * The command line, such as `"deno run --allow-read=. server.ts"`. It must pass the agent's `allowedCommands`, and
   * it runs confined like a shell command: under bubblewrap, the project directory at `/workspace` (writable only
   * with `allowWrite`), no network unless `allowNet`, and a cleared environment.
   */
  command: string;
  /** Names from the agent's `env` whose values the server's environment gets. */
  secrets?: string[];
}

/** An MCP server reached over streamable HTTP. */
export interface McpHttpServer extends McpServerCommon {
  /** The server's MCP endpoint, `http:` or `https:`. */
  url: string;
  /** HTTP headers sent with every request; `${NAME}` in a value is replaced by `NAME` from the agent's `env`. */
  headers?: Record<string, string>;
}

/** One MCP server: a command (stdio) or a URL (streamable HTTP). */
export type McpServerConfig = McpStdioServer | McpHttpServer;

/** A server name: a letter, then letters, digits or `-`, so `<server>__<tool>` splits one way only. */
const SERVER_NAME = /^[A-Za-z][A-Za-z0-9-]{0,31}$/;
const SECRET_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Checks the `mcpServers` option, so a misspelt key or a missing secret is an error before anything starts.
 *
 * @example Checking servers
 * ```ts
 * import { validateMcpServers } from "./mcp_servers.ts";
 * import assert from "node:assert/strict";
 *
 * validateMcpServers({ docs: { url: "https://example.com/mcp" } }, {});
 * assert.throws(() => validateMcpServers({ docs: { url: "https://example.com/mcp", header: {} } }, {}), TypeError);
 * ```
 *
 * @param servers The option's value.
 * @param env The agent's `env`, which secrets and header references must name.
 * @throws {TypeError} On an invalid name, an unknown key, a server with both or neither of `command` and `url`, or a
 *   secret that `env` does not hold.
 */
export function validateMcpServers(servers: unknown, env: Readonly<Record<string, string>>): void {
  if (servers === null || typeof servers !== "object" || Array.isArray(servers)) {
    throw new TypeError(`Option "mcpServers" must map server names to { command } or { url } settings`);
  }
  for (const [name, server] of Object.entries(servers)) {
    if (!SERVER_NAME.test(name)) {
      throw new TypeError(
        `Invalid MCP server name "${name}": use a letter, then letters, digits or "-" (at most 32 characters)`,
      );
    }
    if (server === null || typeof server !== "object" || Array.isArray(server)) {
      throw new TypeError(`MCP server "${name}" must be an object with "command" or "url"`);
    }
    const isStdio = "command" in server;
    if (isStdio === ("url" in server)) {
      throw new TypeError(`MCP server "${name}" needs exactly one of "command" (stdio) and "url" (streamable HTTP)`);
    }
    const known = isStdio ? ["command", "secrets", "tools"] : ["url", "headers", "tools"];
    const unknown = Object.keys(server).filter((key) => !known.includes(key));
    if (unknown.length > 0) {
      throw new TypeError(`Unknown key "${unknown[0]}" in MCP server "${name}": known keys are ${known.join(", ")}`);
    }
    checkNameList(name, "tools", (server as McpServerCommon).tools);
    if (isStdio) checkStdio(name, server as McpStdioServer, env);
    else checkHttp(name, server as McpHttpServer, env);
  }
}

/**
 * Fills `${NAME}` references in header values from the agent's `env`.
 *
 * @param headers The configured headers.
 * @param env The agent's `env`.
 * @returns The headers to send.
 */
export function resolveHeaders(
  headers: Readonly<Record<string, string>> = {},
  env: Readonly<Record<string, string>>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([key, value]) => [key, value.replace(SECRET_REFERENCE, (_, name) => env[name])]),
  );
}

function checkStdio(name: string, server: McpStdioServer, env: Readonly<Record<string, string>>): void {
  if (typeof server.command !== "string" || server.command.trim() === "") {
    throw new TypeError(`MCP server "${name}" has an empty "command": give the program that starts it`);
  }
  checkNameList(name, "secrets", server.secrets);
  for (const secret of server.secrets ?? []) {
    if (env[secret] === undefined) {
      throw new TypeError(`MCP server "${name}" is granted secret "${secret}", which the agent's "env" does not hold`);
    }
  }
}

function checkHttp(name: string, server: McpHttpServer, env: Readonly<Record<string, string>>): void {
  let url: URL;
  try {
    url = new URL(server.url);
  } catch {
    throw new TypeError(`MCP server "${name}" has an invalid "url" "${server.url}": give an absolute http(s) URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`MCP server "${name}" has "url" "${server.url}": only http: and https: are supported`);
  }
  const headers = server.headers ?? {};
  if (headers === null || typeof headers !== "object" || Array.isArray(headers)) {
    throw new TypeError(`MCP server "${name}" needs "headers" as an object of header names to values`);
  }
  for (const [header, value] of Object.entries(headers)) {
    if (typeof value !== "string") throw new TypeError(`Header "${header}" of MCP server "${name}" must be a string`);
    for (const [, secret] of value.matchAll(SECRET_REFERENCE)) {
      if (env[secret] === undefined) {
        throw new TypeError(
          `Header "${header}" of MCP server "${name}" names "\${${secret}}", which the agent's "env" does not hold`,
        );
      }
    }
  }
}

function checkNameList(server: string, key: string, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== "string" || entry === "")) {
    throw new TypeError(`"${key}" of MCP server "${server}" must be a list of names`);
  }
}
