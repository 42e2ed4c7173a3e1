import assert from "node:assert/strict";
import { hmacSha256Hex, timingSafeEqual, verifySignature } from "./signatures.ts";

const encode = (text: string) => new TextEncoder().encode(text);

// GitHub's documented test vector (docs.github.com, "Validating webhook deliveries").
const GITHUB_SECRET = "It's a Secret to Everybody";
const GITHUB_BODY = encode("Hello, World!");
const GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

// Slack's documented example (api.slack.com, "Verifying requests from Slack").
const SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const SLACK_TIMESTAMP = "1531420618";
const SLACK_BODY = encode(
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar" +
    "&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com" +
    "%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10" +
    "d2c447fce8b6703c",
);
const SLACK_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const SLACK_NOW = Number(SLACK_TIMESTAMP) * 1000;

function slackHeaders(signature = SLACK_SIGNATURE, timestamp = SLACK_TIMESTAMP): Headers {
  return new Headers({ "x-slack-signature": signature, "x-slack-request-timestamp": timestamp });
}

Deno.test("verifySignature() accepts GitHub's documented test vector and rejects a changed body", async () => {
  const headers = new Headers({ "x-hub-signature-256": GITHUB_SIGNATURE });
  const accepted = await verifySignature({ verifier: "github", secret: GITHUB_SECRET, headers, body: GITHUB_BODY });
  assert.deepEqual(accepted, { ok: true, deliveryKey: GITHUB_SIGNATURE.slice(7) });
  const changed = await verifySignature({ verifier: "github", secret: GITHUB_SECRET, headers, body: encode("Hello!") });
  assert.equal(changed.ok, false);
  assert.equal(!changed.ok && changed.reason, "invalid_signature");
});

Deno.test("verifySignature() rejects a GitHub delivery with a missing, malformed or wrongly keyed signature", async () => {
  const check = (headers: Headers, secret = GITHUB_SECRET) =>
    verifySignature({ verifier: "github", secret, headers, body: GITHUB_BODY });
  assert.deepEqual(await check(new Headers()), {
    ok: false,
    reason: "missing_signature",
    message: "The X-Hub-Signature-256 header is missing",
  });
  for (const bad of ["sha1=757107ea", GITHUB_SIGNATURE.slice(7), `${GITHUB_SIGNATURE}00`, "sha256=zz"]) {
    const verdict = await check(new Headers({ "x-hub-signature-256": bad }));
    assert.equal(!verdict.ok && verdict.reason, "invalid_signature", bad);
  }
  const wrongSecret = await check(new Headers({ "x-hub-signature-256": GITHUB_SIGNATURE }), "another secret");
  assert.equal(!wrongSecret.ok && wrongSecret.reason, "invalid_signature");
  assert.ok(!wrongSecret.ok && !wrongSecret.message.includes("757107ea"), "the message never shows a signature");
});

Deno.test("verifySignature() accepts Slack's documented example inside the five-minute window", async () => {
  const verdict = await verifySignature({
    verifier: "slack",
    secret: SLACK_SECRET,
    headers: slackHeaders(),
    body: SLACK_BODY,
    now: SLACK_NOW + 299_000,
  });
  assert.deepEqual(verdict, { ok: true, deliveryKey: `${SLACK_TIMESTAMP}:${SLACK_SIGNATURE.slice(3)}` });
});

Deno.test("verifySignature() rejects a Slack request outside the window, even when correctly signed", async () => {
  for (const offset of [301_000, -301_000, 86_400_000]) {
    const verdict = await verifySignature({
      verifier: "slack",
      secret: SLACK_SECRET,
      headers: slackHeaders(),
      body: SLACK_BODY,
      now: SLACK_NOW + offset,
    });
    assert.equal(!verdict.ok && verdict.reason, "stale_timestamp", String(offset));
  }
  const notNumber = await verifySignature({
    verifier: "slack",
    secret: SLACK_SECRET,
    headers: slackHeaders(SLACK_SIGNATURE, "soon"),
    body: SLACK_BODY,
    now: SLACK_NOW,
  });
  assert.equal(!notNumber.ok && notNumber.reason, "stale_timestamp");
});

Deno.test("verifySignature() rejects a Slack request whose timestamp was changed to pass the window", async () => {
  const fresh = String(Number(SLACK_TIMESTAMP) + 600);
  const verdict = await verifySignature({
    verifier: "slack",
    secret: SLACK_SECRET,
    headers: slackHeaders(SLACK_SIGNATURE, fresh),
    body: SLACK_BODY,
    now: Number(fresh) * 1000,
  });
  assert.equal(!verdict.ok && verdict.reason, "invalid_signature");
  const missing = await verifySignature({
    verifier: "slack",
    secret: SLACK_SECRET,
    headers: new Headers({ "x-slack-signature": SLACK_SIGNATURE }),
    body: SLACK_BODY,
  });
  assert.equal(!missing.ok && missing.reason, "missing_signature");
});

Deno.test("verifySignature() checks a generic HMAC over timestamp.body within the window", async () => {
  const secret = "generic-secret";
  const body = encode('{"build":42}');
  const now = 1_767_000_000_000;
  const timestamp = String(now / 1000);
  const signature = `sha256=${await hmacSha256Hex(secret, `${timestamp}.{"build":42}`)}`;
  const headers = new Headers({ "x-flue-signature": signature, "x-flue-timestamp": timestamp });
  assert.equal((await verifySignature({ verifier: "hmac", secret, headers, body, now })).ok, true);
  const stale = await verifySignature({ verifier: "hmac", secret, headers, body, now: now + 10 * 60_000 });
  assert.equal(!stale.ok && stale.reason, "stale_timestamp");
  const narrow = await verifySignature({
    verifier: "hmac",
    secret,
    headers,
    body,
    now: now + 61_000,
    toleranceSeconds: 60,
  });
  assert.equal(!narrow.ok && narrow.reason, "stale_timestamp");
  const forged = await verifySignature({ verifier: "hmac", secret, headers, body: encode('{"build":43}'), now });
  assert.equal(!forged.ok && forged.reason, "invalid_signature");
});

Deno.test("timingSafeEqual() compares every byte whatever the lengths", () => {
  assert.equal(timingSafeEqual(encode("abc"), encode("abc")), true);
  assert.equal(timingSafeEqual(encode("abc"), encode("abd")), false);
  assert.equal(timingSafeEqual(encode("abc"), encode("ab")), false);
  assert.equal(timingSafeEqual(encode(""), encode("")), true);
  assert.equal(timingSafeEqual(new Uint8Array([0]), new Uint8Array([])), false);
});
