import assert from "node:assert/strict";
import { join } from "node:path";
import { createStore } from "./create_store.ts";
import { KV_SCHEMA_VERSION, KvStore } from "./kv_store.ts";
import { MemoryStore } from "./memory_store.ts";
import { defineStoreContractTests } from "./store_contract.ts";
import type { NewHistoryEntry, Store } from "./store.ts";

defineStoreContractTests("KvStore", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-kv-contract-" });
  return {
    store: new KvStore({ path: join(dir, "flue.kv") }),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

const key = { agent: "assistant", instanceId: "1", session: "default" };

function entry(content: string): NewHistoryEntry {
  return {
    message: { role: "user", content },
    source: "output",
    operationId: "op",
    timestamp: "2026-01-02T03:04:05.000Z",
  };
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-kv-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every key under `["flue", part]` in the database file, read directly. */
async function keysUnder(path: string, part: string): Promise<Deno.KvKey[]> {
  const kv = await Deno.openKv(path);
  try {
    const keys: Deno.KvKey[] = [];
    for await (const item of kv.list({ prefix: ["flue", part] })) keys.push(item.key);
    return keys;
  } finally {
    kv.close();
  }
}

Deno.test("KvStore keeps values far over Deno KV's 64 KiB and 800 KiB commit limits, whole and in order", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "flue.kv");
    const store = new KvStore({ path });
    try {
      const huge = "x".repeat(3 * 1024 * 1024) + "\u{1F995}end";
      const medium = Array.from({ length: 30 }, (_, index) => entry(`${index}:${"m".repeat(50_000)}`));
      const [first] = await store.append(key, [entry(huge)]);
      const stored = await store.append(key, medium);
      assert.equal(first.seq, 0);
      assert.deepEqual(stored.map((item) => item.seq), Array.from({ length: 30 }, (_, index) => index + 1));
      const history = await store.load(key);
      assert.equal(history.length, 31);
      assert.equal(history[0].message.content, huge);
      assert.deepEqual(history.slice(1), stored);
      assert.deepEqual(await store.load(key, { afterSeq: 29 }), stored.slice(29));

      const input = { message: "i".repeat(300_000) };
      const { record } = await store.enqueueDispatch({ key, input, maxAttempts: 2 });
      assert.deepEqual((await store.claimDispatch({ worker: "w", leaseMs: 60_000 }))?.input, input);
      const result = { text: "r".repeat(1_000_000) };
      assert.equal(await store.completeDispatch(record.dispatchId, "w", result), true);
      assert.deepEqual((await store.getDispatch(record.dispatchId))?.result, result);

      const run = {
        runId: "run-1",
        workflow: "w",
        instanceId: "1",
        status: "running" as const,
        payload: "p".repeat(200_000),
        startedAt: "t",
      };
      await store.createRun(run);
      await store.updateRun("run-1", { result: "q".repeat(200_000), status: "done" });
      await store.updateRun("run-1", { payload: "small" });
      assert.equal((await store.getRun("run-1"))?.result, "q".repeat(200_000));
      await store.appendRunEvents("run-1", [{
        type: "log",
        level: "info",
        message: "e".repeat(100_000),
        runId: "run-1",
        agent: "w",
        instanceId: "1",
        eventIndex: 0,
        timestamp: "t",
      }]);
      assert.equal((await store.listRunEvents("run-1"))[0].eventIndex, 0);

      assert.equal(await store.deleteSession(key), true);
    } finally {
      await store.close();
    }
    // Left: the run's result and event, the dispatch's input and result; replaced values and the session are gone.
    const chunks = await keysUnder(path, "blob");
    const bytes = (3 * 1024 * 1024) + 300_000 + 1_000_000 + 200_000 + 100_000;
    assert.ok(chunks.length <= Math.ceil(bytes / 60_000) + 8, `${chunks.length} chunks left`);
    assert.ok(chunks.length >= Math.ceil((300_000 + 1_000_000 + 200_000 + 100_000) / 60_000));
    assert.deepEqual(await keysUnder(path, "history"), []);
  });
});

Deno.test("KvStore reopened on the same file resumes the history and its seq", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "nested", "flue.kv");
    const first = new KvStore({ path });
    await first.append(key, [entry("one"), entry("two")]);
    await first.close();
    const second = new KvStore({ path });
    try {
      assert.equal((await second.append(key, [entry("three")]))[0].seq, 2);
      assert.deepEqual((await second.load(key)).map((item) => item.message.content), ["one", "two", "three"]);
    } finally {
      await second.close();
    }
  });
});

Deno.test("KvStore refuses names too long for a Deno KV key with a TypeError that says so", async () => {
  const store = new KvStore({ path: ":memory:" });
  try {
    const long = { ...key, instanceId: "i".repeat(1900) };
    await assert.rejects(store.append(long, [entry("x")]), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /takes 1916 bytes in UTF-8, more than the 1900 the kv store can key/);
      return true;
    });
    await assert.rejects(store.enqueueDispatch({ key: long, input: {}, maxAttempts: 1 }), TypeError);
    assert.deepEqual(await store.listSessions(), []);
  } finally {
    await store.close();
  }
});

Deno.test("KvStore refuses a database written by a newer layout version", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "flue.kv");
    const kv = await Deno.openKv(path);
    await kv.set(["flue", "meta"], { schemaVersion: KV_SCHEMA_VERSION + 1 });
    kv.close();
    const store = new KvStore({ path });
    await assert.rejects(store.load(key), new RegExp(`layout version ${KV_SCHEMA_VERSION + 1}, newer than the`));
    await store.close();
  });
});

Deno.test("KvStore says how to enable Deno KV when deno runs without it", async () => {
  const script = `import { KvStore } from ${JSON.stringify(new URL("./kv_store.ts", import.meta.url).href)};
try { await new KvStore({ path: ":memory:" }).load({ agent: "a", instanceId: "i", session: "s" }); }
catch (error) { console.log(error.message); }`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const said = new TextDecoder().decode(output.stdout);
  assert.match(
    said,
    /Deno KV is not enabled.*"unstable": \["kv"\].*--unstable-kv/,
    new TextDecoder().decode(output.stderr),
  );
});

type Step = (store: Store) => Promise<unknown>;

/** A seeded random sequence of queue operations; the same seed gives the same steps. */
function randomSteps(seed: number, count: number): Step[] {
  let state = seed;
  const next = (below: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % below;
  };
  const ids: string[] = [];
  const claimed: string[] = [];
  const steps: Step[] = [];
  for (let index = 0; index < count; index++) {
    const choice = next(10);
    const session = `s${next(3)}`;
    const pick = next(1000);
    if (choice < 4) {
      steps.push(async (store) => {
        const receipt = await store.enqueueDispatch({
          key: { ...key, session },
          input: { index },
          maxAttempts: 1 + (pick % 2),
        });
        ids.push(receipt.record.dispatchId);
        return [receipt.record.status, receipt.record.key.session];
      });
    } else if (choice < 6) {
      steps.push(async (store) => {
        const record = await store.claimDispatch({ worker: "w", leaseMs: 60_000 });
        if (record) claimed.push(record.dispatchId);
        return record && [ids.indexOf(record.dispatchId), record.attempts.length];
      });
    } else if (choice < 9) {
      steps.push(async (store) => {
        const id = claimed.splice(pick % Math.max(claimed.length, 1), 1)[0];
        if (id === undefined) return "none";
        if (choice === 6) return await store.completeDispatch(id, "w", { ok: index });
        const retryAt = choice === 7 ? new Date(0) : undefined;
        return await store.failDispatch(id, "w", { name: "Error", message: `${index}` }, retryAt);
      });
    } else {
      steps.push(async (store) => {
        const dead = await store.listDispatches({ status: ["dead"] });
        const record = dead[pick % Math.max(dead.length, 1)];
        return record && (await store.replayDispatch(record.dispatchId))?.maxAttempts;
      });
    }
  }
  steps.push(async (store) =>
    (await store.listDispatches({ limit: 1000 })).map((record) => [ids.indexOf(record.dispatchId), record.status])
  );
  return steps;
}

Deno.test("KvStore's queue makes the same choices as MemoryStore over random sequences of operations", async () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const memory = new MemoryStore();
    const kv = new KvStore({ path: ":memory:" });
    try {
      const memorySteps = randomSteps(seed, 150);
      const kvSteps = randomSteps(seed, 150);
      for (const [index, step] of memorySteps.entries()) {
        assert.deepEqual(await kvSteps[index](kv), await step(memory), `seed ${seed}, step ${index}`);
      }
    } finally {
      await memory.close();
      await kv.close();
    }
  }
});

Deno.test("KvStore: a replayed dispatch becomes its session's head again, ahead of a later one", async () => {
  const store = new KvStore({ path: ":memory:" });
  try {
    const first = await store.enqueueDispatch({ key, input: { n: 1 }, maxAttempts: 1 });
    const second = await store.enqueueDispatch({ key, input: { n: 2 }, maxAttempts: 1 });
    await store.claimDispatch({ worker: "w", leaseMs: 60_000 });
    await store.failDispatch(first.record.dispatchId, "w", { name: "Error", message: "x" });
    assert.equal((await store.claimDispatch({ worker: "w", leaseMs: 60_000 }))?.dispatchId, second.record.dispatchId);
    await store.replayDispatch(first.record.dispatchId);
    assert.equal((await store.claimDispatch({ worker: "w", leaseMs: 60_000 }))?.dispatchId, first.record.dispatchId);
    assert.equal(await store.completeDispatch(first.record.dispatchId, "w", "ok"), true);
    assert.equal(await store.claimDispatch({ worker: "w", leaseMs: 60_000 }), undefined, "the second still runs");
    assert.equal(await store.completeDispatch(second.record.dispatchId, "w", "ok"), true);
    const third = await store.enqueueDispatch({ key, input: { n: 3 }, maxAttempts: 1 });
    assert.equal((await store.claimDispatch({ worker: "w", leaseMs: 60_000 }))?.dispatchId, third.record.dispatchId);
  } finally {
    await store.close();
  }
});

Deno.test('createStore() opens "kv" at <stateDir>/kv.sqlite3, and Deno\'s default database on Deno Deploy', async () => {
  await withTempDir(async (projectDir) => {
    const local = createStore("kv", { projectDir }) as KvStore;
    try {
      assert.ok(local instanceof KvStore);
      assert.equal(local.path, join(projectDir, ".flue", "kv.sqlite3"));
      await local.append(key, [entry("kept")]);
      assert.ok((await Deno.stat(local.path!)).isFile);
    } finally {
      await local.close();
    }
    const configured = createStore({ kind: "kv", path: "data/app.kv" }, { projectDir, stateDir: "ignored" });
    assert.equal((configured as KvStore).path, join(projectDir, "data", "app.kv"));
    assert.equal((createStore({ kind: "kv", path: ":memory:" }, { projectDir }) as KvStore).path, ":memory:");
    const previous = Deno.env.get("DENO_DEPLOYMENT_ID");
    Deno.env.set("DENO_DEPLOYMENT_ID", "test");
    try {
      const deployed = createStore("kv", { projectDir }) as KvStore;
      assert.equal(deployed.path, undefined, "Deno.openKv() without a path: the deployment's managed database");
    } finally {
      if (previous === undefined) Deno.env.delete("DENO_DEPLOYMENT_ID");
      else Deno.env.set("DENO_DEPLOYMENT_ID", previous);
    }
    assert.throws(
      () => createStore({ kind: "kv", url: "x" } as never, { projectDir }),
      /Unknown key "url".*kind, path/,
    );
    assert.throws(() => createStore({ kind: "kv", path: "" }, { projectDir }), /kv store's path must be a non-empty/);
  });
});
