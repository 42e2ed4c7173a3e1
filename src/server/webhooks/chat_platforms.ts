/**
 * How the chat platforms prove a delivery is theirs: Discord signs `timestamp + body` with Ed25519, Telegram sends the
 * secret token given to `setWebhook`, and Microsoft Teams (Bot Framework) sends a JWT bearer token signed by one of the
 * Bot Framework's RSA keys. All checks use WebCrypto, so they run wherever Deno does.
 *
 * @module
 */

import { timingSafeEqual, type Verification } from "./signatures.ts";

const encoder = new TextEncoder();

/**
 * Checks a Discord interaction: `X-Signature-Ed25519` (hex) over `X-Signature-Timestamp` followed by the body, under
 * the application's public key (hex), with the timestamp within the window.
 *
 * @param publicKeyHex The application's public key, as the Developer Portal shows it.
 * @param headers The request's headers.
 * @param body The raw body.
 * @param toleranceSeconds How far the timestamp may be from now.
 * @param now The current time in milliseconds.
 * @returns Whether the delivery is genuine; its key is the timestamp and signature.
 */
export async function verifyDiscord(
  publicKeyHex: string,
  headers: Headers,
  body: Uint8Array,
  toleranceSeconds = 300,
  now: number = Date.now(),
): Promise<Verification> {
  const signature = headers.get("x-signature-ed25519");
  const timestamp = headers.get("x-signature-timestamp");
  if (!signature || !timestamp) {
    return refuse("missing_signature", "The X-Signature-Ed25519 and X-Signature-Timestamp headers are both required");
  }
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) {
    return refuse(
      "stale_timestamp",
      `The X-Signature-Timestamp is not Unix seconds within ${toleranceSeconds} seconds of now`,
    );
  }
  const keyBytes = hexBytes(publicKeyHex, 32);
  if (!keyBytes) throw new TypeError("The Discord public key must be 64 hex digits, as the Developer Portal shows it");
  const signatureBytes = hexBytes(signature, 64);
  if (!signatureBytes) return refuse("invalid_signature", "The X-Signature-Ed25519 header is not 128 hex digits");
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "Ed25519" }, false, ["verify"]);
  const signed = new Uint8Array([...encoder.encode(timestamp), ...body]);
  if (!await crypto.subtle.verify({ name: "Ed25519" }, key, signatureBytes, signed)) {
    return refuse("invalid_signature", "The X-Signature-Ed25519 signature does not match the timestamp and body");
  }
  return { ok: true, deliveryKey: `${timestamp}:${signature.toLowerCase()}` };
}

/**
 * Checks a Telegram update: `X-Telegram-Bot-Api-Secret-Token` must equal the secret token given to `setWebhook`,
 * compared in constant time. Telegram signs nothing else, so replays are caught by the update's `update_id`.
 *
 * @param secret The secret token.
 * @param headers The request's headers.
 * @returns Whether the token matches.
 */
export function verifyTelegram(secret: string, headers: Headers): Verification {
  const given = headers.get("x-telegram-bot-api-secret-token");
  if (!given) return refuse("missing_signature", "The X-Telegram-Bot-Api-Secret-Token header is missing");
  if (!timingSafeEqual(encoder.encode(given), encoder.encode(secret))) {
    return refuse("invalid_signature", "The X-Telegram-Bot-Api-Secret-Token does not match the configured secret");
  }
  return { ok: true, deliveryKey: "" };
}

/** A JSON Web Key Set: `{ keys: [...] }`. */
export interface JsonWebKeySet {
  /** The keys, RSA (`kty: "RSA"`, `n`, `e`) with a `kid`. */
  keys: (JsonWebKey & { kid?: string })[];
}

/** What a Bot Framework token is checked against. */
export interface BotFrameworkCheck {
  /** The bot's Microsoft App ID: the token's audience. */
  appId: string;
  /** The signing keys. */
  keys: JsonWebKeySet;
  /** The issuer; `https://api.botframework.com` by default. */
  issuer?: string;
  /** Clock skew allowed on `exp` and `nbf`, in seconds; 300 by default. */
  toleranceSeconds?: number;
  /** The current time in milliseconds. */
  now?: number;
}

/** A verified Bot Framework token's claims that the route uses. */
export type BotFrameworkVerification = Verification & { serviceUrl?: string };

/**
 * Checks the `Authorization: Bearer <JWT>` of a Bot Framework activity: RS256 signature under the key its `kid` names,
 * issuer, audience (the App ID), expiry and not-before. The token does not cover the body; the route checks that the
 * activity's `serviceUrl` equals the token's `serviceurl` claim, so replies go only where Microsoft said.
 *
 * @param headers The request's headers.
 * @param check The App ID, keys and issuer.
 * @returns Whether the token is valid, with its `serviceurl` claim.
 */
export async function verifyBotFramework(
  headers: Headers,
  check: BotFrameworkCheck,
): Promise<BotFrameworkVerification> {
  const authorization = headers.get("authorization") ?? "";
  const match = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(authorization);
  if (!match) return refuse("missing_signature", "The Authorization header must be a Bot Framework bearer token");
  const [, headerPart, payloadPart, signaturePart] = match;
  let header: { alg?: string; kid?: string };
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(base64UrlBytes(headerPart)));
    claims = JSON.parse(new TextDecoder().decode(base64UrlBytes(payloadPart)));
  } catch {
    return refuse("invalid_signature", "The bearer token is not a well-formed JWT");
  }
  if (header.alg !== "RS256") return refuse("invalid_signature", `The bearer token's algorithm must be RS256`);
  const jwk = check.keys.keys.find((key) => key.kid === header.kid && key.kty === "RSA");
  if (!jwk) return refuse("invalid_signature", "The bearer token is signed with a key that is not configured");
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty: "RSA", n: jwk.n, e: jwk.e },
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const isValid = await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    key,
    base64UrlBytes(signaturePart),
    encoder.encode(`${headerPart}.${payloadPart}`),
  );
  if (!isValid) return refuse("invalid_signature", "The bearer token's signature does not match");
  const now = (check.now ?? Date.now()) / 1000;
  const tolerance = check.toleranceSeconds ?? 300;
  if (claims.iss !== (check.issuer ?? "https://api.botframework.com")) {
    return refuse("invalid_signature", "The bearer token was issued by someone other than the Bot Framework");
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(check.appId)) {
    return refuse("invalid_signature", "The bearer token is for another bot (its audience is not this App ID)");
  }
  if (typeof claims.exp !== "number" || claims.exp + tolerance < now) {
    return refuse("stale_timestamp", "The bearer token has expired");
  }
  if (typeof claims.nbf === "number" && claims.nbf - tolerance > now) {
    return refuse("stale_timestamp", "The bearer token is not valid yet");
  }
  const verification: BotFrameworkVerification = { ok: true, deliveryKey: "" };
  if (typeof claims.serviceurl === "string") verification.serviceUrl = claims.serviceurl;
  return verification;
}

/**
 * Reads the Bot Framework's signing keys from a JWKS URL, keeping them for an hour.
 *
 * @param url The JWKS URL.
 * @returns The key set.
 */
export async function fetchKeySet(url: string): Promise<JsonWebKeySet> {
  const cached = keySets.get(url);
  if (cached && cached.expires > Date.now()) return cached.keys;
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: "error" });
  if (!response.ok) throw new Error(`The signing keys at ${url} answered HTTP ${response.status}`);
  const keys = await response.json() as JsonWebKeySet;
  if (!Array.isArray(keys?.keys)) throw new Error(`The signing keys at ${url} are not a JSON Web Key Set`);
  keySets.set(url, { keys, expires: Date.now() + 3_600_000 });
  return keys;
}

const keySets = new Map<string, { keys: JsonWebKeySet; expires: number }>();

function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - text.length % 4) % 4);
  return Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
}

function hexBytes(text: string, length: number): Uint8Array<ArrayBuffer> | undefined {
  if (text.length !== length * 2 || !/^[0-9a-fA-F]+$/.test(text)) return undefined;
  return Uint8Array.from({ length }, (_, index) => parseInt(text.slice(index * 2, index * 2 + 2), 16));
}

function refuse(reason: "missing_signature" | "invalid_signature" | "stale_timestamp", message: string): Verification {
  return { ok: false, reason, message };
}
