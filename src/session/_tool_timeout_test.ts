import assert from "node:assert/strict";
import { init } from "../agent/init.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";

Deno.test("toolTimeoutMs kills a bash command and the model reads the output it printed before", async () => {
  const projectDir = await Deno.makeTempDir();
  const model = new FunctionModel((request) =>
    request.messages.at(-1)?.role === "tool" ? "done" : {
      toolCalls: [{ name: "bash", args: { command: "sh -c 'echo partial-line; sleep 30'" } }],
    }
  );
  const agent = await init({
    model,
    store: "memory",
    sandbox: "local",
    projectDir,
    allowShell: true,
    allowedCommands: ["sh", "echo", "sleep"],
    allowInterpreters: true,
    unconfinedShell: true,
    toolTimeoutMs: 300,
  });
  try {
    const session = await agent.session();
    const started = performance.now();
    assert.equal((await session.prompt("run it")).text, "done");
    assert.ok(performance.now() - started < 20_000, "the 30 s command was killed");
    const result = (await session.history()).find((entry) => entry.message.role === "tool")!.message.content;
    assert.match(result, /partial-line/);
    assert.match(result, /timed out after 300 ms and was killed; the output so far is shown/);
  } finally {
    await agent.close();
    await Deno.remove(projectDir, { recursive: true });
  }
});
