import assert from "node:assert/strict";
import { join } from "node:path";
import { SqliteStore } from "../src/store/sqlite_store.ts";

const worker = new URL("../src/store/testdata/append_worker.ts", import.meta.url).pathname;

Deno.test("SqliteStore shared by two processes appending at once keeps every entry, gapless and in batches", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-multiprocess-" });
  try {
    // The file does not exist yet, so both processes also race to create and migrate it.
    const path = join(dir, "flue.db");
    // Load the worker's module graph once first, so the two workers do not both fill a cold module cache at once.
    const cached = await new Deno.Command(Deno.execPath(), { args: ["cache", worker], stdout: "null", stderr: "piped" })
      .output();
    assert.equal(cached.code, 0, new TextDecoder().decode(cached.stderr));
    const labels = ["left", "right"];
    const batches = 200;
    const children = labels.map((label) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", worker, path, label, String(batches)],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn()
    );
    // Each worker says "ready" once its store is open; releasing them together makes their appends overlap.
    for (const child of children) {
      const reader = child.stdout.getReader();
      const { value } = await reader.read();
      reader.releaseLock();
      const said = new TextDecoder().decode(value).trim();
      if (said !== "ready") {
        const { stderr } = await child.output();
        assert.fail(`A worker did not start: "${said}"\n${new TextDecoder().decode(stderr)}`);
      }
    }
    for (const child of children) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("go\n"));
      await writer.close();
    }
    for (const child of children) {
      await child.stdout.cancel();
      const { code, stderr } = await child.output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
    }

    const store = new SqliteStore({ path });
    try {
      const history = await store.load({ agent: "shared", instanceId: "1", session: "default" });
      assert.deepEqual(history.map((entry) => entry.seq), Array.from({ length: 4 * batches }, (_, seq) => seq));
      for (const label of labels) {
        const own = history.filter((entry) => entry.operationId === label).map((entry) => entry.message.content);
        const expected = Array.from({ length: batches }, (_, batch) => [`${label}-${batch}-a`, `${label}-${batch}-b`]);
        assert.deepEqual(own, expected.flat());
      }
      let switches = 0;
      for (let seq = 0; seq < history.length; seq += 2) {
        assert.equal(history[seq].operationId, history[seq + 1].operationId, `the batch at seq ${seq} was split`);
        if (seq > 0 && history[seq].operationId !== history[seq - 1].operationId) switches++;
      }
      assert.ok(
        switches > 10,
        `the two processes' appends did not interleave, so the test proved nothing (${switches} switches)`,
      );
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore opens a new file from several processes starting at the same instant", async () => {
  const raceWorker = new URL("../src/store/testdata/open_race_worker.ts", import.meta.url).pathname;
  await new Deno.Command(Deno.execPath(), { args: ["cache", raceWorker], stdout: "null", stderr: "null" }).output();
  for (let round = 0; round < 5; round++) {
    const dir = await Deno.makeTempDir({ prefix: "flue-open-race-" });
    try {
      const path = join(dir, "flue.db");
      const startAt = String(Date.now() + 600);
      const outputs = await Promise.all(Array.from({ length: 6 }, () =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", raceWorker, path, startAt],
          stdout: "piped",
          stderr: "piped",
        }).output()));
      const said = outputs.map((output) => new TextDecoder().decode(output.stdout).trim());
      assert.deepEqual(said, Array(6).fill("ok"));
      const store = new SqliteStore({ path });
      try {
        assert.equal((await store.load({ agent: "a", instanceId: "i", session: "s" })).length, 6);
      } finally {
        await store.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
