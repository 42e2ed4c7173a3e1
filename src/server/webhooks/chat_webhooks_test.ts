// Discord, Telegram and Teams webhooks over real HTTP: handshakes, forged and replayed deliveries refused, and the
// `reply` tool answering through each platform's API on a local receiver.
import assert from "node:assert/strict";
import { MemoryStore } from "../../store/memory_store.ts";
import { createApp } from "../app.ts";
import { replyTool } from "./reply_tool.ts";
import type { WebhookDefinition } from "./webhook_config.ts";
import { webhookRoutes } from "./webhook_routes.ts";

const SECRETS: Record<string, string> = {
  TELEGRAM_SECRET: "tg-secret-token",
  TELEGRAM_BOT_TOKEN: "123456:bot-token",
  MICROSOFT_APP_PASSWORD: "app-password",
};
const getEnv = (name: string) => SECRETS[name];
const encoder = new TextEncoder();
const hex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

interface Received {
  path: string;
  headers: Headers;
  body: string;
}

/** A local stand-in for the platforms' APIs: records requests and answers a token request with a token. */
function startReceiver() {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname;
    received.push({ path, headers: request.headers, body: await request.text() });
    waiters.splice(0).forEach((wake) => wake());
    if (path === "/token") return Response.json({ access_token: "bot-access-token", expires_in: 3600 });
    return Response.json({ ok: true });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    received,
    async waitFor(path: RegExp): Promise<Received> {
      for (let attempt = 0; attempt < 400; attempt++) {
        const found = received.find((entry) => path.test(entry.path));
        if (found) return found;
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      throw new Error(`Nothing arrived at ${path} within 20 s`);
    },
    close: () => server.shutdown(),
  };
}

async function withServer(
  webhooks: Record<string, WebhookDefinition>,
  body: (
    post: (name: string, text: string, headers: Record<string, string>) => Promise<Response>,
    store: MemoryStore,
  ) => Promise<void>,
): Promise<void> {
  const store = new MemoryStore();
  const app = createApp({
    store,
    agents: { assistant: { model: "test", sandbox: "memory", tools: [replyTool({ getEnv })] } },
    webhooks: webhookRoutes(webhooks, { getEnv }),
    worker: { pollMs: 20 },
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    await body(
      (name, text, headers) => fetch(`${url}/webhooks/${name}`, { method: "POST", body: text, headers }),
      store,
    );
  } finally {
    await app.close({ graceMs: 2000 });
    await server.shutdown();
    await store.close();
  }
}

async function errorType(response: Response): Promise<string> {
  return ((await response.json()) as { error: { type: string } }).error.type;
}

Deno.test("Discord: Ed25519 signatures, the PING handshake, a deferred reply through the interaction webhook", async () => {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as CryptoKeyPair;
  const publicKey = hex(await crypto.subtle.exportKey("raw", keys.publicKey));
  const sign = async (text: string, timestamp = Math.floor(Date.now() / 1000), key = keys.privateKey) => ({
    "content-type": "application/json",
    "x-signature-timestamp": String(timestamp),
    "x-signature-ed25519": hex(await crypto.subtle.sign("Ed25519", key, encoder.encode(`${timestamp}${text}`))),
  });
  const receiver = startReceiver();
  try {
    const webhooks: Record<string, WebhookDefinition> = {
      discord: {
        verify: "discord",
        secret: publicKey,
        agent: "assistant",
        instance: (delivery) => String((delivery.payload as { channel_id: string }).channel_id),
        platform: { apiBaseURL: `${receiver.origin}/api/v10` },
      },
    };
    await withServer(webhooks, async (post, store) => {
      const ping = JSON.stringify({ id: "1", type: 1, application_id: "42", token: "tok" });
      const pong = await post("discord", ping, await sign(ping));
      assert.deepEqual([pong.status, await pong.json()], [200, { type: 1 }]);

      const other = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as CryptoKeyPair;
      const forged = await post("discord", ping, await sign(ping, undefined, other.privateKey));
      assert.deepEqual([forged.status, await errorType(forged)], [401, "invalid_signature"]);
      const stale = await post("discord", ping, await sign(ping, Math.floor(Date.now() / 1000) - 600));
      assert.deepEqual([stale.status, await errorType(stale)], [401, "stale_timestamp"]);
      const unsigned = await post("discord", ping, { "content-type": "application/json" });
      assert.deepEqual([unsigned.status, await errorType(unsigned)], [401, "missing_signature"]);

      const command = JSON.stringify({
        id: "9001",
        type: 2,
        application_id: "42",
        token: "interaction-token",
        channel_id: "C7",
        data: { name: "ask", options: [{ name: "question", value: 'Please reply "Deploy is done"' }] },
      });
      const deferred = await post("discord", command, await sign(command));
      assert.deepEqual([deferred.status, await deferred.json()], [200, { type: 5 }]);
      const replayed = await post("discord", command, await sign(command));
      assert.deepEqual([replayed.status, await errorType(replayed)], [409, "duplicate_delivery"]);

      const reply = await receiver.waitFor(/^\/api\/v10\/webhooks\/42\/interaction-token$/);
      assert.deepEqual(JSON.parse(reply.body), { content: "Deploy is done" });
      const [dispatch] = await store.listDispatches();
      assert.equal(dispatch.key.instanceId, "C7");
      assert.equal((dispatch.input as { message: string }).message, '/ask question: Please reply "Deploy is done"');
    });
  } finally {
    await receiver.close();
  }
});

Deno.test("Telegram: the secret token header, replays by update_id, a reply through sendMessage", async () => {
  const receiver = startReceiver();
  try {
    const webhooks: Record<string, WebhookDefinition> = {
      telegram: {
        verify: "telegram",
        secretEnv: "TELEGRAM_SECRET",
        agent: "assistant",
        platform: { apiBaseURL: receiver.origin },
      },
    };
    await withServer(webhooks, async (post, store) => {
      const update = JSON.stringify({
        update_id: 555,
        message: { message_id: 12, chat: { id: 777, type: "private" }, text: 'Please reply "Hello from Flue"' },
      });
      const headers = { "content-type": "application/json", "x-telegram-bot-api-secret-token": "tg-secret-token" };
      const forged = await post("telegram", update, { ...headers, "x-telegram-bot-api-secret-token": "guess" });
      assert.deepEqual([forged.status, await errorType(forged)], [401, "invalid_signature"]);
      const missing = await post("telegram", update, { "content-type": "application/json" });
      assert.deepEqual([missing.status, await errorType(missing)], [401, "missing_signature"]);

      const accepted = await post("telegram", update, headers);
      assert.equal(accepted.status, 202);
      await accepted.body?.cancel();
      const replayed = await post("telegram", update, headers);
      assert.deepEqual([replayed.status, await errorType(replayed)], [409, "duplicate_delivery"]);

      const reply = await receiver.waitFor(/sendMessage$/);
      assert.equal(reply.path, "/bot123456:bot-token/sendMessage");
      const sent = JSON.parse(reply.body);
      assert.equal(sent.chat_id, 777);
      assert.equal(sent.text, "Hello from Flue");
      assert.deepEqual(sent.reply_parameters, { message_id: 12, allow_sending_without_reply: true });
      // The bot token never reaches the store.
      assert.doesNotMatch(JSON.stringify(await store.listDispatches()), /bot-token/);
    });
  } finally {
    await receiver.close();
  }
});

Deno.test("Teams: Bot Framework JWTs checked against configured keys, a reply activity with a bot token", async () => {
  const keys = await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const other = await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const jwk = { ...await crypto.subtle.exportKey("jwk", keys.publicKey), kid: "key-1" };
  const base64Url = (bytes: Uint8Array | string) =>
    btoa(typeof bytes === "string" ? bytes : String.fromCharCode(...bytes)).replace(/=+$/, "").replace(/\+/g, "-")
      .replace(/\//g, "_");
  const receiver = startReceiver();
  const now = Math.floor(Date.now() / 1000);
  const token = async (claims: Record<string, unknown>, key = keys.privateKey, kid = "key-1") => {
    const signed = `${base64Url(JSON.stringify({ alg: "RS256", kid, typ: "JWT" }))}.${
      base64Url(JSON.stringify({
        iss: "https://api.botframework.com",
        aud: "app-id-1",
        nbf: now - 10,
        exp: now + 3600,
        serviceurl: receiver.origin,
        ...claims,
      }))
    }`;
    const signature = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, encoder.encode(signed)));
    return { "content-type": "application/json", authorization: `Bearer ${signed}.${base64Url(signature)}` };
  };
  try {
    const webhooks: Record<string, WebhookDefinition> = {
      teams: {
        verify: "teams",
        agent: "assistant",
        platform: { appId: "app-id-1", jwks: { keys: [jwk] }, tokenUrl: `${receiver.origin}/token` },
      },
    };
    await withServer(webhooks, async (post) => {
      const activity = JSON.stringify({
        type: "message",
        id: "activity-1",
        text: '<at>Flue</at> Please reply "Ticket closed"',
        serviceUrl: receiver.origin,
        conversation: { id: "conversation-1" },
        from: { id: "user-1" },
      });
      const refusals: [Record<string, string>, string][] = [
        [{ "content-type": "application/json" }, "missing_signature"],
        [await token({}, other.privateKey), "invalid_signature"],
        [await token({}, other.privateKey, "unknown"), "invalid_signature"],
        [await token({ aud: "another-bot" }), "invalid_signature"],
        [await token({ iss: "https://attacker.example" }), "invalid_signature"],
        [await token({ exp: now - 3600 }), "stale_timestamp"],
        [await token({ serviceurl: "https://elsewhere.example" }), "invalid_signature"],
      ];
      for (const [headers, type] of refusals) {
        const refused = await post("teams", activity, headers);
        assert.deepEqual([refused.status, await errorType(refused)], [401, type], JSON.stringify(headers).slice(0, 80));
      }
      const accepted = await post("teams", activity, await token({}));
      assert.equal(accepted.status, 202);
      await accepted.body?.cancel();
      const replayed = await post("teams", activity, await token({}));
      assert.deepEqual([replayed.status, await errorType(replayed)], [409, "duplicate_delivery"]);

      const reply = await receiver.waitFor(/^\/v3\/conversations\//);
      assert.equal(reply.path, "/v3/conversations/conversation-1/activities/activity-1");
      assert.equal(reply.headers.get("authorization"), "Bearer bot-access-token");
      assert.deepEqual(JSON.parse(reply.body), { type: "message", replyToId: "activity-1", text: "Ticket closed" });
      const tokenRequest = await receiver.waitFor(/^\/token$/);
      const form = new URLSearchParams(tokenRequest.body);
      assert.deepEqual([form.get("client_id"), form.get("client_secret")], ["app-id-1", "app-password"]);
    });
  } finally {
    await receiver.close();
  }
});

Deno.test("webhookRoutes() checks the chat platforms' settings at start-up", () => {
  assert.throws(
    () => webhookRoutes({ t: { verify: "teams", agent: "a" } }),
    /needs platform.appId or platform.appIdEnv/,
  );
  assert.throws(
    () => webhookRoutes({ t: { verify: "teams", agent: "a", secret: "x", platform: { appId: "i" } } }),
    /give no secret/,
  );
  assert.throws(
    () =>
      webhookRoutes({
        d: { verify: "discord", agent: "a", secret: "k", platform: { apiBaseURL: "http://x.example" } },
      }),
    /platform.apiBaseURL that uses http:/,
  );
  assert.throws(
    () => webhookRoutes({ g: { verify: "github", agent: "a", secret: "k", platform: {} } }),
    /only discord, telegram and teams/,
  );
  assert.throws(
    () => webhookRoutes({ d: { verify: "telegram", agent: "a", secret: "k", platform: { botToken: "x" } as never } }),
    /unknown platform key "botToken"/,
  );
});
