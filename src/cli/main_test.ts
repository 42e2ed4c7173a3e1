import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "./main.ts";
import { captureIo } from "./_capture_io.ts";

async function withProjectDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-main-" });
  try {
    await Deno.writeTextFile(
      join(dir, "deno.json"),
      JSON.stringify({ flue: { model: "test", sandbox: "memory", store: "memory" } }),
    );
    await Deno.writeTextFile(join(dir, "notes.txt"), "hello\n");
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("main() shows tool activity on stderr when a person watches, and only the answer on stdout", async () => {
  await withProjectDir(async (dir) => {
    const io = captureIo(true);
    const status = await main(["run", "--project", dir, "--prompt", 'Use ls on "."'], io);
    assert.equal(status, 0, io.err);
    assert.match(io.err, /→ ls/);
    assert.doesNotMatch(io.out, /→ ls/);
  });
});

Deno.test("main() stays quiet on stderr when no one watches", async () => {
  await withProjectDir(async (dir) => {
    const io = captureIo(false);
    assert.equal(await main(["run", "--project", dir, "--prompt", 'Use ls on "."'], io), 0, io.err);
    assert.equal(io.err, "");
  });
});

Deno.test("main() maps a usage error to exit status 2", async () => {
  const io = captureIo(false);
  assert.equal(await main(["run"], io), 2);
  assert.match(io.err, /needs --prompt <text> or a workflow name/);
});
