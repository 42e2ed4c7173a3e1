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

/** The kind of delivery: GitHub's event header, Slack's `type` or `command`, or the generic `X-Flue-Event`. */
export function eventOf(verifier: WebhookVerifier, headers: Headers, payload: unknown): string {
  if (verifier === "github") return headers.get("x-github-event") ?? "";
  if (verifier === "hmac") return headers.get("x-flue-event") ?? "";
  const fields = payload as Record<string, unknown>;
  const event = fields?.event as Record<string, unknown> | undefined;
  return String(event?.type ?? fields?.command ?? fields?.type ?? "");
}

/** The message an agent gets when the configuration has no `message` builder. */
export function defaultMessage(verifier: WebhookVerifier, delivery: WebhookDelivery): string {
  const payload = delivery.payload as Record<string, unknown>;
  if (verifier === "slack") {
    const event = payload?.event as Record<string, unknown> | undefined;
    const text = event?.text ?? payload?.text;
    if (typeof text === "string" && text.trim() !== "") return text;
  }
  const source = verifier === "github" ? "GitHub" : verifier === "slack" ? "Slack" : "Webhook";
  const action = typeof payload?.action === "string" ? ` (${payload.action})` : "";
  const heading = `${source} ${delivery.event || "delivery"}${action} received by webhook "${delivery.name}":`;
  const json = JSON.stringify(delivery.payload, null, 1);
  const body = json.length > MAX_DEFAULT_MESSAGE ? `${json.slice(0, MAX_DEFAULT_MESSAGE)}\n[payload cut]` : json;
  return `${heading}\n${body}`;
}
