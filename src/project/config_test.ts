import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig, parseConfig } from "./config.ts";

Deno.test("parseConfig() accepts every documented key", () => {
  const config = parseConfig({
    model: "openai:gpt-5.5",
    agent: "assistant",
    sandbox: "virtual",
    allowWrite: true,
    allowedCommands: ["git status"],
    maxTurns: 10,
    typedRetries: 2,
    store: { kind: "sqlite", path: "data/flue.db" },
    providers: { local: { baseURL: "http://127.0.0.1:8000/v1" } },
    code: true,
  });
  assert.equal(config.model, "openai:gpt-5.5");
  assert.equal(config.providers?.local.baseURL, "http://127.0.0.1:8000/v1");
});

Deno.test("parseConfig() names an unknown key and lists the known ones", () => {
  assert.throws(
    () => parseConfig({ modle: "test" }),
    /unknown key "modle" in "flue" \(did you mean "model"\?\): known keys are model, /,
  );
  assert.throws(
    () => parseConfig({ store: "sqlit" }, "/p/deno.json"),
    /\/p\/deno\.json: "flue\.store": unknown store "sqlit" \(did you mean "sqlite"\?\): use one of sqlite, memory/,
  );
  assert.throws(
    () => parseConfig({ server: { bodyLimt: 2048 } }),
    /unknown key "bodyLimt" in "flue.server" \(did you mean "bodyLimit"\?\)/,
  );
});

Deno.test("parseConfig() says which key has the wrong type", () => {
  assert.throws(() => parseConfig({ maxTurns: "ten" }), /"flue.maxTurns"/);
  assert.throws(
    () => parseConfig({ providers: { x: { baseUrl: "http://a" } } }),
    /unknown key "baseUrl" in "flue.providers.x"/,
  );
});

Deno.test("loadConfig() gives defaults without deno.json and a clear error for broken JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.deepEqual(await loadConfig(dir), {});
    await Deno.writeTextFile(join(dir, "deno.json"), "{ nope");
    await assert.rejects(loadConfig(dir), /Could not parse ".*deno.json"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig() lets FLUE_* variables override keys and names the variable of a bad value", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ flue: { model: "test", maxTurns: 5 } }));
    const variables: Record<string, string> = { FLUE_MODEL: "openai:gpt-5.5", FLUE_MAX_TURNS: "12" };
    const config = await loadConfig(dir, (name) => variables[name]);
    assert.equal(config.model, "openai:gpt-5.5");
    assert.equal(config.maxTurns, 12);
    variables.FLUE_MAX_TURNS = "many";
    await assert.rejects(loadConfig(dir, (name) => variables[name]), /"flue.maxTurns" \(set by FLUE_MAX_TURNS\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig() never takes policy keys from the environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const variables: Record<string, string> = { FLUE_ALLOW_SHELL: "true", FLUE_ALLOW_WRITE: "true" };
    const config = await loadConfig(dir, (name) => variables[name]);
    assert.equal(config.allowShell, undefined);
    assert.equal(config.allowWrite, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseConfig() takes skills, compaction and telemetry settings and checks their ranges", () => {
  const config = parseConfig({
    skills: ["triage"],
    compaction: { threshold: 0.7, keepRecent: 4 },
    telemetry: { recordContent: false },
  });
  assert.deepEqual(config.skills, ["triage"]);
  assert.equal(parseConfig({ compaction: false }).compaction, false);
  assert.throws(() => parseConfig({ compaction: { threshold: 2 } }), /"flue.compaction.threshold"/);
  assert.throws(() => parseConfig({ telemetry: { tracer: "x" } }), /unknown key "tracer" in "flue.telemetry"/);
});

Deno.test("parseConfig() accepts stdio and HTTP MCP servers and refuses a misspelt one", () => {
  const config = parseConfig({
    mcpServers: {
      files: { command: "node server.mjs", secrets: ["TOKEN"], tools: ["read"] },
      docs: { url: "https://example.com/mcp", headers: { Authorization: "Bearer ${TOKEN}" } },
    },
  });
  assert.deepEqual(Object.keys(config.mcpServers ?? {}), ["files", "docs"]);
  assert.throws(() => parseConfig({ mcpServers: { docs: { url: "ftp://example.com" } } }), /"flue.mcpServers.docs/);
  assert.throws(() => parseConfig({ mcpServers: { "a__b": { command: "x" } } }), /"flue.mcpServers/);
});
