import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "./sqlite_store.ts";
import { SCHEMA_VERSION } from "./_sqlite_schema.ts";

const key = { agent: "assistant", instanceId: "1", session: "default" };

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-sqlite-dispatch-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("SqliteStore migrates a version 1 file to the dispatch queue and keeps its history", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "flue.db");
    // A file as the first release wrote it: version 1, history only.
    const raw = new DatabaseSync(path);
    raw.exec(`
      CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT;
      INSERT INTO schema_version (version) VALUES (1);
      CREATE TABLE history (agent TEXT NOT NULL, instance_id TEXT NOT NULL, session TEXT NOT NULL, seq INTEGER NOT NULL,
        message TEXT NOT NULL, source TEXT NOT NULL, operation_id TEXT NOT NULL, timestamp TEXT NOT NULL,
        PRIMARY KEY (agent, instance_id, session, seq)) STRICT;
      CREATE TABLE runs (run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, instance_id TEXT NOT NULL,
        status TEXT NOT NULL, payload TEXT, result TEXT, error TEXT, started_at TEXT NOT NULL, ended_at TEXT) STRICT;
      CREATE TABLE run_events (run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        event_index INTEGER NOT NULL, type TEXT NOT NULL, event TEXT NOT NULL,
        PRIMARY KEY (run_id, event_index)) STRICT;
      INSERT INTO history VALUES ('assistant', '1', 'default', 0, '{"role":"user","content":"old"}', 'prompt', 'op',
        '2026-01-01T00:00:00.000Z');
    `);
    raw.close();
    const store = new SqliteStore({ path });
    try {
      assert.deepEqual((await store.load(key)).map((entry) => entry.message.content), ["old"]);
      const { record } = await store.enqueueDispatch({ key, input: { message: "new" }, maxAttempts: 1 });
      assert.equal((await store.claimDispatch({ worker: "w", leaseMs: 1000 }))?.dispatchId, record.dispatchId);
      const check = new DatabaseSync(path);
      try {
        assert.equal(check.prepare("SELECT version FROM schema_version").get()?.version, SCHEMA_VERSION);
      } finally {
        check.close();
      }
    } finally {
      await store.close();
    }
  });
});

Deno.test("SqliteStore keeps accepted and running dispatches across a reopen, and their leases", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "flue.db");
    const first = new SqliteStore({ path });
    const running = await first.enqueueDispatch({ key, input: { message: "one" }, maxAttempts: 2 });
    const waiting = await first.enqueueDispatch({
      key,
      input: { message: "two" },
      maxAttempts: 2,
      idempotencyKey: "k",
    });
    // Long enough that a loaded machine still reaches the "lease holds" check below inside it.
    const claimed = await first.claimDispatch({ worker: "dead-worker", leaseMs: 1_500 });
    assert.equal(claimed?.dispatchId, running.record.dispatchId);
    // The process "dies": the store is dropped without completing anything.
    await first.close();
    const second = new SqliteStore({ path });
    try {
      const repeat = await second.enqueueDispatch({
        key,
        input: { message: "two" },
        maxAttempts: 2,
        idempotencyKey: "k",
      });
      assert.equal(repeat.created, false);
      assert.equal(repeat.record.dispatchId, waiting.record.dispatchId);
      assert.equal(await second.claimDispatch({ worker: "new-worker", leaseMs: 60_000 }), undefined, "lease holds");
      await new Promise((resolve) => setTimeout(resolve, Date.parse(claimed!.leaseExpiresAt!) - Date.now() + 5));
      const recovered = await second.claimDispatch({ worker: "new-worker", leaseMs: 60_000 });
      assert.equal(recovered?.dispatchId, running.record.dispatchId);
      assert.deepEqual(recovered?.attempts.map((attempt) => attempt.error?.name), ["LeaseExpired", undefined]);
    } finally {
      await second.close();
    }
  });
});

Deno.test("SqliteStore claims through indexes that reach only the open dispatches, not a table scan", async () => {
  await withTempDir(async (dir) => {
    const store = new SqliteStore({ path: join(dir, "flue.db") });
    const raw = new DatabaseSync(store.path);
    try {
      const { CLAIM_CANDIDATE_SQL } = await import("./_sqlite_dispatch_queue.ts");
      const plan = raw.prepare(`EXPLAIN QUERY PLAN ${CLAIM_CANDIDATE_SQL}`).all(Date.now(), null)
        .map((row) => String(row.detail)).join("\n");
      assert.match(plan, /SEARCH candidate USING INDEX dispatches_by_status \(status=\?\)/, plan);
      assert.match(plan, /SEARCH earlier USING INDEX dispatches_open_by_session/, plan);
      assert.doesNotMatch(plan, /SCAN (candidate|earlier)/, plan);
    } finally {
      raw.close();
      await store.close();
    }
  });
});
