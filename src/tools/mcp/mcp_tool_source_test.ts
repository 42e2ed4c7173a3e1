import assert from "node:assert/strict";
import { detectCgroupSupport } from "../../sandbox/commands/_command_cgroup.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { init } from "../../agent/init.ts";
import { FunctionModel } from "../../model/test_models/function_model.ts";
import type { Message } from "../../model/message.ts";
import { PolicyDeniedError } from "../../errors.ts";

const SERVER_SOURCE = fileURLToPath(new URL("./testdata/echo_mcp_server.ts", import.meta.url));
const SECRET = "mcp-secret-value-4711";

/** A project directory holding the test server bundled into one file, run by Node, since Deno's binary and cache are outside the sandbox here. */
async function projectWithServer(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "flue-mcp-" });
  const bundled = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform=node", "-o", join(dir, "server.mjs"), SERVER_SOURCE],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(bundled.code, 0, new TextDecoder().decode(bundled.stderr));
  return dir;
}

/** A model that makes the given tool calls one per turn, then answers with every tool result it saw. */
function callingModel(calls: { name: string; args: Record<string, unknown> }[]): FunctionModel {
  return new FunctionModel((request, { callIndex }) => {
    const call = calls[callIndex];
    if (call) return { toolCalls: [{ name: call.name, args: call.args }] };
    const results = request.messages.filter((message): message is Extract<Message, { role: "tool" }> =>
      message.role === "tool"
    );
    return JSON.stringify(
      results.map((result) => ({ name: result.name, content: result.content, error: !!result.isError })),
    );
  });
}

/** The command lines of a control group's processes. */
function groupCommands(group: string): string[] {
  try {
    return Deno.readTextFileSync(`${group}/cgroup.procs`).split("\n").filter((pid) => pid !== "")
      .map((pid) => Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " "));
  } catch {
    return [];
  }
}

Deno.test("a stdio MCP server runs confined, and the model calls its allowed tools as <server>__<tool>", async () => {
  const dir = await projectWithServer();
  const outside = await Deno.makeTempFile({ prefix: "flue-mcp-outside-" });
  await Deno.writeTextFile(outside, "host file");
  await Deno.mkdir(join(dir, ".flue"));
  await Deno.writeTextFile(join(dir, ".flue", "state.txt"), "other sessions' history");
  await Deno.writeTextFile(join(dir, "visible.txt"), "project file");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const groups = detectCgroupSupport()?.parents.pids;
  const serverGroups: string[] = [];
  Deno.env.set("FLUE_MCP_HOST_ONLY", "host-value");
  const model = callingModel([
    { name: "echo__add", args: { a: 2, b: 3 } },
    { name: "echo__add", args: { a: "two" } },
    { name: "echo__echo_env", args: { name: "GRANTED" } },
    { name: "echo__echo_env", args: { name: "FLUE_MCP_HOST_ONLY" } },
    { name: "echo__fetch_status", args: { url: `http://127.0.0.1:${listener.addr.port}/` } },
    { name: "echo__read_host_file", args: { path: outside } },
    { name: "echo__hidden", args: {} },
    { name: "echo__write_file", args: { path: "/workspace/planted.txt", text: "x" } },
    { name: "echo__read_host_file", args: { path: "/workspace/.flue/state.txt" } },
    { name: "echo__read_host_file", args: { path: "/workspace/visible.txt" } },
  ]);
  const agent = await init({
    model,
    store: "memory",
    sandbox: "memory",
    projectDir: dir,
    allowedCommands: ["node"],
    env: { GRANTED: SECRET },
    mcpServers: {
      echo: {
        command: "node server.mjs",
        tools: ["add", "echo_env", "fetch_status", "read_host_file", "write_file"],
        secrets: ["GRANTED"],
      },
    },
  });
  try {
    const session = await agent.session();
    const response = await session.prompt("use the tools");
    const offered = model.calls[0].tools.map((tool) => tool.name);
    assert.ok(offered.includes("echo__add") && offered.includes("echo__echo_env"));
    assert.ok(!offered.includes("echo__hidden"), "a tool left off the allow-list is not offered");
    const addSchema = model.calls[0].tools.find((tool) => tool.name === "echo__add")!.parameters;
    assert.deepEqual((addSchema as { required?: string[] }).required?.toSorted(), ["a", "b"]);
    const results = JSON.parse(response.text) as { name: string; content: string; error: boolean }[];
    assert.deepEqual(results[0], { name: "echo__add", content: "5", error: false });
    assert.equal(results[1].error, true, "input that fails the server's schema is a tool error");
    assert.match(results[1].content, /a|b/);
    assert.match(
      results[2].content,
      /^GRANTED=\[REDACTED:GRANTED\] HOME=\/tmp$/,
      "granted secret reaches it, redacted",
    );
    assert.ok(!response.text.includes(SECRET));
    assert.match(results[3].content, /^FLUE_MCP_HOST_ONLY=\(unset\)/, "the host environment is cleared");
    assert.equal(results[4].error, true, "no network without allowNet");
    assert.match(results[4].content, /unreachable/);
    assert.equal(results[5].error, true, "files outside the project do not exist for it");
    assert.match(results[5].content, /unreadable: ENOENT/);
    assert.equal(results[6].error, true);
    assert.match(results[6].content, /echo__hidden/);
    assert.equal(results[7].error, true, "the project is read-only without allowWrite");
    assert.match(results[7].content, /unwritable: EROFS$/);
    assert.match(results[8].content, /unreadable: ENOENT/, "the state directory is hidden");
    assert.deepEqual(results[9], { name: "echo__read_host_file", content: "project file", error: false });
    assert.equal(await Deno.stat(join(dir, "planted.txt")).catch(() => "absent"), "absent");
    if (groups !== undefined) {
      // The sandbox has its own cgroup namespace, so the host looks for the Flue group that holds the server.
      serverGroups.push(
        ...[...Deno.readDirSync(groups)].map((entry) => `${groups}/${entry.name}`).filter((group) =>
          group.includes(`/flue-${Deno.pid}-`) && groupCommands(group).some((line) => line.includes("server.mjs"))
        ),
      );
      assert.equal(serverGroups.length, 1, "the server runs in a control group of its own");
    }
  } finally {
    await agent.close();
    for (const group of serverGroups) {
      assert.equal(await Deno.stat(group).catch(() => "gone"), "gone", "closing the agent removes the server's group");
    }
    listener.close();
    Deno.env.delete("FLUE_MCP_HOST_ONLY");
    await Deno.remove(outside);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stdio MCP server whose program the allowlist does not name is refused before it starts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      init({
        model: "test",
        store: "memory",
        sandbox: "memory",
        projectDir: dir,
        allowedCommands: ["git"],
        mcpServers: { echo: { command: "deno run server.js" } },
      }),
      (error) => error instanceof PolicyDeniedError && /deno/.test(error.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mcpServers settings are checked before anything starts", async () => {
  const base = { model: "test", store: "memory", sandbox: "memory" } as const;
  await assert.rejects(init({ ...base, mcpServers: { "bad name": { url: "http://127.0.0.1:1/mcp" } } }), /"bad name"/);
  await assert.rejects(
    init({ ...base, mcpServers: { docs: { url: "http://127.0.0.1:1/mcp", command: "x" } as never } }),
    /exactly one of "command"/,
  );
  await assert.rejects(
    init({ ...base, mcpServers: { docs: { url: "http://127.0.0.1:1/mcp", headers: { Authorization: "${TOKEN}" } } } }),
    /"\$\{TOKEN\}", which the agent's "env" does not hold/,
  );
  await assert.rejects(
    init({ ...base, mcpServers: { docs: { command: "deno", secrets: ["MISSING"] } } }),
    /secret "MISSING"/,
  );
});

/** Starts the test server over streamable HTTP, requiring the token. */
async function startHttpServer(token: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-env", "--allow-net=127.0.0.1", SERVER_SOURCE, "--http"],
    env: { MCP_TEST_TOKEN: token },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the test MCP server stopped before it listened");
    text += value;
  }
  reader.releaseLock();
  return {
    url: `http://127.0.0.1:${text.trim()}/mcp`,
    stop: async () => {
      child.kill();
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

Deno.test("a streamable HTTP MCP server gets its headers from secrets, and the model calls its tools", async () => {
  const token = "http-token-8842-secret";
  const server = await startHttpServer(token);
  try {
    const model = callingModel([{ name: "remote__add", args: { a: 20, b: 22 } }]);
    const agent = await init({
      model,
      store: "memory",
      sandbox: "memory",
      env: { MCP_TOKEN: token },
      mcpServers: { remote: { url: server.url, headers: { Authorization: "Bearer ${MCP_TOKEN}" }, tools: ["add"] } },
    });
    try {
      const response = await (await agent.session()).prompt("add");
      assert.deepEqual(JSON.parse(response.text), [{ name: "remote__add", content: "42", error: false }]);
      assert.deepEqual(model.calls[0].tools.filter((tool) => tool.name.startsWith("remote__")).map((t) => t.name), [
        "remote__add",
      ]);
    } finally {
      await agent.close();
    }
    await assert.rejects(
      init({
        model: "test",
        store: "memory",
        sandbox: "memory",
        env: { MCP_TOKEN: "wrong-token-value" },
        mcpServers: { remote: { url: server.url, headers: { Authorization: "Bearer ${MCP_TOKEN}" } } },
      }),
      /MCP server "remote" could not be reached/,
    );
  } finally {
    await server.stop();
  }
});

Deno.test("mod.ts and cli.ts load the MCP SDK only when an agent has mcpServers", async () => {
  const rootUrl = new URL("../../../", import.meta.url);
  const root = fileURLToPath(rootUrl);
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const imports: Record<string, string> = { ...config.imports };
  imports["@modelcontextprotocol/sdk/"] = "data:text/javascript,throw new Error('MCP SDK loaded')#";
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ imports }));
    await Deno.writeTextFile(
      join(dir, "main.ts"),
      `
      import { init } from ${JSON.stringify(new URL("mod.ts", rootUrl).href)};
      const options = { model: "test", store: "memory", sandbox: "memory" } as const;
      const plain = await init(options);
      console.log((await (await plain.session()).prompt("x")).text ? "plain ran" : "no text");
      await plain.close();
      try {
        await init({ ...options, mcpServers: { docs: { url: "http://127.0.0.1:9/mcp" } } });
      } catch (error) {
        console.log(String(error.message).split("\\n")[0]);
      }
      `,
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--no-check", "--no-lock", "--quiet", "--config", join(dir, "deno.json"), "main.ts"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout).trim().split("\n");
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    assert.equal(stdout[0], "plain ran");
    assert.match(stdout[1], /MCP SDK loaded|Module not found|modelcontextprotocol/);
    const cli = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--no-check",
        "--no-lock",
        "--quiet",
        "--config",
        join(dir, "deno.json"),
        join(root, "cli.ts"),
        "--version",
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(cli.code, 0, `the CLI starts without the SDK: ${new TextDecoder().decode(cli.stderr)}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
