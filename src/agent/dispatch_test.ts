import assert from "node:assert/strict";
import { join } from "node:path";
import { MemoryStore } from "../store/memory_store.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import type { Store } from "../store/store.ts";
import { dispatch, type DispatchRequest } from "./dispatch.ts";

Deno.test("dispatch() stores the input before it returns, for the default session", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-dispatch-" });
  try {
    const path = join(dir, "flue.db");
    const store = new SqliteStore({ path });
    const receipt = await dispatch(store, { agent: "assistant", id: "42", message: "Hello" });
    await store.close();
    assert.equal(receipt.created, true);
    assert.equal(receipt.status, "accepted");
    assert.ok(!Number.isNaN(Date.parse(receipt.acceptedAt)));
    const reopened = new SqliteStore({ path });
    try {
      const record = await reopened.getDispatch(receipt.dispatchId);
      assert.deepEqual(record?.key, { agent: "assistant", instanceId: "42", session: "default" });
      assert.deepEqual(record?.input, { message: "Hello" });
      assert.equal(record?.maxAttempts, 5);
      assert.equal(record?.acceptedAt, receipt.acceptedAt);
    } finally {
      await reopened.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dispatch() with a repeated idempotency key returns the first receipt and queues nothing new", async () => {
  const store = new MemoryStore();
  try {
    const request = { agent: "assistant", id: "42", session: "s", message: "Hello", idempotencyKey: "key-1" };
    const first = await dispatch(store, request);
    const repeat = await dispatch(store, request);
    assert.deepEqual(repeat, { ...first, created: false });
    assert.equal((await store.listDispatches()).length, 1);
  } finally {
    await store.close();
  }
});

Deno.test("dispatch() refuses an idempotency key reused for a different input", async () => {
  const store = new MemoryStore();
  try {
    const first = await dispatch(store, { agent: "assistant", id: "42", message: "Hello", idempotencyKey: "k" });
    for (const changed of [{ message: "Other" }, { session: "other" }, { id: "43" }]) {
      await assert.rejects(
        dispatch(store, { agent: "assistant", id: "42", message: "Hello", idempotencyKey: "k", ...changed }),
        (error: Error) =>
          error instanceof TypeError && error.message.includes(`"k" was already used for a different input`) &&
          error.message.includes(first.dispatchId),
      );
    }
  } finally {
    await store.close();
  }
});

Deno.test("dispatch() rejects malformed requests with a message quoting the value", async () => {
  const store = new MemoryStore();
  const base: DispatchRequest = { agent: "assistant", id: "42", message: "Hello" };
  const cases: [Partial<Record<keyof DispatchRequest, unknown>>, RegExp][] = [
    [{ agent: "" }, /Invalid agent name "": use 1 to 256 characters/],
    [{ id: 42 }, /Invalid instance id 42/],
    [{ session: "x".repeat(257) }, /Invalid session name/],
    [{ message: " \t" }, /"message" must be a non-empty string, got " \\t"/],
    [{ message: undefined }, /"message" must be a non-empty string, got undefined/],
    [{ idempotencyKey: "" }, /idempotency key must be 1 to 255 characters, got ""/],
    [{ maxAttempts: 0 }, /maxAttempts must be a whole number from 1 to 100, got 0/],
    [{ maxAttempts: 1.5 }, /got 1.5/],
  ];
  try {
    for (const [change, pattern] of cases) {
      await assert.rejects(dispatch(store, { ...base, ...change } as DispatchRequest), pattern);
    }
    await assert.rejects(dispatch({} as Store, base), /needs a store with a dispatch queue/);
    await assert.rejects(dispatch(store, null as unknown as DispatchRequest), /needs \{ agent, id, message \}/);
    assert.deepEqual(await store.listDispatches(), []);
  } finally {
    await store.close();
  }
});
