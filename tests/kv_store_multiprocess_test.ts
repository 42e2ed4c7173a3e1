import assert from "node:assert/strict";
import { join } from "node:path";
import { KvStore } from "../src/store/kv_store.ts";

const worker = new URL("../src/store/testdata/kv_worker.ts", import.meta.url).pathname;

/** Starts workers, waits until each has opened the store, then releases them together and returns their output. */
async function runWorkers(argsOf: string[][]): Promise<string[][]> {
  const cached = await new Deno.Command(Deno.execPath(), {
    args: ["cache", "--unstable-kv", worker],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(cached.code, 0, new TextDecoder().decode(cached.stderr));
  const children = argsOf.map((args) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-kv", worker, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn()
  );
  const readers = children.map((child) => child.stdout.pipeThrough(new TextDecoderStream()).getReader());
  const lines: string[][] = children.map(() => []);
  const readLine = async (index: number): Promise<string | undefined> => {
    let buffer = "";
    for (;;) {
      const newline = buffer.indexOf("\n");
      if (newline >= 0) return buffer.slice(0, newline);
      const { value, done } = await readers[index].read();
      if (done) return buffer === "" ? undefined : buffer;
      buffer += value;
    }
  };
  // Each worker prints "ready" as its first line; what follows is read once it has finished.
  for (const index of children.keys()) {
    const said = await readLine(index);
    if (said !== "ready") {
      const { stderr } = await children[index].output().catch(() => ({ stderr: new Uint8Array() }));
      assert.fail(`A worker did not start: "${said}"\n${new TextDecoder().decode(stderr)}`);
    }
  }
  for (const child of children) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
  }
  for (const [index, child] of children.entries()) {
    let rest = "";
    for (;;) {
      const { value, done } = await readers[index].read();
      if (done) break;
      rest += value;
    }
    const status = await child.status;
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    assert.equal(status.code, 0, stderr);
    lines[index] = rest.split("\n").filter((line) => line !== "");
  }
  return lines;
}

Deno.test("KvStore shared by two processes appending at once keeps every entry, gapless and in batches", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-kv-multiprocess-" });
  try {
    const path = join(dir, "flue.kv");
    const labels = ["left", "right"];
    const batches = 150;
    await runWorkers(labels.map((label) => ["append", path, label, String(batches)]));
    const store = new KvStore({ path });
    try {
      const history = await store.load({ agent: "shared", instanceId: "1", session: "default" });
      assert.deepEqual(history.map((item) => item.seq), Array.from({ length: 4 * batches }, (_, seq) => seq));
      for (const label of labels) {
        const own = history.filter((item) => item.operationId === label).map((item) => item.message.content);
        const expected = Array.from({ length: batches }, (_, batch) => [`${label}-${batch}-a`, `${label}-${batch}-b`]);
        assert.deepEqual(own, expected.flat());
      }
      let switches = 0;
      for (let seq = 0; seq < history.length; seq += 2) {
        assert.equal(history[seq].operationId, history[seq + 1].operationId, `the batch at seq ${seq} was split`);
        if (seq > 0 && history[seq].operationId !== history[seq - 1].operationId) switches++;
      }
      assert.ok(switches > 10, `the processes' appends did not interleave, so the test proved nothing (${switches})`);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KvStore shared by three processes claiming at once runs every dispatch once, each session in order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-kv-claim-race-" });
  try {
    const path = join(dir, "flue.kv");
    const store = new KvStore({ path });
    const sessions = 12;
    const perSession = 20;
    const ids = new Set<string>();
    for (let n = 0; n < perSession; n++) {
      for (let session = 0; session < sessions; session++) {
        const key = { agent: "assistant", instanceId: "1", session: `s${session}` };
        ids.add((await store.enqueueDispatch({ key, input: { n }, maxAttempts: 1 })).record.dispatchId);
      }
    }
    const labels = ["w1", "w2", "w3"];
    const started = performance.now();
    const outputs = await runWorkers(labels.map((label) => ["claim", path, label]));
    const elapsedMs = performance.now() - started;
    const claimed = outputs.map((lines) => JSON.parse(lines[0]) as string[]);
    const all = claimed.flat();
    assert.equal(all.length, ids.size, "no dispatch claimed twice");
    assert.deepEqual(new Set(all), ids);
    const done = await store.listDispatches({ status: ["done"], limit: ids.size });
    assert.equal(done.length, ids.size);
    for (const record of done) assert.equal(record.attempts.length, 1);
    for (let session = 0; session < sessions; session++) {
      // Each worker appended a dispatch's `n` while it held the lease: a session's dispatches ran one after another.
      const history = await store.load({ agent: "assistant", instanceId: "1", session: `s${session}` });
      const expected = Array.from({ length: perSession }, (_, n) => String(n));
      assert.deepEqual(history.map((item) => item.message.content), expected, `session s${session}`);
    }
    const busy = claimed.filter((list) => list.length >= 10).length;
    assert.ok(busy >= 2, `the processes' claims did not overlap: ${claimed.map((list) => list.length)}`);
    console.log(`kv claim race: ${claimed.map((list) => list.length).join(" + ")} in ${Math.round(elapsedMs)} ms`);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
