import assert from "node:assert/strict";
import { permissionFlags } from "./permissions.ts";

Deno.test("permissionFlags() grants subprocesses only where the configuration runs them", () => {
  assert.deepEqual(permissionFlags({ store: "postgres", sandbox: "memory", allowShell: true }), [
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-run",
    "--allow-sys",
  ]);
  assert.deepEqual(permissionFlags({ store: "memory", sandbox: "memory", code: true }), [
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-run",
    "--allow-sys",
  ]);
});

Deno.test("permissionFlags() enables Deno KV for the kv store, and writes only for a local database file", () => {
  assert.deepEqual(permissionFlags({ store: "kv", sandbox: "memory" }), [
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    "--unstable-kv",
  ]);
  const remote = { kind: "kv", path: "https://api.deno.com/databases/x/connect" } as const;
  assert.deepEqual(permissionFlags({ store: remote, sandbox: "memory" }), [
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--unstable-kv",
  ]);
});
