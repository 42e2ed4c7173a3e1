/**
 * A real MCP server for the tests, written with the official SDK (and node: APIs, so that bundled it runs under Node
 * inside the sandbox, where Deno's cache is out of sight): `add`, `echo_env` (reads a granted variable),
 * `fetch_status` (tries the network) and `hidden`. Serves stdio by default, or streamable HTTP on 127.0.0.1 port 0
 * with `--http` (printing the port first), requiring `Authorization: Bearer <MCP_TEST_TOKEN>` when that is set.
 *
 * @module
 */

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";
import process from "node:process";
import { readFile, writeFile } from "node:fs/promises";

function createServer(): McpServer {
  const server = new McpServer({ name: "echo-test", version: "1.0.0" });
  server.registerTool("add", {
    description: "Adds two numbers",
    inputSchema: { a: z.number(), b: z.number() },
  }, ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }] }));
  server.registerTool("echo_env", {
    description: "Reports an environment variable and the working directory",
    inputSchema: { name: z.string() },
  }, ({ name }) => ({
    content: [{ type: "text", text: `${name}=${process.env[name] ?? "(unset)"} HOME=${process.env.HOME}` }],
  }));
  server.registerTool("fetch_status", {
    description: "Tries to reach a URL",
    inputSchema: { url: z.string() },
  }, async ({ url }) => {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      return { content: [{ type: "text", text: `reached: ${response.status}` }] };
    } catch (error) {
      return { content: [{ type: "text", text: `unreachable: ${(error as Error).message}` }], isError: true };
    }
  });
  server.registerTool("read_host_file", {
    description: "Reads a file by path",
    inputSchema: { path: z.string() },
  }, async ({ path }) => {
    try {
      return { content: [{ type: "text", text: await readFile(path, "utf8") }] };
    } catch (error) {
      return { content: [{ type: "text", text: `unreadable: ${(error as { code?: string }).code}` }], isError: true };
    }
  });
  server.registerTool("write_file", {
    description: "Writes a file by path",
    inputSchema: { path: z.string(), text: z.string() },
  }, async ({ path, text }) => {
    try {
      await writeFile(path, text);
      return { content: [{ type: "text", text: "written" }] };
    } catch (error) {
      return { content: [{ type: "text", text: `unwritable: ${(error as { code?: string }).code}` }], isError: true };
    }
  });
  server.registerTool("hidden", { description: "Not on the allow-list", inputSchema: {} }, () => ({
    content: [{ type: "text", text: "should not be callable" }],
  }));
  return server;
}

if (process.argv.includes("--http")) {
  const token = Deno.env.get("MCP_TEST_TOKEN");
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(port) },
    async (req) => {
      if (token && req.headers.get("authorization") !== `Bearer ${token}`) {
        return new Response("unauthorized", { status: 401 });
      }
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      await createServer().connect(transport);
      return await transport.handleRequest(req);
    },
  );
  await server.finished;
} else {
  await createServer().connect(new StdioServerTransport());
}
