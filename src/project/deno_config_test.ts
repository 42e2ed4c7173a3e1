import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "./config.ts";
import { findDenoConfig, parseDenoConfig } from "./deno_config.ts";

Deno.test("loadConfig() reads the flue key of a deno.jsonc with comments and trailing commas", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      join(dir, "deno.jsonc"),
      '{\n  // the project\n  "flue": {\n    "model": "test", /* key-less */\n    "sandbox": "memory",\n  },\n}\n',
    );
    assert.equal(await findDenoConfig(dir), join(dir, "deno.jsonc"));
    assert.deepEqual(await loadConfig(dir, () => undefined), { model: "test", sandbox: "memory" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("findDenoConfig() prefers deno.json over deno.jsonc, as Deno does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "deno.jsonc"), "{}");
    await Deno.writeTextFile(join(dir, "deno.json"), "{}");
    assert.equal(await findDenoConfig(dir), join(dir, "deno.json"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseDenoConfig() names the file, line and column of a syntax error, and refuses a non-object", () => {
  assert.throws(
    () => parseDenoConfig('{\n  "flue": { "model": "test" }\n  "tasks": {}\n}', "/p/deno.json"),
    (error: Error) =>
      error instanceof SyntaxError &&
      /Could not parse "\/p\/deno.json": CommaExpected at line 3, column 3/.test(error.message),
  );
  assert.throws(() => parseDenoConfig("[1, 2]", "deno.json"), /must be a JSON object/);
});
