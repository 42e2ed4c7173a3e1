import assert from "node:assert/strict";
import { CallHandle } from "./call_handle.ts";

Deno.test("CallHandle resolves like a promise and works where a Promise is expected", async () => {
  const handle = new CallHandle(() => Promise.resolve(42));
  assert.equal(await handle, 42);
  assert.equal(await Promise.race([handle]), 42);
  assert.equal(Object.prototype.toString.call(handle), "[object CallHandle]");
});

Deno.test("CallHandle.abort() aborts its signal with the reason", async () => {
  const handle = new CallHandle((signal) =>
    new Promise<number>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
  );
  handle.abort("stop");
  assert.ok(handle.signal.aborted);
  await assert.rejects(handle, (reason) => reason === "stop");
});

Deno.test("CallHandle never reports an unhandled rejection before it is awaited", async () => {
  const handle = new CallHandle(() => Promise.reject(new Error("late")));
  await new Promise((resolve) => setTimeout(resolve, 10));
  await assert.rejects(handle, /late/);
  await handle.catch(() => {});
  let settled = false;
  await handle.finally(() => (settled = true)).catch(() => {});
  assert.ok(settled);
});
