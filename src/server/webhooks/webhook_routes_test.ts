import assert from "node:assert/strict";
import { MemoryStore } from "../../store/memory_store.ts";
import { createApp } from "../app.ts";
import { replyTool } from "./reply_tool.ts";
import { hmacSha256Hex } from "./signatures.ts";
import type { WebhookDefinition } from "./webhook_config.ts";
import { webhookRoutes } from "./webhook_routes.ts";

const SECRETS: Record<string, string> = {
  GITHUB_SECRET: "gh-secret-value",
  SLACK_SECRET: "slack-secret-value",
  HMAC_SECRET: "hmac-secret-value",
};
const getEnv = (name: string) => SECRETS[name];

interface Harness {
  url: string;
  store: MemoryStore;
  post(name: string, body: string, headers: Record<string, string>): Promise<Response>;
}

/** Serves an app with the given webhooks on 127.0.0.1 and no dispatch worker, so dispatches stay in the store. */
async function withServer(
  webhooks: Record<string, WebhookDefinition>,
  body: (harness: Harness) => Promise<void>,
  worker = false,
): Promise<void> {
  const store = new MemoryStore();
  const app = createApp({
    store,
    agents: { assistant: { model: "test", sandbox: "memory", tools: [replyTool({ getEnv })] } },
    webhooks: webhookRoutes(webhooks, { getEnv }),
    worker: worker ? { pollMs: 20 } : false,
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    await body({
      url,
      store,
      post: (name, text, headers) => fetch(`${url}/webhooks/${name}`, { method: "POST", body: text, headers }),
    });
  } finally {
    await app.close({ graceMs: 1000 });
    await server.shutdown();
    await store.close();
  }
}

async function githubHeaders(body: string, secret = SECRETS.GITHUB_SECRET, event = "issues") {
  return {
    "content-type": "application/json",
    "x-github-event": event,
    "x-github-delivery": crypto.randomUUID(),
    "x-hub-signature-256": `sha256=${await hmacSha256Hex(secret, body)}`,
  };
}

async function slackHeaders(body: string, timestamp = Math.floor(Date.now() / 1000), type = "application/json") {
  return {
    "content-type": type,
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": `v0=${await hmacSha256Hex(SECRETS.SLACK_SECRET, `v0:${timestamp}:${body}`)}`,
  };
}

async function errorType(response: Response): Promise<string> {
  return ((await response.json()) as { error: { type: string } }).error.type;
}

const GITHUB: Record<string, WebhookDefinition> = {
  github: {
    verify: "github",
    secretEnv: "GITHUB_SECRET",
    agent: "assistant",
    instance: (delivery) => `issue-${(delivery.payload as { issue: { number: number } }).issue.number}`,
    message: (delivery) => `Issue event: ${JSON.stringify(delivery.payload)}`,
  },
};

Deno.test("POST /webhooks/:name dispatches a valid GitHub delivery and answers a replay with 409", async () => {
  await withServer(GITHUB, async ({ post, store }) => {
    const body = JSON.stringify({ action: "opened", issue: { number: 7 } });
    const headers = await githubHeaders(body);
    const accepted = await post("github", body, headers);
    assert.equal(accepted.status, 202);
    const { dispatchId } = await accepted.json();
    const record = await store.getDispatch(dispatchId);
    assert.deepEqual(record?.key, { agent: "assistant", instanceId: "issue-7", session: "default" });
    assert.deepEqual(record?.input, {
      message: `Issue event: ${body}`,
      context: { webhook: "github", event: "issues", deliveryId: headers["x-github-delivery"] },
    });

    const replayed = await post("github", body, headers);
    assert.equal(replayed.status, 409);
    assert.equal(await errorType(replayed), "duplicate_delivery");
    // A replay under a made-up delivery id is the same signed body, so it is caught too.
    const renamed = await post("github", body, { ...headers, "x-github-delivery": crypto.randomUUID() });
    assert.equal(renamed.status, 409);
    assert.equal((await store.listDispatches()).length, 1);
  });
});

Deno.test("POST /webhooks/:name rejects forged, unsigned and wrongly keyed GitHub deliveries without dispatching", async () => {
  await withServer(GITHUB, async ({ post, store }) => {
    const body = JSON.stringify({ action: "opened", issue: { number: 8 } });
    const signed = await githubHeaders(body);
    const forged = await post("github", body.replace("8", "9"), signed);
    assert.equal(forged.status, 401);
    assert.equal(await errorType(forged), "invalid_signature");
    const { "x-hub-signature-256": _, ...unsigned } = signed;
    const missing = await post("github", body, unsigned);
    assert.equal(missing.status, 401);
    assert.equal(await errorType(missing), "missing_signature");
    const wrongSecret = await post("github", body, await githubHeaders(body, "not-the-secret"));
    assert.equal(wrongSecret.status, 401);
    assert.equal(await errorType(wrongSecret), "invalid_signature");
    const ping = await post("github", "{}", await githubHeaders("{}", SECRETS.GITHUB_SECRET, "ping"));
    assert.deepEqual([ping.status, await ping.json()], [200, { ok: true, event: "ping" }]);
    assert.deepEqual(await store.listDispatches(), []);
  });
});

const SLACK: Record<string, WebhookDefinition> = {
  slack: {
    verify: "slack",
    secretEnv: "SLACK_SECRET",
    agent: "assistant",
    instance: (delivery) => String((delivery.payload as { channel_id?: string }).channel_id ?? "events"),
    reply: {
      url: (delivery) => (delivery.payload as { response_url?: string }).response_url,
      allowedHosts: ["hooks.slack.com"],
      fields: () => ({ response_type: "in_channel" }),
    },
  },
};

Deno.test("POST /webhooks/:name checks Slack's timestamp window and treats a retried event as a replay", async () => {
  await withServer(SLACK, async ({ post, store }) => {
    const body = JSON.stringify({
      type: "event_callback",
      event_id: "Ev01",
      event: { type: "app_mention", text: "hi" },
    });
    const stale = await post("slack", body, await slackHeaders(body, Math.floor(Date.now() / 1000) - 301));
    assert.equal(stale.status, 401);
    assert.equal(await errorType(stale), "stale_timestamp");
    assert.deepEqual(await store.listDispatches(), []);

    const accepted = await post("slack", body, await slackHeaders(body));
    assert.equal(accepted.status, 202);
    const record = await store.getDispatch((await accepted.json()).dispatchId);
    assert.equal((record?.input as { message: string }).message, "hi");
    // Slack retries with a new timestamp and signature but the same event_id.
    const retried = await post("slack", body, await slackHeaders(body, Math.floor(Date.now() / 1000) - 5));
    assert.equal(retried.status, 409);

    const challenge = JSON.stringify({
      type: "url_verification",
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    });
    const verified = await post("slack", challenge, await slackHeaders(challenge));
    assert.deepEqual(await verified.json(), { challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
    assert.equal((await store.listDispatches()).length, 1);
  });
});

Deno.test("POST /webhooks/:name refuses a reply URL outside the allow-list without dispatching", async () => {
  await withServer(SLACK, async ({ post, store }) => {
    const form = new URLSearchParams({
      command: "/ask",
      text: "status?",
      channel_id: "C1",
      response_url: "https://attacker.example/steal",
    }).toString();
    const response = await post(
      "slack",
      form,
      await slackHeaders(form, undefined, "application/x-www-form-urlencoded"),
    );
    assert.equal(response.status, 422);
    assert.equal(await errorType(response), "reply_url_not_allowed");
    assert.deepEqual(await store.listDispatches(), []);
  });
});

Deno.test("POST /webhooks/:name verifies a generic HMAC delivery and rejects its replay and a stale one", async () => {
  const webhooks: Record<string, WebhookDefinition> = {
    ci: { verify: "hmac", secretEnv: "HMAC_SECRET", agent: "assistant", session: "builds" },
  };
  await withServer(webhooks, async ({ post, store }) => {
    const body = JSON.stringify({ build: 42, status: "failed" });
    const sign = async (timestamp: number) => ({
      "content-type": "application/json",
      "x-flue-event": "build",
      "x-flue-timestamp": String(timestamp),
      "x-flue-signature": `sha256=${await hmacSha256Hex(SECRETS.HMAC_SECRET, `${timestamp}.${body}`)}`,
    });
    const now = Math.floor(Date.now() / 1000);
    const headers = await sign(now);
    const accepted = await post("ci", body, headers);
    assert.equal(accepted.status, 202);
    const record = await store.getDispatch((await accepted.json()).dispatchId);
    assert.deepEqual(record?.key, { agent: "assistant", instanceId: "ci", session: "builds" });
    assert.match((record?.input as { message: string }).message, /^Webhook build received by webhook "ci":\n/);
    assert.equal((await post("ci", body, headers)).status, 409);
    const stale = await post("ci", body, await sign(now - 3600));
    assert.equal(await errorType(stale), "stale_timestamp");
    assert.equal((await store.listDispatches()).length, 1);
  });
});

Deno.test("POST /webhooks/:name answers 404 for an unknown webhook and 500 naming a missing secret variable", async () => {
  const webhooks: Record<string, WebhookDefinition> = {
    unset: { verify: "hmac", secretEnv: "NOT_SET_ANYWHERE", agent: "assistant" },
  };
  await withServer(webhooks, async ({ post }) => {
    const unknown = await post("nope", "{}", {});
    assert.deepEqual([unknown.status, await errorType(unknown)], [404, "webhook_not_found"]);
    const unset = await post("unset", "{}", {});
    assert.equal(unset.status, 500);
    assert.match((await unset.json()).error.message, /set the environment variable NOT_SET_ANYWHERE/);
  });
});

Deno.test("webhookRoutes() rejects a configuration that would let a payload choose any reply host", () => {
  assert.throws(
    () => webhookRoutes({ s: { verify: "slack", secret: "x", agent: "a", reply: { url: () => undefined } } }),
    /needs reply.allowedHosts/,
  );
  assert.throws(
    () => webhookRoutes({ s: { verify: "md5" as "hmac", secret: "x", agent: "a" } }),
    /use one of github, slack, hmac/,
  );
  assert.throws(() => webhookRoutes({ s: { verify: "hmac", agent: "a" } }), /exactly one of "secretEnv"/);
  assert.throws(
    () => webhookRoutes({ s: { verify: "hmac", secret: "x", agent: "a", reply: { url: "http://example.com/" } } }),
    /only https, or http on loopback/,
  );
  assert.throws(
    () =>
      createApp({
        store: new MemoryStore(),
        webhooks: webhookRoutes({ s: { verify: "hmac", secret: "x", agent: "ghost" } }),
      }),
    /agent "ghost", which the server does not serve/,
  );
});

Deno.test("the reply tool posts the agent's answer to the delivery's reply target on a local receiver", async () => {
  const received = Promise.withResolvers<{ body: unknown; authorization: string | null }>();
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    received.resolve({ body: await request.json(), authorization: request.headers.get("authorization") });
    return new Response("ok");
  });
  const receiverHost = `127.0.0.1:${receiver.addr.port}`;
  SECRETS.REPLY_TOKEN = "reply-token-value";
  const webhooks: Record<string, WebhookDefinition> = {
    slack: {
      ...SLACK.slack,
      reply: { ...SLACK.slack.reply!, allowedHosts: [receiverHost], tokenEnv: "REPLY_TOKEN" },
    },
  };
  try {
    await withServer(webhooks, async ({ post, store }) => {
      const form = new URLSearchParams({
        command: "/ask",
        text: 'Please reply "Build 42 is green"',
        channel_id: "C42",
        response_url: `http://${receiverHost}/commands/T1/123/abc`,
      }).toString();
      const response = await post(
        "slack",
        form,
        await slackHeaders(form, undefined, "application/x-www-form-urlencoded"),
      );
      assert.equal(response.status, 202);
      const { dispatchId } = await response.json();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("The receiver got no reply within 20 s")), 20_000);
      });
      const reply = await Promise.race([received.promise, timeout]).finally(() => clearTimeout(timer));
      assert.deepEqual(reply.body, { response_type: "in_channel", text: "Build 42 is green" });
      assert.equal(reply.authorization, "Bearer reply-token-value");
      // The reply target lives in the dispatch, never in the history the model reads.
      for (let attempt = 0; attempt < 200 && (await store.getDispatch(dispatchId))?.status !== "done"; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const history = await store.load({ agent: "assistant", instanceId: "C42", session: "default" });
      assert.ok(history.length > 0);
      assert.doesNotMatch(JSON.stringify(history), /commands\/T1\/123\/abc|reply-token-value/);
    }, true);
  } finally {
    delete SECRETS.REPLY_TOKEN;
    await receiver.shutdown();
  }
});

Deno.test("POST /webhooks/:name answers 409 to a GitHub replay that changes the unsigned X-GitHub-Event header", async () => {
  const webhooks: Record<string, WebhookDefinition> = {
    github: { verify: "github", secretEnv: "GITHUB_SECRET", agent: "assistant" },
  };
  await withServer(webhooks, async ({ post, store }) => {
    const body = JSON.stringify({ action: "opened", issue: { number: 11 } });
    const headers = await githubHeaders(body);
    const accepted = await post("github", body, headers);
    assert.equal(accepted.status, 202);
    const { dispatchId } = await accepted.json();
    for (const event of ["pull_request", "push", "issue_comment"]) {
      const replayed = await post("github", body, { ...headers, "x-github-event": event });
      assert.equal(replayed.status, 409, event);
      const error = (await replayed.json()).error;
      assert.equal(error.type, "duplicate_delivery");
      assert.equal(error.details.dispatchId, dispatchId);
    }
    const dispatches = await store.listDispatches();
    assert.equal(dispatches.length, 1);
    assert.equal((dispatches[0].input as { context: { event: string } }).context.event, "issues");
  });
});

Deno.test("POST /webhooks/:name refuses a verified body nested deeper than the server's JSON limit with 400", async () => {
  const webhooks: Record<string, WebhookDefinition> = {
    github: { verify: "github", secretEnv: "GITHUB_SECRET", agent: "assistant" },
  };
  await withServer(webhooks, async ({ post, store }) => {
    for (const body of ["[".repeat(100_000) + "]".repeat(100_000), `{"a":${"[".repeat(5000)}${"]".repeat(5000)}}`]) {
      const response = await post("github", body, await githubHeaders(body));
      assert.equal(response.status, 400);
      const error = (await response.json()).error;
      assert.equal(error.type, "invalid_payload");
      assert.match(error.message, /nests \d+ levels deep; the limit is 100/);
    }
    const form = `payload=${encodeURIComponent("[".repeat(1000) + "]".repeat(1000))}`;
    const formHeaders = { ...await githubHeaders(form), "content-type": "application/x-www-form-urlencoded" };
    const response = await post("github", form, formHeaders);
    assert.equal(response.status, 400);
    const depthAtLimit = "[".repeat(99) + "]".repeat(99);
    assert.equal((await post("github", depthAtLimit, await githubHeaders(depthAtLimit))).status, 202);
    assert.equal((await store.listDispatches()).length, 1);
  });
});
