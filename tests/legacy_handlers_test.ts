// Legacy handler modules and `.agents/` discovery, through a project served over HTTP.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createProjectApp } from "../mod.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;

const LEGACY = `
export const triggers = { webhook: true };

export default async function ({ id, payload, env, log, init, signal }) {
  log.info("legacy handler called", { id });
  const agent = await init({ model: "test", sandbox: "memory" });
  const session = await agent.session();
  const reply = await session.prompt(String(payload.message));
  return { agentId: id, echoed: payload.message, replied: typeof reply.text, aborted: signal.aborted, hasEnv: typeof env };
}
`;

async function withProject(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-legacy-" });
  try {
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ flue: { model: "test", store: "memory" } }));
    await Deno.mkdir(join(dir, "agents"));
    await Deno.writeTextFile(join(dir, "agents", "default.ts"), LEGACY);
    await Deno.writeTextFile(join(dir, "agents", "quiet.ts"), "export const triggers = {};\nexport default () => 1;\n");
    await Deno.mkdir(join(dir, ".agents", "workflows"), { recursive: true });
    await Deno.mkdir(join(dir, ".agents", "skills"), { recursive: true });
    await Deno.writeTextFile(
      join(dir, ".agents", "helper.ts"),
      `import { createAgent } from "${MOD}";\nexport default createAgent(() => ({ sandbox: "memory" }));\n`,
    );
    await Deno.writeTextFile(
      join(dir, ".agents", "workflows", "shout.ts"),
      "export function run(ctx) { return { loud: String(ctx.payload.text).toUpperCase() }; }\n",
    );
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a legacy handler module is served at POST /agents/<name>/<id> with { payload }, with a deprecation note", async () => {
  await withProject(async (dir) => {
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...parts: unknown[]) => void warnings.push(parts.join(" "));
    let app;
    try {
      app = await createProjectApp(dir);
    } finally {
      console.warn = warn;
    }
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
    const url = `http://127.0.0.1:${server.addr.port}`;
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    try {
      assert.equal(warnings.filter((line) => line.includes("agents/default.ts is a legacy handler")).length, 1);
      assert.match(warnings.join("\n"), /deprecated: move it to createAgent\(\)/);
      assert.match(warnings.join("\n"), /quiet\.ts is a legacy handler without triggers\.webhook = true/);
      assert.ok(warnings.every((line) => !line.includes("\n")), "each note is one line");

      const response = await post("/agents/default/demo", { payload: { message: "hello from client" } });
      assert.equal(response.status, 200);
      const runId = response.headers.get("x-flue-run-id");
      const body = await response.json();
      assert.deepEqual(body.result, {
        agentId: "demo",
        echoed: "hello from client",
        replied: "string",
        aborted: false,
        hasEnv: "object",
      });
      assert.equal(body.runId, runId);
      const events = await (await fetch(`${url}/runs/${encodeURIComponent(runId!)}/events`)).json();
      assert.ok(
        JSON.stringify(events).includes("legacy handler called"),
        "the handler's log lines are in the run's events",
      );

      const accepted = await post("/agents/default/demo", { payload: { message: "later" } }, { "x-webhook": "true" });
      assert.equal(accepted.status, 202);
      assert.equal((await accepted.json()).status, "accepted");

      const notServed = await post("/agents/quiet/demo", { payload: {} });
      assert.equal(notServed.status, 404);
      await notServed.body?.cancel();

      // Discovery: .agents/<name>.ts is an agent, .agents/workflows/<name>.ts a workflow.
      const helper = await post("/agents/helper/a", { message: "hi" });
      assert.equal(helper.status, 200, await helper.clone().text());
      await helper.body?.cancel();
      const shout = await post("/workflows/shout?wait=result", { text: "hey" });
      assert.deepEqual((await shout.json()).result, { loud: "HEY" });
    } finally {
      await app.close({ graceMs: 1000 });
      await server.shutdown();
    }
  });
});
