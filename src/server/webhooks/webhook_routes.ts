/**
 * `webhookRoutes(webhooks)`: the Hono app behind `POST /webhooks/:name`. Each delivery is verified (signature in
 * constant time, timestamp window, replay) before anything else, then dispatched durably to the configured agent.
 *
 * @module
 */

import { Hono } from "hono";
import type { CreateAppOptions } from "../app.ts";
import { HttpError } from "../errors.ts";
import { defaultMessage, eventOf, parsePayload } from "./_webhook_payload.ts";
import {
  acceptedAnswer,
  checkVerifiedClaims,
  deliveryKeyOf,
  handshakeAnswer,
  platformReplyTarget,
  type ReplyTarget,
  verifyDelivery,
} from "./_platform_deliveries.ts";
import {
  checkWebhookDefinitions,
  replyUrlProblem,
  type WebhookDefinition,
  type WebhookDelivery,
} from "./webhook_config.ts";

/** Options of {@linkcode webhookRoutes}. */
export interface WebhookRoutesOptions {
  /** Reads a secret or token variable; `Deno.env.get` by default (needs `--allow-env` for those names). */
  getEnv?: (name: string) => string | undefined;
}

/** The dispatch `context` a webhook stores with its input; the `reply` tool reads it. */
export type WebhookDispatchContext = {
  /** The webhook's name. */
  webhook: string;
  /** The delivery's event. */
  event: string;
  /** GitHub's `X-GitHub-Delivery`, when sent (for the record; not trusted for replay protection). */
  deliveryId?: string;
  /** Where a reply goes, already checked against the allow-list. */
  reply?: ReplyTarget;
};

/**
 * Builds the webhook app for `createApp({ webhooks })`, which mounts it at `/webhooks`. Responses:
 * 202 `{ dispatchId, acceptedAt }` when dispatched (Discord: 200 with a deferred interaction response); 200 for a GitHub
 * `ping`, a Slack `url_verification` (answered with its `challenge`), a Discord PING or a delivery the `message`
 * builder skips; 401 for a missing or wrong signature or a stale
 * timestamp; 409 for a replayed delivery; 404 for an unknown webhook; 400 for a body that is neither JSON nor a form.
 *
 * @param webhooks The webhooks by name; checked at once.
 * @param options Where secrets are read from.
 * @returns The mount function `createApp` calls with the server's store and agents.
 * @throws {TypeError} For an invalid configuration, naming the webhook and key.
 *
 * @example Serve a GitHub webhook
 * ```ts ignore
 * import { createApp, MemoryStore, webhookRoutes } from "flue";
 *
 * const app = createApp({
 *   store: new MemoryStore(),
 *   agents: { triage: { model: "test" } },
 *   worker: true,
 *   webhooks: webhookRoutes({
 *     github: { verify: "github", secretEnv: "GITHUB_WEBHOOK_SECRET", agent: "triage" },
 *   }),
 * });
 * ```
 */
export function webhookRoutes(
  webhooks: Readonly<Record<string, WebhookDefinition>>,
  options: WebhookRoutesOptions = {},
): NonNullable<CreateAppOptions["webhooks"]> {
  checkWebhookDefinitions(webhooks);
  const getEnv = options.getEnv ?? ((name: string) => Deno.env.get(name));
  return (context) => {
    for (const [name, definition] of Object.entries(webhooks)) {
      if (!context.agents.has(definition.agent)) {
        throw new TypeError(
          `Webhook "${name}" dispatches to agent "${definition.agent}", which the server does not serve`,
        );
      }
    }
    const app = new Hono();
    app.post("/:name", async (c) => {
      const name = c.req.param("name");
      const definition = Object.hasOwn(webhooks, name) ? webhooks[name] : undefined;
      if (definition === undefined) {
        throw new HttpError(404, "webhook_not_found", `No webhook named "${name}": configure it in webhookRoutes()`);
      }
      const read = (variable: string) => readEnv(getEnv, variable);
      const body = new Uint8Array(await c.req.arrayBuffer());
      const headers = c.req.raw.headers;
      const verdict = await verifyDelivery(name, definition, read, headers, body);
      if (!verdict.ok) {
        throw new HttpError(401, verdict.reason, `Webhook "${name}" refused the delivery: ${verdict.message}`);
      }

      const parsed = parsePayload(body, headers.get("content-type") ?? "");
      if (!parsed.ok) {
        throw new HttpError(400, "invalid_payload", `Webhook "${name}" refused the body: ${parsed.message}`);
      }
      const payload = parsed.payload;
      const delivery: WebhookDelivery = { name, payload, headers, event: eventOf(definition.verify, headers, payload) };
      checkVerifiedClaims(name, delivery, verdict);
      const handshake = handshakeAnswer(definition, delivery);
      if (handshake !== undefined) return c.json(handshake, 200);
      const message = definition.message ? definition.message(delivery) : defaultMessage(definition.verify, delivery);
      if (message === undefined) return c.json({ ignored: true, event: delivery.event }, 200);

      const deliveryKey = deliveryKeyOf(name, definition, delivery, verdict.deliveryKey);
      // Admitted through the store, not dispatch(): a repeated delivery key is a replay whatever the unsigned parts of
      // the request (GitHub's event header) made of the message, never "a different input".
      const { record, created } = await context.store.enqueueDispatch({
        key: {
          agent: definition.agent,
          instanceId: pick(definition.instance, delivery, name),
          session: pick(definition.session, delivery, "default"),
        },
        input: { message: checkMessage(message, name), context: dispatchContext(definition, delivery, read) },
        idempotencyKey: `webhook:${name}:${deliveryKey}`.slice(0, 255),
        maxAttempts: definition.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      });
      if (!created) {
        throw new HttpError(409, "duplicate_delivery", `Webhook "${name}" already received this delivery`, {
          details: { dispatchId: record.dispatchId, status: record.status },
        });
      }
      context.onDispatch();
      const answer = acceptedAnswer(definition, { dispatchId: record.dispatchId, acceptedAt: record.acceptedAt });
      return c.json(answer.body, answer.status);
    });
    return app;
  };
}

function readEnv(getEnv: (name: string) => string | undefined, name: string): string | undefined {
  try {
    return getEnv(name);
  } catch {
    // Not permitted to read it: treated as unset, and the error says which variable to provide.
    return undefined;
  }
}

const DEFAULT_MAX_ATTEMPTS = 5;
const MAX_NAME_LENGTH = 256;

function checkMessage(message: unknown, name: string): string {
  if (typeof message !== "string" || message.trim() === "") {
    throw new HttpError(
      500,
      "webhook_misconfigured",
      `Webhook "${name}": its message builder returned ${JSON.stringify(message)}; return a non-empty string, ` +
        "or undefined to skip the delivery",
    );
  }
  return message;
}

function pick(
  choice: string | ((delivery: WebhookDelivery) => string) | undefined,
  delivery: WebhookDelivery,
  fallback: string,
): string {
  const value = typeof choice === "function" ? choice(delivery) : choice ?? fallback;
  if (typeof value !== "string" || value === "" || value.length > MAX_NAME_LENGTH) {
    throw new HttpError(
      422,
      "unroutable_delivery",
      `Webhook "${delivery.name}" could not pick an instance or session (1 to ${MAX_NAME_LENGTH} characters)`,
    );
  }
  return value;
}

function dispatchContext(
  definition: WebhookDefinition,
  delivery: WebhookDelivery,
  read: (name: string) => string | undefined,
): WebhookDispatchContext {
  const context: WebhookDispatchContext = { webhook: delivery.name, event: delivery.event };
  const deliveryId = delivery.headers.get("x-github-delivery");
  if (definition.verify === "github" && deliveryId) context.deliveryId = deliveryId;
  const reply = definition.reply;
  if (reply === undefined) {
    const target = platformReplyTarget(definition, delivery, read);
    if (target !== undefined) context.reply = target;
    return context;
  }
  const url = typeof reply.url === "function" ? reply.url(delivery) : reply.url;
  if (url === undefined) return context;
  const problem = replyUrlProblem(url, typeof reply.url === "function" ? reply.allowedHosts : undefined);
  if (problem) {
    throw new HttpError(
      422,
      "reply_url_not_allowed",
      `Webhook "${delivery.name}": the delivery's reply URL ${problem}`,
    );
  }
  context.reply = { url, fields: reply.fields?.(delivery), tokenEnv: reply.tokenEnv };
  return context;
}
