import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHarness, listHarnesses, registerHarness } from "../registry.ts";
import { FlueHarness } from "../flue_harness.ts";

const AI_SDK_PACKAGES = [
  "ai",
  "@ai-sdk/openai",
  "@ai-sdk/anthropic",
  "@ai-sdk/provider",
  "@ai-sdk/google",
  "@ai-sdk/google-vertex",
  "@ai-sdk/amazon-bedrock",
  "@ai-sdk/azure",
];

Deno.test("the ai-sdk harness is built in and cannot be replaced", () => {
  assert.ok(listHarnesses().includes("ai-sdk"));
  assert.equal(createHarness("ai-sdk").name, "ai-sdk");
  assert.throws(() => registerHarness("ai-sdk", () => new FlueHarness()), /"ai-sdk" is built in/);
});

Deno.test("the AI SDK loads only when an agent runs on the ai-sdk harness", async () => {
  // A copy of the project's import map in which every AI SDK package throws when loaded: mod.ts and an agent on the
  // flue harness must work without them, and the ai-sdk harness must fail with a clear error on its first run.
  const rootUrl = new URL("../../../", import.meta.url);
  const root = fileURLToPath(rootUrl);
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const imports: Record<string, string> = { ...config.imports };
  for (const name of AI_SDK_PACKAGES) imports[name] = "data:text/javascript,throw new Error('AI SDK loaded')";
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ imports }));
    await Deno.writeTextFile(
      join(dir, "main.ts"),
      `
      import { init } from ${JSON.stringify(new URL("mod.ts", rootUrl).href)};
      import { TestModel } from ${JSON.stringify(new URL("testing.ts", rootUrl).href)};
      const options = { store: "memory", sandbox: "memory" } as const;
      const flue = await init({ ...options, model: new TestModel({ script: ["flue ran"] }) });
      console.log((await (await flue.session()).prompt("x")).text);
      await flue.close();
      const aiSdk = await init({ ...options, harness: "ai-sdk", model: new TestModel({ script: ["ai-sdk ran"] }) });
      try {
        console.log((await (await aiSdk.session()).prompt("x")).text);
      } catch (error) {
        console.log(error.message);
      }
      await aiSdk.close();
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
    assert.equal(stdout[0], "flue ran");
    assert.match(stdout[1], /^The "ai-sdk" harness could not load the AI SDK .*(AI SDK loaded|'ai')/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
