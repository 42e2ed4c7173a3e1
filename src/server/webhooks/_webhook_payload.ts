/**
 * Reading a verified webhook body and turning it into the agent's message when the configuration gives no builder.
 *
 * @module
 */

import type { WebhookDelivery } from "./webhook_config.ts";
import { MAX_JSON_DEPTH, nestingDepth } from "../request_body.ts";
import type { WebhookVerifier } from "./signatures.ts";

// A message longer than this is cut, so one huge payload does not fill the model's context.
const MAX_DEFAULT_MESSAGE = 20_000;

/** A parsed body, or why it cannot be used. */
export type ParsedPayload = { ok: true; payload: unknown } | { ok: false; message: string };

/**
 * Parses the body: JSON, or a form (`application/x-www-form-urlencoded`, as Slack sends slash commands and
 * interactions) whose `payload` field, when present, holds JSON. JSON nested deeper than the server's limit for
 * request bodies is refused before it is parsed, as on every other route.
 *
 * @returns The payload, or why the body is refused.
 */
export function parsePayload(body: Uint8Array, contentType: string): ParsedPayload {
  const text = new TextDecoder().decode(body);
  if (/application\/x-www-form-urlencoded/i.test(contentType)) {
    const fields = Object.fromEntries(new URLSearchParams(text));
    if (typeof fields.payload !== "string") return { ok: true, payload: fields };
    const problem = depthProblem(fields.payload);
    if (problem) return { ok: false, message: `Its payload field ${problem}` };
    try {
      return { ok: true, payload: JSON.parse(fields.payload) };
    } catch {
      return { ok: true, payload: fields };
    }
  }
  const problem = depthProblem(text);
  if (problem) return { ok: false, message: `The body ${problem}` };
  try {
    return { ok: true, payload: JSON.parse(text) };
  } catch {
    return { ok: false, message: "It accepts JSON or form bodies only" };
  }
}

function depthProblem(text: string): string | undefined {
  const depth = nestingDepth(text);
  if (depth <= MAX_JSON_DEPTH) return undefined;
  return `nests ${depth} levels deep; the limit is ${MAX_JSON_DEPTH} levels of arrays and objects`;
}

/**
 * The kind of delivery: GitHub's event header, Slack's `type` or `command`, the generic `X-Flue-Event`, Discord's
 * interaction type, the kind of Telegram update, or the Teams activity's `type`.
 */
export function eventOf(verifier: WebhookVerifier, headers: Headers, payload: unknown): string {
  if (verifier === "github") return headers.get("x-github-event") ?? "";
  if (verifier === "hmac") return headers.get("x-flue-event") ?? "";
  const fields = (typeof payload === "object" && payload !== null ? payload : {}) as Record<string, unknown>;
  if (verifier === "discord") return DISCORD_TYPES[Number(fields.type)] ?? String(fields.type ?? "");
  if (verifier === "telegram") return Object.keys(fields).find((key) => key !== "update_id") ?? "";
  if (verifier === "teams") return String(fields.type ?? "");
  const event = fields.event as Record<string, unknown> | undefined;
  return String(event?.type ?? fields.command ?? fields.type ?? "");
}

const DISCORD_TYPES: Record<number, string> = {
  1: "ping",
  2: "application_command",
  3: "message_component",
  4: "autocomplete",
  5: "modal_submit",
};

const SOURCES: Record<WebhookVerifier, string> = {
  github: "GitHub",
  slack: "Slack",
  hmac: "Webhook",
  discord: "Discord",
  telegram: "Telegram",
  teams: "Teams",
};

/** The message an agent gets when the configuration has no `message` builder. */
export function defaultMessage(verifier: WebhookVerifier, delivery: WebhookDelivery): string {
  const payload = delivery.payload as Record<string, unknown>;
  const text = chatText(verifier, payload);
  if (text !== undefined && text.trim() !== "") return text;
  const action = typeof payload?.action === "string" ? ` (${payload.action})` : "";
  const heading = `${SOURCES[verifier]} ${
    delivery.event || "delivery"
  }${action} received by webhook "${delivery.name}":`;
  const json = JSON.stringify(delivery.payload, null, 1);
  const body = json.length > MAX_DEFAULT_MESSAGE ? `${json.slice(0, MAX_DEFAULT_MESSAGE)}\n[payload cut]` : json;
  return `${heading}\n${body}`;
}

// What a person wrote, for the platforms where a delivery carries it.
function chatText(verifier: WebhookVerifier, payload: Record<string, unknown> | undefined): string | undefined {
  const field = (value: unknown, ...path: string[]): unknown =>
    path.reduce((node, key) => (node as Record<string, unknown> | undefined)?.[key], value);
  const asText = (value: unknown) => typeof value === "string" ? value : undefined;
  switch (verifier) {
    case "slack":
      return asText(field(payload, "event", "text")) ?? asText(payload?.text);
    case "telegram":
      return asText(field(payload, "message", "text")) ?? asText(field(payload, "edited_message", "text")) ??
        asText(field(payload, "callback_query", "data"));
    case "teams":
      // Mentions of the bot arrive as <at>Name</at> inside the text.
      return asText(payload?.text)?.replace(/<at>[^<]*<\/at>/g, "").trim();
    case "discord": {
      const data = payload?.data as { name?: unknown; options?: unknown; custom_id?: unknown } | undefined;
      if (typeof data?.name === "string") {
        const options = Array.isArray(data.options)
          ? data.options.map((option: { name?: unknown; value?: unknown }) => ` ${option.name}: ${option.value}`)
          : [];
        return `/${data.name}${options.join("")}`;
      }
      return asText(data?.custom_id);
    }
    default:
      return undefined;
  }
}
