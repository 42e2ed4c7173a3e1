import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "./main.ts";
import { captureIo } from "./_capture_io.ts";

async function withProject(flue: Record<string, unknown>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-budget-" });
  try {
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ flue }));
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("flue run ends with the BudgetExceededError when the deno.json flue key sets a budget it passes", async () => {
  await withProject({ model: "test", sandbox: "memory", store: "memory", maxTokens: 1 }, async (dir) => {
    const io = captureIo();
    const status = await main(["run", "--project", dir, "--prompt", "Say hello"], io);
    assert.notEqual(status, 0);
    assert.equal(io.out, "", "no answer is printed");
    assert.match(io.err, /exceeded its "maxTokens" budget: spent \d+ tokens of 1; raise "maxTokens"/);
  });
  await withProject({ model: "test", sandbox: "memory", store: "memory", maxTokens: 100_000 }, async (dir) => {
    const io = captureIo();
    assert.equal(await main(["run", "--project", dir, "--prompt", "Say hello"], io), 0, io.err);
    assert.match(io.out, /Test reply/);
  });
});

Deno.test("flue run rejects a budget in deno.json that is not a positive number, naming the key", async () => {
  await withProject({ model: "test", sandbox: "memory", store: "memory", timeoutMs: -1 }, async (dir) => {
    const io = captureIo();
    assert.notEqual(await main(["run", "--project", dir, "--prompt", "Say hello"], io), 0);
    assert.match(io.err, /timeoutMs/);
  });
});
