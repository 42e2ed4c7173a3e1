/**
 * What differs per chat platform once a delivery reaches `POST /webhooks/:name`: how it is verified, which deliveries
 * are handshakes answered at once, which signed field names a delivery for replay protection, where the `reply` tool
 * answers, and what the platform expects as the immediate answer.
 *
 * @module
 */

import { HttpError } from "../errors.ts";
import {
  type BotFrameworkVerification,
  fetchKeySet,
  verifyBotFramework,
  verifyDiscord,
  verifyTelegram,
} from "./chat_platforms.ts";
import { verifySignature } from "./signatures.ts";
import { replyUrlProblem, type WebhookDefinition, type WebhookDelivery } from "./webhook_config.ts";

/** Where and how the `reply` tool answers a delivery; stored with the dispatch, never shown to the model. */
export interface ReplyTarget {
  /** The URL replies are posted to; for Telegram it holds `{token}`, filled in when the reply is sent. */
  url: string;
  /** Extra JSON fields of the reply. */
  fields?: Record<string, unknown>;
  /** The variable whose value authenticates replies (a bearer token, Telegram's bot token, Teams' App password). */
  tokenEnv?: string;
  /** How the reply is sent: plain JSON `{ ...fields, text }` when omitted, else the platform's API. */
  platform?: "discord" | "telegram" | "teams";
  /** Teams: the App ID that obtains reply tokens. */
  appId?: string;
  /** Teams: where reply tokens are obtained. */
  tokenUrl?: string;
}

const DEFAULT_JWKS_URL = "https://login.botframework.com/v1/.well-known/keys";
const DEFAULT_TOKEN_URL = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token";

type Read = (name: string) => string | undefined;

/**
 * Verifies a delivery by the webhook's scheme.
 *
 * @returns The verification; for Teams, with the token's `serviceurl` claim.
 * @throws {HttpError} 500 when a secret, App ID or the signing keys cannot be had.
 */
export async function verifyDelivery(
  name: string,
  definition: WebhookDefinition,
  read: Read,
  headers: Headers,
  body: Uint8Array,
): Promise<BotFrameworkVerification> {
  const verify = definition.verify;
  if (verify === "teams") {
    const platform = definition.platform ?? {};
    const appId = platform.appId ?? read(platform.appIdEnv!);
    if (!appId) throw misconfigured(name, `set the environment variable ${platform.appIdEnv} to the bot's App ID`);
    let keys = platform.jwks;
    if (keys === undefined) {
      const url = platform.jwksUrl ?? DEFAULT_JWKS_URL;
      try {
        keys = await fetchKeySet(url);
      } catch (error) {
        throw new HttpError(503, "webhook_keys_unavailable", `Webhook "${name}" could not read its signing keys`, {
          cause: error,
        });
      }
    }
    return await verifyBotFramework(headers, {
      appId,
      keys,
      issuer: platform.issuer,
      toleranceSeconds: definition.toleranceSeconds,
    });
  }
  const secret = definition.secret ?? read(definition.secretEnv!);
  if (!secret) throw misconfigured(name, `set the environment variable ${definition.secretEnv}`);
  if (verify === "telegram") return verifyTelegram(secret, headers);
  if (verify === "discord") {
    try {
      return await verifyDiscord(secret, headers, body, definition.toleranceSeconds);
    } catch (error) {
      throw misconfigured(name, (error as Error).message);
    }
  }
  return await verifySignature({
    verifier: verify,
    secret,
    headers,
    body,
    toleranceSeconds: definition.toleranceSeconds,
  });
}

/**
 * The answer to a handshake that needs no agent: GitHub's `ping`, Slack's `url_verification`, Discord's PING.
 *
 * @returns The JSON to answer with 200, or `undefined` for a real delivery.
 */
export function handshakeAnswer(definition: WebhookDefinition, delivery: WebhookDelivery): unknown {
  const fields = delivery.payload as Record<string, unknown> | undefined;
  if (definition.verify === "github" && delivery.event === "ping") return { ok: true, event: "ping" };
  if (definition.verify === "slack" && fields?.type === "url_verification") return { challenge: fields.challenge };
  if (definition.verify === "discord" && fields?.type === 1) return { type: 1 };
  return undefined;
}

/**
 * The key naming a delivery, the same for every replay of it.
 *
 * @param verifiedKey The key from the signature check (the signature itself, where it covers the body).
 * @returns The key.
 * @throws {HttpError} 400 when the field that names a platform's delivery is missing.
 */
export function deliveryKeyOf(
  name: string,
  definition: WebhookDefinition,
  delivery: WebhookDelivery,
  verifiedKey: string,
): string {
  const fields = delivery.payload as Record<string, unknown> | undefined;
  const need = (value: unknown, what: string): string => {
    if ((typeof value !== "string" && typeof value !== "number") || value === "") {
      throw new HttpError(400, "invalid_payload", `Webhook "${name}" needs ${what} in the body`);
    }
    return String(value);
  };
  switch (definition.verify) {
    case "slack":
      // Slack retries an event with a new timestamp and signature but the same signed event_id.
      return typeof fields?.event_id === "string" ? `event:${fields.event_id}` : verifiedKey;
    case "discord":
      return `interaction:${need(fields?.id, "the interaction's id")}`;
    case "telegram":
      return `update:${need(fields?.update_id, "update_id")}`;
    case "teams": {
      const conversation = (fields?.conversation as { id?: unknown } | undefined)?.id;
      return `activity:${need(conversation, "conversation.id")}:${need(fields?.id, "the activity's id")}`;
    }
    default:
      return verifiedKey;
  }
}

/**
 * Checks what only the verified token vouches for: a Teams activity's `serviceUrl` must be the token's.
 *
 * @throws {HttpError} 401 when they differ.
 */
export function checkVerifiedClaims(name: string, delivery: WebhookDelivery, verdict: BotFrameworkVerification): void {
  const serviceUrl = (delivery.payload as { serviceUrl?: unknown } | undefined)?.serviceUrl;
  if (verdict.serviceUrl !== undefined && serviceUrl !== verdict.serviceUrl) {
    throw new HttpError(
      401,
      "invalid_signature",
      `Webhook "${name}" refused the delivery: its serviceUrl is not the one the bearer token names`,
    );
  }
}

/**
 * The reply target a chat platform's delivery carries, when the webhook configures no `reply` of its own.
 *
 * @returns The target, or `undefined` when the delivery has nowhere to reply.
 * @throws {HttpError} 422 when the delivery's reply address is not acceptable.
 */
export function platformReplyTarget(
  definition: WebhookDefinition,
  delivery: WebhookDelivery,
  read: Read,
): ReplyTarget | undefined {
  const fields = (delivery.payload ?? {}) as Record<string, unknown>;
  const platform = definition.platform ?? {};
  const segment = (value: unknown) => typeof value === "string" && /^[A-Za-z0-9_.-]{1,512}$/.test(value);
  switch (definition.verify) {
    case "discord": {
      if (!segment(fields.application_id) || !segment(fields.token)) return undefined;
      const base = platform.apiBaseURL ?? "https://discord.com/api/v10";
      return { platform: "discord", url: `${base}/webhooks/${fields.application_id}/${fields.token}` };
    }
    case "telegram": {
      const message = (fields.message ?? fields.edited_message ??
        (fields.callback_query as { message?: unknown } | undefined)?.message) as
          | { chat?: { id?: unknown }; message_id?: unknown }
          | undefined;
      const chatId = message?.chat?.id;
      if (typeof chatId !== "number" && typeof chatId !== "string") return undefined;
      const base = platform.apiBaseURL ?? "https://api.telegram.org";
      const replyFields: Record<string, unknown> = { chat_id: chatId };
      if (typeof message?.message_id === "number") {
        replyFields.reply_parameters = { message_id: message.message_id, allow_sending_without_reply: true };
      }
      return {
        platform: "telegram",
        url: `${base}/bot{token}/sendMessage`,
        fields: replyFields,
        tokenEnv: platform.botTokenEnv ?? "TELEGRAM_BOT_TOKEN",
      };
    }
    case "teams": {
      const serviceUrl = fields.serviceUrl;
      const conversation = (fields.conversation as { id?: unknown } | undefined)?.id;
      if (typeof serviceUrl !== "string" || typeof conversation !== "string" || typeof fields.id !== "string") {
        return undefined;
      }
      const problem = replyUrlProblem(serviceUrl, undefined);
      if (problem) {
        throw new HttpError(422, "reply_url_not_allowed", `Webhook "${delivery.name}": the serviceUrl ${problem}`);
      }
      const appId = platform.appId ?? read(platform.appIdEnv!);
      return {
        platform: "teams",
        url: `${serviceUrl.replace(/\/+$/, "")}/v3/conversations/${encodeURIComponent(conversation)}/activities/${
          encodeURIComponent(fields.id)
        }`,
        fields: { replyToId: fields.id },
        tokenEnv: platform.appPasswordEnv ?? "MICROSOFT_APP_PASSWORD",
        appId,
        tokenUrl: platform.tokenUrl ?? DEFAULT_TOKEN_URL,
      };
    }
    default:
      return undefined;
  }
}

/**
 * The immediate answer to an accepted delivery: Discord wants an interaction response (a deferred reply, answered
 * later by the `reply` tool); the others get the dispatch receipt.
 */
export function acceptedAnswer(
  definition: WebhookDefinition,
  receipt: { dispatchId: string; acceptedAt: string },
): { status: 200 | 202; body: unknown } {
  if (definition.verify === "discord") return { status: 200, body: { type: 5 } };
  return { status: 202, body: receipt };
}

function misconfigured(name: string, fix: string): HttpError {
  return new HttpError(500, "webhook_misconfigured", `Webhook "${name}" is not configured: ${fix}`);
}
