import assert from "node:assert/strict";
import { MemoryStore } from "./memory_store.ts";
import { defineStoreContractTests } from "./store_contract.ts";
import type { NewHistoryEntry } from "./store.ts";

defineStoreContractTests(
  "MemoryStore",
  () => Promise.resolve({ store: new MemoryStore(), cleanup: () => Promise.resolve() }),
);

const key = { agent: "assistant", instanceId: "1", session: "default" };

function entry(message: unknown): NewHistoryEntry {
  return { message: message as NewHistoryEntry["message"], source: "prompt", operationId: "op", timestamp: "t" };
}

Deno.test("MemoryStore keeps values in the JSON form a persistent store would return", async () => {
  const store = new MemoryStore();
  try {
    const [stored] = await store.append(key, [entry({ role: "assistant", content: "hi", toolCalls: undefined })]);
    assert.deepEqual(stored.message, { role: "assistant", content: "hi" });
    assert.equal("toolCalls" in (await store.load(key))[0].message, false);
  } finally {
    await store.close();
  }
});

Deno.test("MemoryStore rejects a message that cannot be stored as JSON and keeps the history before it", async () => {
  const store = new MemoryStore();
  try {
    await store.append(key, [entry({ role: "user", content: "kept" })]);
    await assert.rejects(
      store.append(key, [entry({ role: "user", content: "new" }), entry({ role: "user", content: 1n })]),
      /message of history entry 1 cannot be stored as JSON/,
    );
    assert.deepEqual((await store.load(key)).map((item) => item.message.content), ["kept"]);
  } finally {
    await store.close();
  }
});
