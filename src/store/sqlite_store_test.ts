import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "./sqlite_store.ts";
import { SCHEMA_VERSION } from "./_sqlite_schema.ts";
import { defineStoreContractTests } from "./store_contract.ts";
import type { NewHistoryEntry } from "./store.ts";

defineStoreContractTests("SqliteStore", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-sqlite-contract-" });
  return {
    store: new SqliteStore({ path: join(dir, "flue.db") }),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

const key = { agent: "assistant", instanceId: "1", session: "default" };

function entry(content: unknown): NewHistoryEntry {
  return {
    message: { role: "user", content } as NewHistoryEntry["message"],
    source: "prompt",
    operationId: "op",
    timestamp: "2026-01-02T03:04:05.000Z",
  };
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-sqlite-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("SqliteStore opens <projectDir>/.flue/flue.db in WAL mode, creating the folder", async () => {
  await withTempDir(async (projectDir) => {
    const store = new SqliteStore({ projectDir });
    try {
      assert.equal(store.path, join(projectDir, ".flue", "flue.db"));
      await store.append(key, [entry("hello")]);
      const raw = new DatabaseSync(store.path);
      try {
        assert.equal(raw.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
        assert.equal(raw.prepare("SELECT version FROM schema_version").get()?.version, SCHEMA_VERSION);
      } finally {
        raw.close();
      }
    } finally {
      await store.close();
    }
  });
});

Deno.test("SqliteStore resolves a relative path against projectDir", async () => {
  await withTempDir(async (projectDir) => {
    const store = new SqliteStore({ projectDir, path: "state/custom.db" });
    await store.close();
    assert.equal(store.path, join(projectDir, "state", "custom.db"));
    assert.ok((await Deno.stat(store.path)).isFile);
  });
});

Deno.test("SqliteStore reopened on the same file resumes the history and its seq", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "flue.db");
    const first = new SqliteStore({ path });
    await first.append(key, [entry("one"), entry("two")]);
    await first.createRun({
      runId: "r",
      workflow: "w",
      instanceId: "1",
      status: "running",
      payload: null,
      startedAt: "t",
    });
    await first.close();
    const second = new SqliteStore({ path });
    try {
      const [third] = await second.append(key, [entry("three")]);
      assert.equal(third.seq, 2);
      assert.deepEqual((await second.load(key)).map((item) => item.message.content), ["one", "two", "three"]);
      assert.equal((await second.getRun("r"))?.payload, null);
    } finally {
      await second.close();
    }
  });
});

Deno.test("SqliteStore.append() inserts only the new rows and never rewrites existing ones", async () => {
  await withTempDir(async (dir) => {
    const store = new SqliteStore({ path: join(dir, "flue.db") });
    const raw = new DatabaseSync(store.path);
    try {
      await store.append(key, [entry("one"), entry("two")]);
      const rowsOf = () => raw.prepare("SELECT rowid, seq, message FROM history ORDER BY seq").all();
      const before = rowsOf();
      await store.append(key, [entry("three")]);
      const after = rowsOf();
      assert.equal(after.length, 3);
      assert.deepEqual(after.slice(0, 2), before);
    } finally {
      raw.close();
      await store.close();
    }
  });
});

Deno.test("SqliteStore.append() that fails part-way writes nothing and keeps seq gapless", async () => {
  await withTempDir(async (dir) => {
    const store = new SqliteStore({ path: join(dir, "flue.db") });
    try {
      await store.append(key, [entry("kept")]);
      await assert.rejects(
        store.append(key, [entry("rolled back"), entry(10n)]),
        (error: Error) => error instanceof TypeError && /entry 1 cannot be stored as JSON.*BigInt/.test(error.message),
      );
      const [next] = await store.append(key, [entry("next")]);
      assert.equal(next.seq, 1);
      assert.deepEqual((await store.load(key)).map((item) => [item.seq, item.message.content]), [[0, "kept"], [
        1,
        "next",
      ]]);
    } finally {
      await store.close();
    }
  });
});

Deno.test("SqliteStore rejects a corrupt file, naming it and saying to move it aside", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "flue.db");
    await Deno.writeTextFile(path, "this is not a database, just some text. ".repeat(100));
    assert.throws(() => new SqliteStore({ path }), (error: Error) => {
      assert.match(error.message, /is not a valid SQLite database/);
      assert.ok(error.message.includes(`"${path}"`), error.message);
      assert.match(error.message, /move it aside/);
      assert.match(String((error.cause as Error).message), /file is not a database/);
      return true;
    });
  });
});

Deno.test("SqliteStore reports a database locked longer than its busy timeout as held by another process", async () => {
  await withTempDir(async (dir) => {
    const store = new SqliteStore({ path: join(dir, "flue.db"), busyTimeoutMs: 50 });
    const other = new DatabaseSync(store.path);
    try {
      other.exec("BEGIN EXCLUSIVE");
      await assert.rejects(store.append(key, [entry("blocked")]), (error: Error) => {
        assert.match(error.message, /stayed locked for more than 50 ms/);
        assert.match(error.message, /another process holds it/);
        assert.ok(error.message.includes(store.path));
        return true;
      });
      other.exec("ROLLBACK");
      assert.equal((await store.append(key, [entry("after")]))[0].seq, 0);
    } finally {
      other.close();
      await store.close();
    }
  });
});

Deno.test("SqliteStore refuses a file written by a newer schema version", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "flue.db");
    await new SqliteStore({ path }).close();
    const raw = new DatabaseSync(path);
    raw.exec("UPDATE schema_version SET version = 999");
    raw.close();
    assert.throws(
      () => new SqliteStore({ path }),
      new RegExp(`schema version 999, newer than the ${SCHEMA_VERSION} this Flue understands`),
    );
  });
});

Deno.test("SqliteStore says when Deno denies write access to the store file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "flue.db");
    const script = new URL("./testdata/open_store.ts", import.meta.url).pathname;
    const { stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", script, path],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const message = new TextDecoder().decode(stdout);
    assert.ok(message.includes(`"${path}"`), message);
    assert.match(message, /--allow-write/);
  });
});

Deno.test({
  name: "SqliteStore says when the store file is read-only",
  // Root ignores file modes, so the file stays writable and there is nothing to observe.
  ignore: Deno.uid() === 0,
  fn: async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "flue.db");
      await new SqliteStore({ path }).close();
      await Deno.chmod(path, 0o444);
      await Deno.chmod(dir, 0o555);
      try {
        assert.throws(() => new SqliteStore({ path }), /is read-only, so Flue could not open/);
      } finally {
        await Deno.chmod(dir, 0o755);
      }
    });
  },
});

Deno.test("SqliteStore says when its folder cannot be created", () => {
  assert.throws(
    () => new SqliteStore({ path: "/proc/flue-no-such-folder/flue.db" }),
    /Cannot create the store folder "\/proc\/flue-no-such-folder".*choose a writable store path/,
  );
});

Deno.test("SqliteStore rejects options without a path or project folder", () => {
  assert.throws(() => new SqliteStore({}), /needs a "path" or a "projectDir"/);
  assert.throws(() => new SqliteStore({ path: "" }), /path must be a non-empty string, got ""/);
  assert.throws(() => new SqliteStore({ path: ":memory:", busyTimeoutMs: -1 }), /busyTimeoutMs must be a non-negative/);
});
