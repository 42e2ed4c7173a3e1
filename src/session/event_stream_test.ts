import assert from "node:assert/strict";
import { init } from "../agent/init.ts";
import { AbortError } from "../errors.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";

Deno.test("leaving a stream's loop early cancels the operation", async () => {
  const model = new FunctionModel((request) =>
    new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason)))
  );
  const agent = await init({ model, store: "memory", sandbox: "memory" });
  try {
    const stream = (await agent.session()).stream("wait");
    for await (const event of stream) {
      if (event.type === "turn_start") break;
    }
    await assert.rejects(stream.result, AbortError);
  } finally {
    await agent.close();
  }
});

Deno.test("a stream of a failing operation ends with its error event", async () => {
  const model = new FunctionModel(() => {
    throw new Error("model down");
  });
  const agent = await init({ model, store: "memory", sandbox: "memory" });
  try {
    const types: string[] = [];
    const stream = (await agent.session()).stream("x");
    for await (const event of stream) types.push(event.type);
    assert.equal(types.at(-1), "error");
    await assert.rejects(stream.result, /model down/);
  } finally {
    await agent.close();
  }
});

Deno.test("session.delete() removes the stored history", async () => {
  const agent = await init({ model: new FunctionModel(() => "ok"), store: "memory", sandbox: "memory" });
  try {
    const session = await agent.session("gone");
    await session.prompt("hi");
    assert.equal((await session.history()).length, 2);
    assert.deepEqual(await agent.listSessions(), ["gone"]);
    await session.delete();
    assert.deepEqual(await session.history(), []);
    assert.deepEqual(await agent.listSessions(), []);
  } finally {
    await agent.close();
  }
});
