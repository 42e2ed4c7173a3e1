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
 * handled. The target comes from the dispatch, never from the model, and was checked against the webhook's
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
      const problem = replyUrlProblem(target.url, undefined);
      if (problem) throw new Error(`The reply target ${problem}; nothing was sent`);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (target.tokenEnv !== undefined) {
        const token = getEnv(target.tokenEnv);
        if (!token) throw new Error(`The reply token variable ${target.tokenEnv} is not set; nothing was sent`);
        headers.authorization = `Bearer ${token}`;
      }
      const response = await fetch(target.url, {
        method: "POST",
        headers,
        body: JSON.stringify({ ...target.fields, text }),
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
