import assert from "node:assert/strict";
import { join } from "node:path";
import { SqliteStore } from "../src/store/sqlite_store.ts";

const worker = new URL("../src/store/testdata/claim_worker.ts", import.meta.url).pathname;

Deno.test("SqliteStore shared by three processes claiming at once hands out every dispatch exactly once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-claim-race-" });
  try {
    const path = join(dir, "flue.db");
    const store = new SqliteStore({ path });
    const total = 300;
    const ids = new Set<string>();
    for (let index = 0; index < total; index++) {
      // Separate sessions, so per-session order does not serialise the claims.
      const key = { agent: "assistant", instanceId: "1", session: `s${index}` };
      ids.add(
        (await store.enqueueDispatch({ key, input: { message: `m${index}` }, maxAttempts: 1 })).record.dispatchId,
      );
    }
    const cached = await new Deno.Command(Deno.execPath(), { args: ["cache", worker], stdout: "null", stderr: "piped" })
      .output();
    assert.equal(cached.code, 0, new TextDecoder().decode(cached.stderr));
    const labels = ["w1", "w2", "w3"];
    const children = labels.map((label) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", worker, path, label],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn()
    );
    const outputs = children.map((child) => child.output());
    // The module cache is warm, so the workers open the store within milliseconds of each other; "go" waits on stdin.
    const started = performance.now();
    for (const child of children) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("go\n"));
      await writer.close();
    }
    const results = await Promise.all(outputs);
    const elapsedMs = performance.now() - started;
    const claimed = results.map((result, index) => {
      assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
      const lines = new TextDecoder().decode(result.stdout).trim().split("\n");
      assert.equal(lines[0], "ready", `worker ${labels[index]}`);
      return JSON.parse(lines[1]) as string[];
    });
    const all = claimed.flat();
    assert.equal(all.length, total, "no dispatch claimed twice");
    assert.deepEqual(new Set(all), ids);
    const done = await store.listDispatches({ status: ["done"], limit: total });
    assert.equal(done.length, total);
    for (const record of done) assert.equal(record.attempts.length, 1);
    const busy = claimed.filter((list) => list.length >= 10).length;
    assert.ok(
      busy >= 2,
      `the processes' claims did not overlap, so the test proved nothing: ${claimed.map((list) => list.length)}`,
    );
    console.log(`claim race: ${claimed.map((list) => list.length).join(" + ")} claims in ${Math.round(elapsedMs)} ms`);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
