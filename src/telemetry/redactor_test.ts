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

Deno.test("Redactor redacts the base64, base64url, hex and percent-encoded forms of a secret", () => {
  const secret = "p@ss/w+rd?~ü>>>";
  const redactor = new Redactor({ KEY: secret });
  const bytes = new TextEncoder().encode(secret);
  const base64 = (data: Uint8Array) => btoa(String.fromCharCode(...data));
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  const forms = [
    base64(bytes),
    base64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, ""),
    hex,
    hex.toUpperCase(),
    encodeURIComponent(secret),
  ];
  for (const form of forms) {
    assert.notEqual(form, secret);
    assert.equal(redactor.redactText(`a ${form} b`), "a [REDACTED:KEY] b", form);
  }
});

Deno.test("Redactor finds a secret's base64 inside a longer encoded text at every byte offset", () => {
  const secret = "sk-live-4f8a2c9e71b3d605";
  const redactor = new Redactor({ KEY: secret });
  for (const before of ["", "x", "xy", "xyz", "Bearer "]) {
    for (const after of ["", "\n", "!?"]) {
      const encoded = btoa(`${before}${secret}${after}`);
      const redacted = redactor.redactText(encoded);
      assert.match(redacted, /\[REDACTED:KEY\]/, `${before}|${after}`);
      // What is left are only the characters that mix in bytes around the secret.
      assert.ok(redacted.replace("[REDACTED:KEY]", "").length <= encoded.length - 28, redacted);
    }
  }
});

Deno.test("Redactor skips encoded forms under 8 characters, which ordinary text holds by chance", () => {
  const redactor = new Redactor({ PIN: "1234" });
  // "MTIzNA" is the unpadded base64 of "1234", 6 characters; "31323334" its hex, 8.
  assert.equal(redactor.redactText("MTIzNA and 31323334 and 1234"), "MTIzNA and [REDACTED:PIN] and [REDACTED:PIN]");
});
