import assert from "node:assert/strict";
import { join } from "node:path";
import { createStore } from "./create_store.ts";
import { MemoryStore } from "./memory_store.ts";
import { SqliteStore } from "./sqlite_store.ts";
import type { Store } from "./store.ts";

async function withProject(body: (projectDir: string) => Promise<void>): Promise<void> {
  const projectDir = await Deno.makeTempDir({ prefix: "flue-create-store-" });
  try {
    await body(projectDir);
  } finally {
    await Deno.remove(projectDir, { recursive: true });
  }
}

Deno.test('createStore() opens sqlite at <projectDir>/.flue/flue.db for "sqlite"', async () => {
  await withProject(async (projectDir) => {
    const store = createStore("sqlite", { projectDir });
    await store.close();
    assert.ok(store instanceof SqliteStore);
    assert.equal(store.path, join(projectDir, ".flue", "flue.db"));
  });
});

Deno.test("createStore() puts the sqlite file in stateDir when one is given", async () => {
  await withProject(async (projectDir) => {
    const store = createStore({ kind: "sqlite" }, { projectDir, stateDir: "state" }) as SqliteStore;
    await store.close();
    assert.equal(store.path, join(projectDir, "state", "flue.db"));
  });
});

Deno.test("createStore() resolves a configured sqlite path against projectDir", async () => {
  await withProject(async (projectDir) => {
    const store = createStore({ kind: "sqlite", path: "data/app.db" }, {
      projectDir,
      stateDir: "ignored",
    }) as SqliteStore;
    await store.close();
    assert.equal(store.path, join(projectDir, "data", "app.db"));
  });
});

Deno.test('createStore() builds a memory store for "memory" and { kind: "memory" }', async () => {
  for (const spec of ["memory", { kind: "memory" }] as const) {
    const store = createStore(spec, { projectDir: "/nonexistent" });
    assert.ok(store instanceof MemoryStore);
    await store.close();
  }
});

Deno.test("createStore() returns a ready store unchanged", async () => {
  const ready = new MemoryStore();
  assert.equal(createStore(ready, { projectDir: "." }), ready);
  const unused = () => Promise.reject(new Error("not called"));
  const custom: Store = {
    kind: "custom",
    append: unused,
    load: unused,
    deleteSession: unused,
    listSessions: unused,
    createRun: unused,
    updateRun: unused,
    getRun: unused,
    listRuns: unused,
    appendRunEvents: unused,
    listRunEvents: unused,
    enqueueDispatch: unused,
    claimDispatch: unused,
    renewDispatchLease: unused,
    completeDispatch: unused,
    failDispatch: unused,
    getDispatch: unused,
    listDispatches: unused,
    replayDispatch: unused,
    close: () => Promise.resolve(),
  };
  assert.equal(createStore(custom, { projectDir: "." }), custom);
  await ready.close();
});

Deno.test("createStore() rejects an unknown store, naming the known ones", () => {
  for (const spec of ["mysql", { kind: "redis" }, 42, null, ["sqlite"]]) {
    assert.throws(
      () => createStore(spec as unknown as "sqlite", { projectDir: "." }),
      (error: Error) => error instanceof TypeError && /Unknown store .*"sqlite", "memory"/.test(error.message),
    );
  }
});

Deno.test("createStore() rejects unknown configuration keys and a bad path", () => {
  assert.throws(
    () => createStore({ kind: "memory", path: "x" } as unknown as "memory", { projectDir: "." }),
    /Unknown key "path" in the memory store configuration: use kind/,
  );
  assert.throws(
    () => createStore({ kind: "sqlite", path: 3 } as unknown as "sqlite", { projectDir: "." }),
    /path must be a non-empty string, got 3/,
  );
  assert.throws(() => createStore("sqlite", {} as { projectDir: string }), /needs options.projectDir/);
});

Deno.test("createStore() names the methods a store object lacks", () => {
  const partial = { kind: "custom", append: () => {}, load: () => {} };
  assert.throws(
    () => createStore(partial as unknown as Store, { projectDir: "." }),
    /lacks the Store method\(s\) deleteSession, listSessions, createRun/,
  );
});
