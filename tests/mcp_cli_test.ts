import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI, ROOT, runCli } from "./_cli_helpers.ts";

Deno.test("flue mcp serves the project's agent over stdio to the MCP SDK's client", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-cli-mcp-" });
  try {
    assert.equal((await runCli(["init", dir], { cwd: ROOT })).code, 0);
    const transport = new StdioClientTransport({
      command: Deno.execPath(),
      args: ["run", "-A", "--quiet", "--config", join(dir, "deno.json"), CLI, "mcp"],
      cwd: dir,
      env: { NO_COLOR: "1", FLUE_STORE: "memory", FLUE_MODEL: "test" },
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Uint8Array) => stderr += new TextDecoder().decode(chunk));
    const client = new Client({ name: "cli-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool: { name: string }) => tool.name), ["prompt"]);
      const result = await client.callTool({ name: "prompt", arguments: { message: "Say hello" } });
      assert.equal(result.isError, undefined);
      const [part] = result.content as { type: string; text: string }[];
      assert.equal(part.type, "text");
      assert.match(part.text, /Say hello/, "the key-less test model answers about the prompt");
    } finally {
      await client.close();
    }
    assert.match(stderr, /flue mcp: serving agent ".+" over stdio/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mcpServers in deno.json give flue run's agent a confined stdio MCP server's tools", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-cli-mcp-tools-" });
  try {
    assert.equal((await runCli(["init", dir], { cwd: ROOT })).code, 0);
    const source = join(ROOT, "src/tools/mcp/testdata/echo_mcp_server.ts");
    const bundled = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform=node", "-o", join(dir, "server.mjs"), source],
    }).output();
    assert.equal(bundled.code, 0);
    const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
    config.flue = {
      model: "test",
      allowedCommands: ["node"],
      mcpServers: { echo: { command: "node server.mjs", tools: ["add"] } },
    };
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(config, null, 2));
    const run = await runCli(["run", "--prompt", "Use the echo__add tool", "--stream"], {
      cwd: dir,
      config: join(dir, "deno.json"),
      env: { FLUE_STORE: "memory" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /✓ echo__add .* 2/, "the test model called the MCP tool, which added 1 and 1");
    assert.match(run.stdout, /echo__add returned: 2/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flue mcp --help describes the command, and a stray argument is a usage error", async () => {
  const help = await runCli(["mcp", "--help"], { cwd: ROOT });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /flue mcp \[--agent <name>\]/);
  const stray = await runCli(["mcp", "assistant"], { cwd: ROOT });
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /takes no arguments, got "assistant"/);
});
