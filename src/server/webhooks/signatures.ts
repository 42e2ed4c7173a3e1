/**
 * Webhook signature checks: GitHub (`X-Hub-Signature-256`), Slack (signing secret with a timestamp window) and a generic
 * HMAC over `timestamp.body`. All use HMAC-SHA256 through WebCrypto and compare in constant time, so they run anywhere
 * Deno does, Deno Deploy included.
 *
 * @module
 */

/** Which scheme a webhook is signed with: an HMAC scheme, or a chat platform's own (see `chat_platforms.ts`). */
export type WebhookVerifier = HmacVerifier | "discord" | "telegram" | "teams";

/** The schemes {@linkcode verifySignature} checks: HMAC-SHA256 over the body. */
export type HmacVerifier = "github" | "slack" | "hmac";

/** Why a delivery was refused. */
export type VerificationFailure = "missing_signature" | "invalid_signature" | "stale_timestamp";

/** The outcome of a signature check. */
export type Verification =
  | {
    /** The signature is valid and fresh. */
    ok: true;
    /**
     * A key naming this delivery, the same for any replay of it and covered by the signature: GitHub's body signature
     * (GitHub's redeliveries resend the same body), else the timestamp and signature.
     */
    deliveryKey: string;
  }
  | {
    /** The delivery is refused. */
    ok: false;
    /** Why. */
    reason: VerificationFailure;
    /** A sentence for the sender's logs; never contains the secret or the expected signature. */
    message: string;
  };

/** Options of {@linkcode verifySignature}. */
export interface VerifyOptions {
  /** The scheme. */
  verifier: HmacVerifier;
  /** The shared secret. */
  secret: string;
  /** The request's headers. */
  headers: Headers;
  /** The raw request body, exactly as received. */
  body: Uint8Array;
  /** How far a Slack or HMAC timestamp may be from now, in seconds; 300 by default. */
  toleranceSeconds?: number;
  /** The current time in milliseconds, for tests; `Date.now()` by default. */
  now?: number;
}

const encoder = new TextEncoder();

/**
 * Checks a delivery's signature, and for Slack and HMAC its timestamp.
 *
 * - `github`: `X-Hub-Signature-256: sha256=<hex>` over the body.
 * - `slack`: `X-Slack-Signature: v0=<hex>` over `v0:<X-Slack-Request-Timestamp>:<body>`, timestamp within the window.
 * - `hmac`: `X-Flue-Signature: sha256=<hex>` over `<X-Flue-Timestamp>.<body>`, timestamp (Unix seconds) within the
 *   window.
 *
 * @param options The scheme, secret, headers, raw body and window.
 * @returns Whether the delivery is genuine, with a key that names it, or why not.
 *
 * @example Verify a GitHub delivery
 * ```ts
 * import assert from "node:assert/strict";
 * import { hmacSha256Hex, verifySignature } from "./signatures.ts";
 *
 * const body = new TextEncoder().encode('{"zen":"Keep it logically awesome."}');
 * const signature = "sha256=" + await hmacSha256Hex("It's a Secret to Everybody", body);
 * const headers = new Headers({ "x-hub-signature-256": signature });
 * const verdict = await verifySignature({ verifier: "github", secret: "It's a Secret to Everybody", headers, body });
 * assert.equal(verdict.ok, true);
 * ```
 */
export async function verifySignature(options: VerifyOptions): Promise<Verification> {
  const { verifier, secret, headers, body } = options;
  const now = options.now ?? Date.now();
  const tolerance = options.toleranceSeconds ?? 300;
  if (verifier === "github") {
    const signature = headers.get("x-hub-signature-256");
    if (!signature) return refuse("missing_signature", "The X-Hub-Signature-256 header is missing");
    if (!await signatureMatches(secret, body, signature, "sha256=")) {
      return refuse("invalid_signature", "The X-Hub-Signature-256 signature does not match the body");
    }
    return { ok: true, deliveryKey: signature.slice("sha256=".length).toLowerCase() };
  }
  const [signatureHeader, timestampHeader, prefix] = verifier === "slack"
    ? ["x-slack-signature", "x-slack-request-timestamp", "v0="]
    : ["x-flue-signature", "x-flue-timestamp", "sha256="];
  const signature = headers.get(signatureHeader);
  const timestamp = headers.get(timestampHeader);
  if (!signature || !timestamp) {
    return refuse("missing_signature", `The ${signatureHeader} and ${timestampHeader} headers are both required`);
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return refuse(
      "stale_timestamp",
      `The ${timestampHeader} header must be Unix seconds, got ${JSON.stringify(timestamp)}`,
    );
  }
  if (Math.abs(now / 1000 - Number(timestamp)) > tolerance) {
    return refuse(
      "stale_timestamp",
      `The ${timestampHeader} is more than ${tolerance} seconds from now: a replay, or a clock that is off`,
    );
  }
  const signed = verifier === "slack"
    ? concat(encoder.encode(`v0:${timestamp}:`), body)
    : concat(encoder.encode(`${timestamp}.`), body);
  if (!await signatureMatches(secret, signed, signature, prefix)) {
    return refuse("invalid_signature", `The ${signatureHeader} signature does not match the timestamp and body`);
  }
  return { ok: true, deliveryKey: `${timestamp}:${signature.slice(prefix.length).toLowerCase()}` };
}

/**
 * HMAC-SHA256 of `data` under `secret`, as lowercase hex.
 *
 * @param secret The key.
 * @param data The message.
 * @returns 64 hex digits.
 */
export async function hmacSha256Hex(secret: string, data: Uint8Array | string): Promise<string> {
  const bytes = await hmacSha256(secret, typeof data === "string" ? encoder.encode(data) : data);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Compares two byte strings in time that depends only on their lengths, never on where they first differ.
 *
 * @param left One value.
 * @param right The other.
 * @returns Whether they are equal.
 */
export function timingSafeEqual(left: Uint8Array, right: Uint8Array): boolean {
  const length = Math.max(left.length, right.length);
  let difference = left.length ^ right.length;
  for (let index = 0; index < length; index++) difference |= (left[index] ?? 0) ^ (right[index] ?? 0);
  return difference === 0;
}

async function hmacSha256(secret: string, data: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data as Uint8Array<ArrayBuffer>));
}

async function signatureMatches(secret: string, data: Uint8Array, header: string, prefix: string): Promise<boolean> {
  const expected = await hmacSha256(secret, data);
  const given = header.startsWith(prefix) ? decodeHex(header.slice(prefix.length)) : undefined;
  // Compare even when the header is malformed, so its shape does not change the timing of the answer.
  return timingSafeEqual(given ?? new Uint8Array(expected.length), expected) && given !== undefined;
}

function decodeHex(text: string): Uint8Array | undefined {
  if (text.length !== 64 || !/^[0-9a-fA-F]+$/.test(text)) return undefined;
  return Uint8Array.from({ length: 32 }, (_, index) => parseInt(text.slice(index * 2, index * 2 + 2), 16));
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined;
}

function refuse(reason: VerificationFailure, message: string): Verification {
  return { ok: false, reason, message };
}
