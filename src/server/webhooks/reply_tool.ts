/**
 * `replyTool()`: lets an agent answer the chat or system whose webhook it is handling, explicitly, by posting to the
 * reply target the webhook stored with the dispatch (such as Slack's `response_url`).
 *
 * @module
 */

import { z } from "zod";
import { currentDispatch } from "../../agent/current_dispatch.ts";
import { defineTool, type FlueTool } from "../../tools/tool.ts";
import { replyUrlProblem } from "./webhook_config.ts";
import type { WebhookDispatchContext } from "./webhook_routes.ts";
import type { ReplyTarget } from "./_platform_deliveries.ts";

/** Options of {@linkcode replyTool}. */
export interface ReplyToolOptions {
  /** How long the receiver may take to answer, in milliseconds; 10 000 by default. */
  timeoutMs?: number;
  /** Reads the reply's token variable (`reply.tokenEnv`); `Deno.env.get` by default. */
  getEnv?: (name: string) => string | undefined;
}

/** What the model passes to the `reply` tool. */
export interface ReplyInput {
  /** The reply's text. */
  text: string;
}

/**
 * A tool named `reply` that posts `{ ...fields, text }` as JSON to the reply target of the webhook delivery being
 * handled; for Discord, Telegram and Teams deliveries it uses the platform's API instead (an interaction follow-up,
 * `sendMessage`, a Bot Framework reply activity). The target comes from the dispatch, never from the model, and was checked against the webhook's
 * `reply.allowedHosts` when the delivery arrived; the tool checks it again and never follows redirects. Outside a
 * webhook dispatch with a reply target, the call fails with a message the model sees and nothing is sent.
 *
 * Add it to the agents your webhooks dispatch to; it needs `--allow-net` for the reply hosts.
 *
 * @param options Timeout and where the token is read from.
 * @returns The tool.
 *
 * @example Give a webhook agent the reply tool
 * ```ts
 * import assert from "node:assert/strict";
 * import { replyTool } from "./reply_tool.ts";
 *
 * const reply = replyTool();
 * assert.equal(reply.name, "reply");
 * ```
 */
export function replyTool(options: ReplyToolOptions = {}): FlueTool<ReplyInput> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const getEnv = options.getEnv ?? ((name: string) => Deno.env.get(name));
  return defineTool({
    name: "reply",
    description: "Posts a reply to the chat or system whose webhook message you are handling. Use it once, with the " +
      "final answer, when the message asks for a response.",
    input: z.object({ text: z.string().min(1).max(40_000).describe("The reply, as plain text or Markdown") }),
    async run({ text }, { signal }) {
      const context = (currentDispatch()?.input as { context?: WebhookDispatchContext } | undefined)?.context;
      const target = context?.reply;
      if (target === undefined) {
        throw new Error("This message did not come from a webhook with a reply target, so there is nowhere to reply");
      }
      const problem = replyUrlProblem(target.url.replace("{token}", "token"), undefined);
      if (problem) throw new Error(`The reply target ${problem}; nothing was sent`);
      const request = await replyRequest(target, text, getEnv, signal);
      const response = await fetch(request.url, {
        method: "POST",
        headers: request.headers,
        body: JSON.stringify(request.body),
        redirect: "error",
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
      await response.body?.cancel();
      if (!response.ok) {
        throw new Error(`The reply receiver answered HTTP ${response.status}; the reply may not be shown`);
      }
      return `Reply sent to webhook "${context!.webhook}" (HTTP ${response.status})`;
    },
  });
}

// Discord's message content is at most 2000 characters; Telegram's text 4096.
const DISCORD_LIMIT = 2000;
const TELEGRAM_LIMIT = 4096;

async function replyRequest(
  target: ReplyTarget,
  text: string,
  getEnv: (name: string) => string | undefined,
  signal: AbortSignal,
): Promise<{ url: string; headers: Record<string, string>; body: unknown }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const token = () => {
    const value = target.tokenEnv === undefined ? undefined : getEnv(target.tokenEnv);
    if (!value) throw new Error(`The reply token variable ${target.tokenEnv} is not set; nothing was sent`);
    return value;
  };
  switch (target.platform) {
    case "discord":
      return { url: target.url, headers, body: { ...target.fields, content: text.slice(0, DISCORD_LIMIT) } };
    case "telegram":
      // The bot token goes into the path only here, so it is never stored with the dispatch nor shown in an error.
      if (!/^\d+:[A-Za-z0-9_-]+$/.test(token())) {
        throw new Error(`The bot token in ${target.tokenEnv} is not of the form <digits>:<letters>; nothing was sent`);
      }
      return {
        url: target.url.replace("{token}", token()),
        headers,
        body: { ...target.fields, text: text.slice(0, TELEGRAM_LIMIT) },
      };
    case "teams":
      headers.authorization = `Bearer ${await botFrameworkToken(target, token(), signal)}`;
      return { url: target.url, headers, body: { type: "message", ...target.fields, text } };
    default:
      if (target.tokenEnv !== undefined) headers.authorization = `Bearer ${token()}`;
      return { url: target.url, headers, body: { ...target.fields, text } };
  }
}

// Bot Framework reply tokens (client credentials of the bot's App ID and password), kept until shortly before expiry.
const botTokens = new Map<string, { token: string; expires: number }>();

async function botFrameworkToken(target: ReplyTarget, password: string, signal: AbortSignal): Promise<string> {
  if (!target.appId || !target.tokenUrl) throw new Error("The Teams reply target has no App ID; nothing was sent");
  const cacheKey = `${target.tokenUrl} ${target.appId}`;
  const cached = botTokens.get(cacheKey);
  if (cached && cached.expires > Date.now()) return cached.token;
  const response = await fetch(target.tokenUrl, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: target.appId,
      client_secret: password,
      scope: "https://api.botframework.com/.default",
    }),
    redirect: "error",
    signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
  });
  const answer = await response.json().catch(() => ({})) as { access_token?: unknown; expires_in?: unknown };
  if (!response.ok || typeof answer.access_token !== "string") {
    throw new Error(`The Bot Framework token endpoint answered HTTP ${response.status}; nothing was sent`);
  }
  const lifetime = typeof answer.expires_in === "number" ? answer.expires_in : 3600;
  botTokens.set(cacheKey, { token: answer.access_token, expires: Date.now() + (lifetime - 300) * 1000 });
  return answer.access_token;
}
