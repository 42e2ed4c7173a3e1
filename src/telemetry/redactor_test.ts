import assert from "node:assert/strict";
import { Redactor } from "./redactor.ts";

Deno.test("Redactor replaces every occurrence of a secret value with its name", () => {
  const redactor = new Redactor({ TOKEN: "abcd1234", OTHER: "zz" });
  assert.equal(redactor.redactText("x abcd1234 y abcd1234"), "x [REDACTED:TOKEN] y [REDACTED:TOKEN]");
  assert.equal(redactor.redactText("zz stays: too short to redact safely"), "zz stays: too short to redact safely");
});

Deno.test("Redactor redacts nested values and copies only what changed", () => {
  const redactor = new Redactor({ KEY: "secret-value" });
  const untouched = { a: [1, "plain"] };
  assert.equal(redactor.redact(untouched), untouched);
  const value = { a: { b: ["has secret-value inside"] }, c: 1 };
  assert.deepEqual(redactor.redact(value), { a: { b: ["has [REDACTED:KEY] inside"] }, c: 1 });
  assert.equal(value.a.b[0], "has secret-value inside");
});

Deno.test("Redactor replaces a longer secret that contains a shorter one whole", () => {
  const redactor = new Redactor({ SHORT: "abcd", LONG: "abcdefgh" });
  assert.equal(redactor.redactText("abcdefgh"), "[REDACTED:LONG]");
});

Deno.test("Redactor redacts error messages in place", () => {
  const redactor = new Redactor({ KEY: "secret-value" });
  const error = redactor.redact(new Error("failed with secret-value"));
  assert.equal(error.message, "failed with [REDACTED:KEY]");
});
