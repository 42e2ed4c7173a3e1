import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { startTestServer } from "./testdata/test_server.ts";

const TOKEN = "mcp-route-token-123456";

/** An agent whose model answers with how many user messages its session holds, and the last one. */
function countingAgent() {
  const model = new FunctionModel((request) => {
    const users = request.messages.filter((message) => message.role === "user");
    return `#${users.length}: ${users.at(-1)?.content}`;
  });
  return { model, sandbox: "memory" } as const;
}

async function connect(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: "route-test", version: "1.0.0" });
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

Deno.test("/mcp/:name/:id serves an agent over streamable HTTP to the MCP SDK's client", async () => {
  const server = startTestServer({ agents: { assistant: countingAgent() }, token: TOKEN });
  try {
    const client = await connect(`${server.url}/mcp/assistant/user-1`, TOKEN);
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool: { name: string }) => tool.name), ["prompt"]);
      assert.match(tools[0].description ?? "", /Flue agent "assistant"/);
      const first = await client.callTool({ name: "prompt", arguments: { message: "hello", session: "s1" } });
      assert.deepEqual(first.content, [{ type: "text", text: "#1: hello" }]);
      const second = await client.callTool({ name: "prompt", arguments: { message: "again", session: "s1" } });
      assert.deepEqual(second.content, [{ type: "text", text: "#2: again" }], "the session continues");
      const history = await (await server.request("/agents/assistant/user-1/history?session=s1", {
        headers: { authorization: `Bearer ${TOKEN}` },
      })).json();
      assert.equal(history.entries.length, 4);
      const invalid = await client.callTool({ name: "prompt", arguments: { message: "" } });
      assert.equal(invalid.isError, true);
    } finally {
      await client.close();
    }
    await assert.rejects(connect(`${server.url}/mcp/assistant/user-1`), /401|Unauthorized|token/i);
    const unknown = await server.request("/mcp/nobody/user-1", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
  } finally {
    await server.close();
  }
});
