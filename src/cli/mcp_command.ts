/**
 * `flue mcp`: serves a project agent as an MCP server over standard input and output, for editors and other agents.
 *
 * @module
 */

import { defaultAgentName, initProjectAgent, openProject } from "../project/project.ts";
import { parseCommandArgs } from "./_command_args.ts";
import type { CliIo } from "./terminal.ts";
import { UsageError } from "./usage_error.ts";

const FLAGS = ["--agent", "--id", "--project", "--help"];

/** The help text of `flue mcp`. */
export const MCP_HELP: string = `Usage:
  flue mcp [--agent <name>] [--id <id>] [--project <dir>]

Serves a project agent as a Model Context Protocol server over standard input and output: one "prompt" tool
({ message, session? }) that answers with the agent. Standard output carries the protocol only; messages go to
standard error. The server runs until its client closes standard input. See docs/mcp.md.

Options:
      --agent <name>        agent module to serve (default: the only one, or "default")
      --id <id>             agent instance id (default "default")
      --project <dir>       project directory (default: current directory)
  -h, --help                show this help
`;

/**
 * Runs `flue mcp`.
 *
 * @param args The arguments after `mcp`.
 * @param io Where to write help and messages (never the protocol's standard output).
 * @returns The exit status once the client has gone.
 */
export async function mcpCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    agent: { type: "string" },
    id: { type: "string" },
    project: { type: "string" },
    help: { type: "boolean", short: "h" },
  }, FLAGS);
  if (values.help) {
    io.stdout(MCP_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`flue mcp takes no arguments, got "${positionals[0]}": choose the agent with --agent`);
  }
  const project = await openProject(values.project ?? Deno.cwd());
  const agent = await initProjectAgent(project, { agent: defaultAgentName(project, values.agent), id: values.id });
  try {
    // Loaded here so that other commands never load the MCP SDK.
    const [{ agentMcpServer }, { StdioServerTransport }] = await Promise.all([
      import("../tools/mcp/agent_mcp_server.ts"),
      import("@modelcontextprotocol/sdk/server/stdio.js"),
    ]);
    const server = agentMcpServer({
      name: agent.name,
      prompt: async (message, session, signal) =>
        (await (await agent.session(session)).prompt(message, { signal })).text,
    });
    // Standard output is the protocol's: a stray console.log from agent code would corrupt it, so it goes to stderr.
    console.log = console.info = console.debug = console.error;
    const closed = new Promise<void>((resolve) => server.server.onclose = resolve);
    const transport = new StdioServerTransport();
    // The transport reads standard input but does not notice its end: close when the client goes.
    const process = (await import("node:process")).default;
    process.stdin.once("end", () => void server.close());
    await server.connect(transport);
    io.stderr(`flue mcp: serving agent "${agent.name}" over stdio\n`);
    await closed;
    return 0;
  } finally {
    await agent.close();
  }
}
