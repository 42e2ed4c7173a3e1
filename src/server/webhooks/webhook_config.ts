/**
 * How each webhook is configured: the verifier and its secret, which agent instance and session a delivery goes to,
 * how the message is built from the payload, and where the agent's reply may go.
 *
 * @module
 */

import type { JsonWebKeySet } from "./chat_platforms.ts";
import type { WebhookVerifier } from "./signatures.ts";

/** A verified delivery, as the routing and message functions see it. */
export interface WebhookDelivery {
  /** The webhook's name (the `:name` of `/webhooks/:name`). */
  name: string;
  /** The parsed body: JSON, or the fields of a form body (Slack's `payload` field parsed as JSON). */
  payload: unknown;
  /** The request's headers. */
  headers: Headers;
  /**
   * What kind of delivery it is: GitHub's `X-GitHub-Event` (`issues`, `push`, ...), Slack's `type` or `command`, or
   * the generic sender's `X-Flue-Event`; empty when the sender says nothing.
   */
  event: string;
}

/** Where the agent's answer may be posted, and how; see `docs/webhooks.md`. */
export interface WebhookReply {
  /**
   * The URL replies are posted to: fixed, or picked from the delivery (such as Slack's `response_url`). A picked URL
   * must be https (or http on loopback) and its host must be in `allowedHosts`; return `undefined` for no reply target.
   */
  url: string | ((delivery: WebhookDelivery) => string | undefined);
  /** Hosts (`hooks.slack.com`, or `host:port`) a picked URL may point at. Required when `url` is a function. */
  allowedHosts?: readonly string[];
  /** Extra JSON fields sent with the reply's `text`, such as `{ channel, thread_ts }` or `{ response_type }`. */
  fields?: (delivery: WebhookDelivery) => Record<string, unknown> | undefined;
  /** An environment variable whose value is sent as a bearer token with replies (read when the reply is sent). */
  tokenEnv?: string;
}

/** Settings of the chat platforms (`discord`, `telegram`, `teams`); see `docs/webhooks.md`. */
export interface ChatPlatformOptions {
  /**
   * The platform's API base URL, where replies go: `https://discord.com/api/v10` for Discord and
   * `https://api.telegram.org` for Telegram by default (set it for a proxy or a local fake).
   */
  apiBaseURL?: string;
  /** Telegram: the variable holding the bot token that replies are sent with; `TELEGRAM_BOT_TOKEN` by default. */
  botTokenEnv?: string;
  /** Teams: the bot's Microsoft App ID, the audience its tokens must name. */
  appId?: string;
  /** Teams: the variable holding the App ID, instead of `appId`. */
  appIdEnv?: string;
  /** Teams: the variable holding the App password (client secret) replies authenticate with; `MICROSOFT_APP_PASSWORD`. */
  appPasswordEnv?: string;
  /** Teams: the signing keys, given inline; otherwise read from `jwksUrl`. */
  jwks?: JsonWebKeySet;
  /** Teams: where the signing keys are read (kept an hour); `https://login.botframework.com/v1/.well-known/keys`. */
  jwksUrl?: string;
  /** Teams: the token issuer; `https://api.botframework.com` by default. */
  issuer?: string;
  /** Teams: where reply tokens are obtained; Microsoft's `botframework.com` token endpoint by default. */
  tokenUrl?: string;
}

/** One webhook, served at `POST /webhooks/<name>`. */
export interface WebhookDefinition {
  /**
   * The signature scheme: `github`, `slack`, `hmac`, `discord`, `telegram` or `teams` (see `docs/webhooks.md`).
   */
  verify: WebhookVerifier;
  /**
   * The environment variable holding the shared secret (read at each delivery, so a rotated secret applies at once):
   * for Discord the application's public key, for Telegram the `secret_token` given to `setWebhook`. Teams needs none.
   */
  secretEnv?: string;
  /** The shared secret itself, instead of `secretEnv`. */
  secret?: string;
  /** Chat platform settings: reply endpoints, the Telegram bot token, the Teams App ID and keys. */
  platform?: ChatPlatformOptions;
  /** The agent a delivery is dispatched to. */
  agent: string;
  /** The agent instance id: fixed, or picked from the delivery; the webhook's name by default. */
  instance?: string | ((delivery: WebhookDelivery) => string);
  /** The session: fixed, or picked from the delivery; `default` by default. */
  session?: string | ((delivery: WebhookDelivery) => string);
  /**
   * Builds the agent's message from the delivery; return `undefined` to acknowledge the delivery without dispatching
   * (an event you do not handle). By default, a line naming the event and the payload as JSON (Slack: its text).
   */
  message?: (delivery: WebhookDelivery) => string | undefined;
  /** Where the agent's `reply` tool posts; without it the tool reports that there is no reply target. */
  reply?: WebhookReply;
  /** How far a Slack or HMAC timestamp may be from now, in seconds; 300 (five minutes) by default. */
  toleranceSeconds?: number;
  /** Attempts before the dispatch is dead; the dispatch default (5) when omitted. */
  maxAttempts?: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VERIFIERS: readonly string[] = ["github", "slack", "hmac", "discord", "telegram", "teams"];
const KEYS: readonly string[] = [
  "verify",
  "secretEnv",
  "secret",
  "agent",
  "instance",
  "session",
  "message",
  "reply",
  "platform",
  "toleranceSeconds",
  "maxAttempts",
];

/**
 * Checks every webhook's configuration at start-up, so a typo fails there and not at the first delivery.
 *
 * @param webhooks The webhooks by name.
 * @throws {TypeError} Naming the webhook, the key and the fix.
 */
export function checkWebhookDefinitions(webhooks: Readonly<Record<string, WebhookDefinition>>): void {
  if (typeof webhooks !== "object" || webhooks === null) {
    throw new TypeError("webhookRoutes() needs an object of webhooks by name, such as { github: { verify, ... } }");
  }
  for (const [name, definition] of Object.entries(webhooks)) {
    const where = `Webhook "${name}"`;
    if (!NAME.test(name)) {
      throw new TypeError(`${where}: a name is a letter or digit, then letters, digits, ".", "_" or "-" (at most 64)`);
    }
    if (typeof definition !== "object" || definition === null) throw new TypeError(`${where} must be an object`);
    const unknown = Object.keys(definition).find((key) => !KEYS.includes(key));
    if (unknown !== undefined) throw new TypeError(`${where} has an unknown key "${unknown}": use ${KEYS.join(", ")}`);
    if (!VERIFIERS.includes(definition.verify)) {
      throw new TypeError(
        `${where} has verify ${JSON.stringify(definition.verify)}: use one of ${VERIFIERS.join(", ")}`,
      );
    }
    const hasSecret = typeof definition.secret === "string" && definition.secret.length > 0;
    const hasEnv = typeof definition.secretEnv === "string" && ENV_NAME.test(definition.secretEnv);
    if (definition.verify === "teams") {
      if (hasSecret || hasEnv) {
        throw new TypeError(`${where}: Teams tokens are checked against the Bot Framework's keys, so give no secret`);
      }
    } else if (hasSecret === hasEnv) {
      throw new TypeError(`${where} needs exactly one of "secretEnv" (an environment variable name) or "secret"`);
    }
    checkPlatform(definition, where);
    if (typeof definition.agent !== "string" || definition.agent === "") {
      throw new TypeError(`${where} needs "agent": the name of the agent deliveries are dispatched to`);
    }
    for (const key of ["instance", "session"] as const) {
      const value = definition[key];
      if (value !== undefined && typeof value !== "function" && (typeof value !== "string" || value === "")) {
        throw new TypeError(`${where} has an invalid "${key}": use a non-empty string or a function of the delivery`);
      }
    }
    if (definition.message !== undefined && typeof definition.message !== "function") {
      throw new TypeError(`${where} has a "message" that is not a function of the delivery`);
    }
    const tolerance = definition.toleranceSeconds;
    if (tolerance !== undefined && (!Number.isSafeInteger(tolerance) || tolerance < 1 || tolerance > 3600)) {
      throw new TypeError(`${where} has toleranceSeconds ${tolerance}: use 1 to 3600`);
    }
    const attempts = definition.maxAttempts;
    if (attempts !== undefined && (!Number.isSafeInteger(attempts) || attempts < 1 || attempts > 100)) {
      throw new TypeError(`${where} has maxAttempts ${attempts}: use 1 to 100`);
    }
    if (definition.reply !== undefined) checkReply(definition.reply, where);
  }
}

const PLATFORM_KEYS: readonly string[] = [
  "apiBaseURL",
  "botTokenEnv",
  "appId",
  "appIdEnv",
  "appPasswordEnv",
  "jwks",
  "jwksUrl",
  "issuer",
  "tokenUrl",
];

function checkPlatform(definition: WebhookDefinition, where: string): void {
  const platform = definition.platform;
  if (platform === undefined) {
    if (definition.verify === "teams") {
      throw new TypeError(`${where} needs platform.appId or platform.appIdEnv: the bot's Microsoft App ID`);
    }
    return;
  }
  if (typeof platform !== "object" || platform === null) {
    throw new TypeError(`${where} has a "platform" that is not an object`);
  }
  if (!["discord", "telegram", "teams"].includes(definition.verify)) {
    throw new TypeError(`${where} has "platform", which only discord, telegram and teams webhooks take`);
  }
  const unknown = Object.keys(platform).find((key) => !PLATFORM_KEYS.includes(key));
  if (unknown !== undefined) {
    throw new TypeError(`${where} has an unknown platform key "${unknown}": use ${PLATFORM_KEYS.join(", ")}`);
  }
  for (const key of ["apiBaseURL", "jwksUrl", "tokenUrl"] as const) {
    const url = platform[key];
    if (url === undefined) continue;
    const problem = typeof url === "string" ? replyUrlProblem(url, undefined) : "is not a string";
    if (problem) throw new TypeError(`${where} has a platform.${key} that ${problem}`);
  }
  for (const key of ["botTokenEnv", "appIdEnv", "appPasswordEnv"] as const) {
    const name = platform[key];
    if (name !== undefined && !ENV_NAME.test(name)) {
      throw new TypeError(`${where} has platform.${key} ${JSON.stringify(name)}: use an environment variable name`);
    }
  }
  if (definition.verify === "teams") {
    if ((platform.appId === undefined) === (platform.appIdEnv === undefined)) {
      throw new TypeError(`${where} needs exactly one of platform.appId or platform.appIdEnv: the bot's App ID`);
    }
    if (platform.jwks !== undefined && !Array.isArray(platform.jwks?.keys)) {
      throw new TypeError(`${where} has a platform.jwks that is not a JSON Web Key Set ({ keys: [...] })`);
    }
  }
}

function checkReply(reply: WebhookReply, where: string): void {
  if (typeof reply !== "object" || reply === null) throw new TypeError(`${where} has a "reply" that is not an object`);
  if (typeof reply.url === "string") {
    const problem = replyUrlProblem(reply.url, undefined);
    if (problem) throw new TypeError(`${where} has a reply url that ${problem}`);
  } else if (typeof reply.url === "function") {
    if (!Array.isArray(reply.allowedHosts) || reply.allowedHosts.length === 0) {
      throw new TypeError(
        `${where} picks its reply url from the delivery, so it needs reply.allowedHosts (such as ["hooks.slack.com"]): ` +
          "a payload must never choose an arbitrary host",
      );
    }
  } else {
    throw new TypeError(`${where} needs reply.url: a URL, or a function that picks it from the delivery`);
  }
  if (reply.tokenEnv !== undefined && !ENV_NAME.test(reply.tokenEnv)) {
    throw new TypeError(
      `${where} has reply.tokenEnv ${JSON.stringify(reply.tokenEnv)}: use an environment variable name`,
    );
  }
}

/**
 * Says what is wrong with a reply URL, or nothing. It must be https, or http to a loopback host, and, when
 * `allowedHosts` is given, point at one of them (an entry without a port matches the host on its default port only).
 *
 * @param url The URL.
 * @param allowedHosts The allow-list; `undefined` for a URL the configuration itself fixed.
 * @returns A phrase such as `is not https`, or `undefined` when the URL may be used.
 */
export function replyUrlProblem(url: string, allowedHosts: readonly string[] | undefined): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a valid URL";
  }
  const isLoopback = ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && isLoopback)) {
    return `uses ${parsed.protocol} (only https, or http on loopback, is allowed)`;
  }
  if (parsed.username || parsed.password) return "carries credentials (use reply.tokenEnv instead)";
  if (allowedHosts !== undefined && !allowedHosts.some((host) => host.toLowerCase() === parsed.host)) {
    return `points at host "${parsed.host}", which is not in reply.allowedHosts`;
  }
  return undefined;
}
