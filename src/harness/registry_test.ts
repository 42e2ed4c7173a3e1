import assert from "node:assert/strict";
import { init } from "../agent/init.ts";
import { TestModel } from "../model/test_models/test_model.ts";
import { FlueHarness } from "./flue_harness.ts";
import { createHarness, listHarnesses, registerHarness } from "./registry.ts";

Deno.test("registerHarness() plugs a loop in without changing agent code", async () => {
  const seen: number[] = [];
  registerHarness("counting", () => {
    const inner = new FlueHarness();
    return {
      name: "counting",
      run: (request) => {
        seen.push(request.messages.length);
        return inner.run(request);
      },
    };
  });
  assert.ok(listHarnesses().includes("counting"));
  const agent = await init({
    model: new TestModel({ script: ["hi"] }),
    harness: "counting",
    store: "memory",
    sandbox: "memory",
  });
  try {
    assert.equal((await (await agent.session()).prompt("hello")).text, "hi");
    assert.deepEqual(seen, [2]);
  } finally {
    await agent.close();
  }
});

Deno.test("createHarness() names the registered harnesses for an unknown name", () => {
  assert.throws(() => createHarness("nope"), /Unknown harness "nope": registered harnesses are .*flue/);
});

Deno.test("registerHarness() refuses the built-in name and invalid names", () => {
  assert.throws(() => registerHarness("flue", () => new FlueHarness()), /built in/);
  assert.throws(() => registerHarness("Bad Name", () => new FlueHarness()), /Invalid harness name "Bad Name"/);
});
