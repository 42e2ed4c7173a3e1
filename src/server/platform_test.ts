import assert from "node:assert/strict";
import { platformChoices } from "./platform.ts";
import { MemoryStore } from "../store/memory_store.ts";

Deno.test("platformChoices() on Deno Deploy swaps the disk-bound store and sandboxes and keeps the others", () => {
  assert.deepEqual(platformChoices("deno-deploy", undefined, undefined), { store: "kv", sandbox: "memory" });
  assert.deepEqual(platformChoices("deno-deploy", { kind: "sqlite", path: "x.db" }, "local"), {
    store: "kv",
    sandbox: "memory",
  });
  assert.deepEqual(platformChoices("deno-deploy", { kind: "postgres" }, "remote-box"), {
    store: { kind: "postgres" },
    sandbox: "remote-box",
  });
  const ready = new MemoryStore();
  assert.equal(platformChoices("deno-deploy", ready, "memory").store, ready);
  assert.deepEqual(platformChoices(undefined, undefined, "virtual"), { store: "sqlite", sandbox: "virtual" });
  assert.deepEqual(platformChoices("local", "kv", undefined), { store: "kv", sandbox: undefined });
});

Deno.test("platformChoices() with auto follows DENO_DEPLOYMENT_ID", () => {
  const previous = Deno.env.get("DENO_DEPLOYMENT_ID");
  try {
    Deno.env.delete("DENO_DEPLOYMENT_ID");
    assert.deepEqual(platformChoices("auto", undefined, undefined), { store: "sqlite", sandbox: undefined });
    Deno.env.set("DENO_DEPLOYMENT_ID", "abc123");
    assert.deepEqual(platformChoices("auto", undefined, undefined), { store: "kv", sandbox: "memory" });
  } finally {
    if (previous === undefined) Deno.env.delete("DENO_DEPLOYMENT_ID");
    else Deno.env.set("DENO_DEPLOYMENT_ID", previous);
  }
});

Deno.test("platformChoices() names the valid platforms for an unknown one", () => {
  assert.throws(
    () => platformChoices("deploy" as never, undefined, undefined),
    /Unknown platform "deploy": use "auto", "local" or "deno-deploy"/,
  );
});

Deno.test("platformChoices() on Deno Deploy picks deno-sandbox when DENO_DEPLOY_TOKEN is set", () => {
  const previous = { id: Deno.env.get("DENO_DEPLOYMENT_ID"), token: Deno.env.get("DENO_DEPLOY_TOKEN") };
  try {
    Deno.env.set("DENO_DEPLOYMENT_ID", "abc123");
    Deno.env.set("DENO_DEPLOY_TOKEN", "ddo_example");
    assert.deepEqual(platformChoices("auto", undefined, undefined), { store: "kv", sandbox: "deno-sandbox" });
    assert.deepEqual(platformChoices("auto", undefined, "virtual").sandbox, "deno-sandbox");
    assert.deepEqual(platformChoices("auto", undefined, "e2b").sandbox, "e2b");
    Deno.env.delete("DENO_DEPLOY_TOKEN");
    assert.deepEqual(platformChoices("auto", undefined, undefined), { store: "kv", sandbox: "memory" });
    Deno.env.delete("DENO_DEPLOYMENT_ID");
    Deno.env.set("DENO_DEPLOY_TOKEN", "ddo_example");
    assert.deepEqual(platformChoices("auto", undefined, undefined), { store: "sqlite", sandbox: undefined });
  } finally {
    for (const [name, value] of [["DENO_DEPLOYMENT_ID", previous.id], ["DENO_DEPLOY_TOKEN", previous.token]]) {
      if (value === undefined) Deno.env.delete(name!);
      else Deno.env.set(name!, value);
    }
  }
});
