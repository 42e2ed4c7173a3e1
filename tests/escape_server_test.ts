// Attacks on the HTTP and WebSocket server: authentication, browsers driving a loopback server (CSRF, cross-site
// WebSocket, DNS rebinding), path tricks, body and frame limits, and what error responses reveal. Every attempt
// talks to `createApp` served on 127.0.0.1, port 0, over real sockets. See docs/security.md.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createApp, type CreateAppOptions, type FlueApp, MemoryStore } from "../mod.ts";
import { FunctionModel } from "../testing.ts";

const TOKEN = "tok-escape-server-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Server {
  app: FlueApp;
  port: number;
  url: string;
  close(): Promise<void>;
}

function start(options: Partial<CreateAppOptions> = {}): Server {
  const app = createApp({
    store: new MemoryStore(),
    agents: { assistant: { model: "test", sandbox: "memory" } },
    workflows: { echo: { run: (ctx) => Promise.resolve({ payload: ctx.payload ?? null }) } },
    ...options,
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  return {
    app,
    port: server.addr.port,
    url: `http://127.0.0.1:${server.addr.port}`,
    close: async () => void await Promise.all([app.close({ graceMs: 500 }), server.shutdown()]),
  };
}

async function withServer(options: Partial<CreateAppOptions>, test: (server: Server) => Promise<void>): Promise<void> {
  const server = start(options);
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

/** Sends raw bytes as one HTTP/1.1 request and reads the answer: for what `fetch` would normalise or refuse. */
async function raw(port: number, head: string, body?: Uint8Array): Promise<{ status: number; text: string }> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await connection.write(new TextEncoder().encode(head));
    if (body) await connection.write(body);
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(65536);
    while (true) {
      const read = await connection.read(buffer);
      if (read === null) break;
      chunks.push(buffer.slice(0, read));
      const text = new TextDecoder().decode(concat(chunks));
      const end = text.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      if (end !== -1 && length !== undefined && text.length >= end + 4 + Number(length)) break;
    }
    const text = new TextDecoder().decode(concat(chunks));
    return { status: Number(text.split(" ")[1]), text };
  } finally {
    connection.close();
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const lines = Object.entries({ host: `127.0.0.1:${port}`, connection: "close", ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`).join("");
  return raw(port, `GET ${path} HTTP/1.1\r\n${lines}\r\n`);
}

async function status(response: Promise<Response>): Promise<number> {
  const answer = await response;
  await answer.body?.cancel();
  return answer.status;
}

function openSocket(url: string, protocols?: string[], headers?: Record<string, string>): Promise<WebSocket | Error> {
  const socket = new (WebSocket as unknown as new (url: string, options: unknown) => WebSocket)(url, {
    protocols,
    headers,
  });
  return new Promise((resolve) => {
    socket.onopen = () => resolve(socket);
    socket.onerror = (event) => resolve(new Error((event as ErrorEvent).message));
  });
}

function nextFrame(socket: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    socket.addEventListener("message", (message) => resolve(JSON.parse(message.data)), { once: true });
  });
}

async function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return;
  const closed = new Promise((resolve) => socket.addEventListener("close", resolve, { once: true }));
  socket.close();
  await closed;
}

// --- Authentication ---

Deno.test("escape server: every route without the token is 401, with no hint of what exists", async () => {
  await withServer({ token: TOKEN }, async (server) => {
    for (const route of server.app.routes) {
      if (route.isPublic) continue;
      const path = route.path.replace(/:[a-zA-Z]+/g, (param) => param === ":name" ? "assistant" : "x");
      const response = await fetch(`${server.url}${path}`, {
        method: route.method,
        headers: route.method === "POST" ? { "content-type": "application/json" } : {},
        body: route.method === "POST" ? JSON.stringify({ message: "hi" }) : undefined,
      });
      assert.equal(response.status, 401, `${route.method} ${path}`);
      const body = await response.json();
      assert.deepEqual(Object.keys(body.error).sort(), ["message", "type"]);
    }
    assert.equal(await status(fetch(`${server.url}/health`)), 200);
  });
});

Deno.test("escape server: a token in the query string is not accepted", async () => {
  await withServer({ token: TOKEN }, async (server) => {
    for (const query of [`token=${TOKEN}`, `access_token=${TOKEN}`, `authorization=Bearer%20${TOKEN}`]) {
      assert.equal(await status(fetch(`${server.url}/agents?${query}`)), 401, query);
    }
  });
});

Deno.test("escape server: near-miss bearer tokens are refused (prefix, suffix, case, lists, tricks)", async () => {
  await withServer({ token: TOKEN }, async (server) => {
    const attempts = [
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.toUpperCase()}`,
      `Bearer ${TOKEN} ${TOKEN}`,
      `Bearer ${TOKEN},${TOKEN}`,
      `Bearer "${TOKEN}"`,
      `Token ${TOKEN}`,
      `${TOKEN}`,
      `Bearer`,
      `Bearer ${"a".repeat(8000)}`,
      `Basic ${btoa(`${TOKEN}:`)}`,
    ];
    for (const authorization of attempts) {
      assert.equal(await status(fetch(`${server.url}/agents`, { headers: { authorization } })), 401, authorization);
    }
    // Two Authorization headers arrive joined by a comma: not one valid token.
    const doubled = await raw(
      server.port,
      `GET /agents HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TOKEN}\r\nauthorization: Bearer x\r\n` +
        `connection: close\r\n\r\n`,
    );
    assert.equal(doubled.status, 401);
    // Lookalike letters (UTF-8 bytes in the header) and a NUL never match.
    const lookalike = TOKEN.replace("o", "\u043e");
    const unicode = await raw(
      server.port,
      `GET /agents HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${lookalike}\r\nconnection: close\r\n\r\n`,
    );
    assert.ok(unicode.status === 401 || unicode.status === 400, String(unicode.status));
    // Extra spaces or a tab around the right token are fine: the token itself is what must match.
    for (const authorization of [`Bearer   ${TOKEN}  `, `bearer\t${TOKEN}`]) {
      assert.equal(await status(fetch(`${server.url}/agents`, { headers: { authorization } })), 200, authorization);
    }
  });
});

Deno.test("escape server: a WebSocket without the token is refused before the upgrade", async () => {
  await withServer({ token: TOKEN }, async (server) => {
    const wsUrl = `ws://127.0.0.1:${server.port}/agents/assistant/a`;
    for (const protocols of [["flue.v1"], ["flue.v1", "flue.token.wrong-token-0123456789"], ["flue.token."]]) {
      const result = await openSocket(wsUrl, protocols);
      assert.ok(result instanceof Error, `opened with ${protocols.join(",")}`);
    }
    const good = await openSocket(wsUrl, ["flue.v1", `flue.token.${TOKEN}`]);
    assert.ok(good instanceof WebSocket);
    assert.equal(good.protocol, "flue.v1", "the token is never echoed back as the protocol");
    await closeSocket(good);
  });
});

Deno.test("escape server: the public /webhooks/ prefix cannot be used to reach other routes without the token", async () => {
  const webhooks = () => new Hono();
  await withServer({ token: TOKEN, webhooks }, async (server) => {
    for (
      const path of ["/webhooks/..%2Fagents", "/webhooks/%2e%2e/agents", "/webhooks/../agents/assistant/a/history"]
    ) {
      const answer = await get(server.port, path);
      assert.ok(answer.status >= 400 && answer.status < 500, `${path}: ${answer.status}`);
      assert.ok(!answer.text.includes('"entries"') && !answer.text.includes('"agents"'), path);
    }
    const encoded = await fetch(`${server.url}/webhooks/..%2F..%2Fagents/assistant/a`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi" }),
    });
    assert.notEqual(encoded.status, 200);
    await encoded.body?.cancel();
  });
});

// --- Browsers reaching a loopback server without a token ---

Deno.test("escape server: without a token, a cross-site form POST (CSRF, empty text/plain) cannot start a workflow", async () => {
  let runs = 0;
  const workflows = { echo: { run: () => Promise.resolve({ ran: ++runs }) } };
  await withServer({ workflows }, async (server) => {
    for (const origin of ["http://evil.example", "null", "https://127.0.0.1.evil.example"]) {
      const response = await fetch(`${server.url}/workflows/echo`, {
        method: "POST",
        headers: { origin, "content-type": "text/plain" },
      });
      assert.equal(response.status, 403, origin);
      assert.equal((await response.json()).error.type, "forbidden_origin");
    }
    assert.equal(
      await status(fetch(`${server.url}/runs/x/abort`, { method: "POST", headers: { origin: "null" } })),
      403,
    );
    assert.equal(runs, 0);
    // The server's own pages and non-browser clients (no Origin) still work.
    const local = await fetch(`${server.url}/workflows/echo?wait=result`, {
      method: "POST",
      headers: { origin: `http://localhost:${server.port}` },
    });
    assert.equal(local.status, 200);
    await local.body?.cancel();
    assert.equal(await status(fetch(`${server.url}/workflows/echo?wait=result`, { method: "POST" })), 200);
  });
});

Deno.test("escape server: without a token, a cross-site WebSocket (origin of another site) is refused", async () => {
  await withServer({}, async (server) => {
    const wsUrl = `ws://127.0.0.1:${server.port}/agents/assistant/a`;
    const hijack = await openSocket(wsUrl, ["flue.v1"], { origin: "http://evil.example" });
    assert.ok(hijack instanceof Error, "a page of another site opened a socket to the agent");
    const own = await openSocket(wsUrl, ["flue.v1"], { origin: `http://127.0.0.1:${server.port}` });
    assert.ok(own instanceof WebSocket);
    assert.equal((await nextFrame(own)).type, "ready");
    await closeSocket(own);
  });
});

Deno.test("escape server: without a token, a rebound host name (DNS rebinding) is refused; loopback names served", async () => {
  await withServer({}, async (server) => {
    for (const host of ["evil.example", `evil.example:${server.port}`, "127.0.0.1.nip.io", "localhost.evil.example"]) {
      const answer = await get(server.port, "/agents/assistant/a/history", { host });
      assert.equal(answer.status, 403, host);
      assert.match(answer.text, /forbidden_host/);
      assert.ok(!answer.text.includes('"entries"'));
    }
    for (
      const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `[::1]:${server.port}`, "app.localhost"]
    ) {
      assert.equal((await get(server.port, "/agents", { host })).status, 200, host);
    }
  });
});

Deno.test("escape server: with a token, Host and Origin checks give way to the token (a proxy or another UI)", async () => {
  await withServer({ token: TOKEN }, async (server) => {
    const answer = await get(server.port, "/agents", {
      host: "flue.example.com",
      origin: "https://ui.example",
      ...AUTH,
    });
    assert.equal(answer.status, 200);
    assert.equal((await get(server.port, "/agents", { host: "flue.example.com" })).status, 401);
  });
});

// --- Paths and names ---

Deno.test("escape server: path traversal in :name, :id, session and run ids reads no file", async () => {
  await withServer({}, async (server) => {
    const attempts = [
      "/agents/..%2F..%2Fetc%2Fpasswd/a/history",
      "/agents/assistant/..%2F..%2F..%2Fetc%2Fpasswd/history",
      "/agents/assistant/a/history?session=..%2F..%2Fetc%2Fpasswd",
      "/runs/..%2F..%2Fetc%2Fpasswd",
      "/runs/..%2F..%2Fetc%2Fpasswd/events",
      "/dispatches/..%2F..%2Fetc%2Fpasswd",
      "/workflows/..%2Fecho",
    ];
    for (const path of attempts) {
      const response = await fetch(`${server.url}${path}`);
      const text = await response.text();
      assert.ok(!text.includes("root:x:0"), path);
      assert.ok(response.status < 500, `${path}: ${response.status}`);
    }
  });
});

// Found by this suite: ids with control characters reached the stores, which refused them, so the server answered 500
// and logged the decoded path (newlines included). checkName() and the run route now refuse them with 400.
Deno.test({
  name: "escape server: NUL bytes and control characters in ids get 400",
  fn: async () => {
    await withServer({}, async (server) => {
      for (const path of ["/agents/assistant/a%00b/history", "/runs/a%00b", "/dispatches/a%0ab"]) {
        assert.equal(await status(fetch(`${server.url}${path}`)), 400, path);
      }
    });
  },
});

Deno.test("escape server: NUL bytes, CRLF and very long ids store nothing, set no header and leak nothing", async () => {
  const originalError = console.error;
  console.error = () => {};
  try {
    await withServer({}, async (server) => {
      for (const id of ["a%00b", "%00", "a%0d%0aSet-Cookie:%20x=1", "x".repeat(300), "x".repeat(20_000)]) {
        for (const path of [`/agents/assistant/${id}/history`, `/runs/${id}`, `/dispatches/${id}`]) {
          const response = await fetch(`${server.url}${path}`);
          const text = await response.text();
          // A CRLF id is a valid (odd) key: it may be answered, but never splits the response.
          if (!id.includes("%0d")) assert.ok(response.status >= 400, `${path.slice(0, 60)}: ${response.status}`);
          assert.equal(response.headers.get("set-cookie"), null);
          assert.doesNotMatch(text, /\.ts:\d+|\n\s+at /);
        }
      }
      const prompt = await fetch(`${server.url}/agents/assistant/a%00b`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "hi" }),
      });
      assert.ok(prompt.status >= 400);
      await prompt.body?.cancel();
      assert.equal(
        (await server.app.store.load({ agent: "assistant", instanceId: "a\0b", session: "default" }).catch(
          () => [],
        )).length,
        0,
      );
      assert.equal(await status(fetch(`${server.url}/agents/assistant/${"x".repeat(300)}/history`)), 400);
    });
  } finally {
    console.error = originalError;
  }
});

// --- Bodies ---

Deno.test("escape server: a body one byte over the cap is refused with 413", async () => {
  await withServer({ bodyLimit: 1024 }, async (server) => {
    const message = "m".repeat(1024 - JSON.stringify({ message: "" }).length);
    const fits = await fetch(`${server.url}/agents/assistant/a/dispatch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message }),
    });
    assert.equal(fits.status, 202);
    await fits.body?.cancel();
    const over = await fetch(`${server.url}/agents/assistant/a/dispatch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: `${message}m` }),
    });
    assert.equal(over.status, 413);
    assert.equal((await over.json()).error.type, "payload_too_large");
  });
});

Deno.test("escape server: a chunked body without Content-Length over the cap is refused without reading it all", async () => {
  await withServer({ bodyLimit: 64 * 1024 }, async (server) => {
    let sent = 0;
    const chunk = new TextEncoder().encode(`"${"a".repeat(16 * 1024 - 2)}"`);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // A 1 GiB body, produced only as the server reads it.
        if (sent >= 1024 ** 3) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${server.url}/workflows/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    assert.equal(response.status, 413);
    await response.body?.cancel();
    assert.ok(sent < 16 * 1024 * 1024, `the server read ${sent} bytes of a 1 GiB body`);
  });
});

Deno.test("escape server: non-JSON content types are refused with 415", async () => {
  await withServer({}, async (server) => {
    const body = JSON.stringify({ message: "hi" });
    for (
      const type of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "text/json",
        "application/json-evil",
      ]
    ) {
      const response = await fetch(`${server.url}/agents/assistant/a`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      assert.equal(response.status, 415, type);
      await response.body?.cancel();
    }
  });
});

// Found by this suite: a deeply nested body within the size cap passed JSON.parse and overflowed the stack when stored,
// answering 500. readJsonBody() now refuses more than 100 levels of nesting with 400 before parsing.
Deno.test({
  name: "escape server: a JSON bomb (500,000 levels of nesting) gets a 400 and the server keeps serving",
  fn: async () => {
    await withServer({}, async (server) => {
      const deep = "[".repeat(500_000) + "]".repeat(500_000);
      const response = await fetch(`${server.url}/workflows/echo?wait=result`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: deep,
      });
      assert.equal(response.status, 400);
      await response.body?.cancel();
    });
  },
});

Deno.test("escape server: a JSON bomb (500,000 levels of nesting) leaks nothing and the server keeps serving", async () => {
  await withServer({}, async (server) => {
    const errors: string[] = [];
    const originalError = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.join(" "));
    try {
      const deep = "[".repeat(500_000) + "]".repeat(500_000);
      for (const path of ["/workflows/echo?wait=result", "/agents/assistant/a"]) {
        const response = await fetch(`${server.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: deep,
        });
        const text = await response.text();
        assert.ok(response.status >= 400, path);
        assert.doesNotMatch(text, /\.ts:\d+|at |RangeError|stack/, path);
      }
      assert.equal(await status(fetch(`${server.url}/health`)), 200);
    } finally {
      console.error = originalError;
    }
  });
});

// --- WebSocket frames ---

Deno.test("escape server: huge, binary and malformed WebSocket frames get error frames and the socket stays usable", async () => {
  await withServer({ bodyLimit: 4096 }, async (server) => {
    const socket = await openSocket(`ws://127.0.0.1:${server.port}/agents/assistant/a`, ["flue.v1"]);
    assert.ok(socket instanceof WebSocket);
    try {
      assert.equal((await nextFrame(socket)).type, "ready");
      const attempts: [string | Uint8Array, string][] = [
        [JSON.stringify({ type: "ping", pad: "p".repeat(10_000) }), "payload_too_large"],
        [new Uint8Array([0x7b, 0x7d, 0, 1, 2]), "invalid_message"],
        ["{not json", "invalid_json"],
        ["[]", "invalid_message"],
        [JSON.stringify({ type: "prompt", requestId: "r".repeat(1000), message: "hi" }), "invalid_message"],
        [
          JSON.stringify({ type: "prompt", requestId: "1", message: "hi", session: "s".repeat(1000) }),
          "invalid_request",
        ],
        [JSON.stringify({ type: "__proto__" }), "invalid_message"],
        [JSON.stringify({ type: "ping", version: 2 }), "unsupported_version"],
      ];
      for (const [data, type] of attempts) {
        const frame = nextFrame(socket);
        socket.send(data);
        const answer = await frame;
        assert.equal(answer.type, "error", String(data).slice(0, 40));
        assert.equal((answer.error as { type: string }).type, type, String(data).slice(0, 40));
      }
      const pong = nextFrame(socket);
      socket.send(JSON.stringify({ type: "ping", requestId: "after" }));
      assert.deepEqual(await pong, { type: "pong", requestId: "after" });
    } finally {
      await closeSocket(socket);
    }
  });
});

Deno.test("escape server: a flood of 2,000 pings is answered in order and HTTP keeps being served", async () => {
  await withServer({}, async (server) => {
    const socket = await openSocket(`ws://127.0.0.1:${server.port}/agents/assistant/a`, ["flue.v1"]);
    assert.ok(socket instanceof WebSocket);
    try {
      await nextFrame(socket);
      let pongs = 0;
      const all = new Promise<void>((resolve) => {
        socket.onmessage = (message) => {
          if (JSON.parse(message.data).type === "pong" && ++pongs === 2000) resolve();
        };
      });
      for (let i = 0; i < 2000; i++) socket.send(JSON.stringify({ type: "ping", requestId: String(i) }));
      assert.equal(await status(fetch(`${server.url}/health`)), 200);
      await all;
    } finally {
      await closeSocket(socket);
    }
  });
});

Deno.test("escape server: many prompts to one session over one socket run one at a time (409 for the rest)", async () => {
  let release!: () => void;
  const blocked = new Promise<void>((resolve) => (release = resolve));
  const model = new FunctionModel(async () => {
    await blocked;
    return "done";
  });
  await withServer({ agents: { assistant: { model, sandbox: "memory" } } }, async (server) => {
    const socket = await openSocket(`ws://127.0.0.1:${server.port}/agents/assistant/a`, ["flue.v1"]);
    assert.ok(socket instanceof WebSocket);
    try {
      await nextFrame(socket);
      const frames: Record<string, unknown>[] = [];
      const busy = new Promise<void>((resolve) => {
        socket.onmessage = (message) => {
          frames.push(JSON.parse(message.data));
          if (frames.filter((frame) => frame.type === "error").length === 49) resolve();
        };
      });
      for (let i = 0; i < 50; i++) socket.send(JSON.stringify({ type: "prompt", requestId: `r${i}`, message: "hi" }));
      await busy;
      const errors = frames.filter((frame) => frame.type === "error");
      assert.ok(errors.every((frame) => (frame.error as { type: string }).type === "session_busy"));
      release();
    } finally {
      release();
      await closeSocket(socket);
    }
  });
});

// --- SSE resume ---

Deno.test("escape server: garbage Last-Event-ID values are refused with 400", async () => {
  await withServer({}, async (server) => {
    const { runId } = await (await fetch(`${server.url}/workflows/echo?wait=result`, { method: "POST" })).json();
    for (const id of ["abc", "1e3", "-5", "0x10", "99999999999999999999", "1;2", "1 2", " ", "NaN", "x".repeat(5000)]) {
      const response = await fetch(`${server.url}/runs/${encodeURIComponent(runId)}/stream`, {
        headers: { "last-event-id": id },
      });
      if (id.trim() === "") {
        assert.equal(response.status, 200, "an empty id resumes from the start");
      } else {
        assert.equal(response.status, 400, id.slice(0, 20));
      }
      await response.body?.cancel();
    }
  });
});

// --- What errors reveal ---

Deno.test("escape server: a 500 carries no stack trace, file path or secret; the log line is redacted", async () => {
  const secret = "pw-500-9d8c7b6a";
  const agents = {
    broken: {
      model: new FunctionModel(() => {
        const error = new TypeError(`cannot reach db with ${secret}`);
        return Promise.reject(error);
      }),
      sandbox: "memory",
    },
  } as const;
  const logged: string[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => void logged.push(args.join(" "));
  try {
    await withServer({ agents, env: { DB_PASSWORD: secret } }, async (server) => {
      const response = await fetch(`${server.url}/agents/broken/a`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "hi" }),
      });
      const text = await response.text();
      assert.ok(response.status >= 500, String(response.status));
      assert.doesNotMatch(text, /\.ts:\d+|file:\/\/|\n\s+at |pw-500/, text);
    });
  } finally {
    console.error = originalError;
  }
  assert.ok(!logged.join("\n").includes(secret), "the server log holds the secret");
});

// --- Dispatch ---

Deno.test("escape server: an idempotency key reused by another agent or session gets 422 and none of the first input", async () => {
  await withServer({}, async (server) => {
    const first = await fetch(`${server.url}/agents/assistant/alice/dispatch`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "shared-key" },
      body: JSON.stringify({ message: "ALICE-PRIVATE-TEXT", session: "s1" }),
    });
    assert.equal(first.status, 202);
    await first.body?.cancel();
    for (
      const [path, session] of [["/agents/assistant/mallory/dispatch", "s1"], [
        "/agents/assistant/alice/dispatch",
        "s2",
      ]]
    ) {
      const second = await fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": "shared-key" },
        body: JSON.stringify({ message: "anything", session }),
      });
      const text = await second.text();
      assert.equal(second.status, 422, text);
      assert.ok(!text.includes("ALICE-PRIVATE-TEXT") && !text.includes("alice"), text);
    }
  });
});

Deno.test("escape server: a poisoned input that always fails ends dead without blocking another session", async () => {
  const model = new FunctionModel((request) => {
    const text = String(request.messages.at(-1)!.content);
    if (text.includes("poison")) throw new Error("poisoned input");
    return "fine";
  });
  const worker = { pollMs: 10, backoff: { initialMs: 1, maxMs: 5 } };
  await withServer({ agents: { assistant: { model, sandbox: "memory" } }, worker }, async (server) => {
    const send = async (session: string, message: string) =>
      (await (await fetch(`${server.url}/agents/assistant/a/dispatch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message, session }),
      })).json()).dispatchId as string;
    const poisoned = await send("bad", "poison");
    const healthy = await send("good", "hello");
    const wait = async (id: string, until: string[]) => {
      let record = { status: "accepted", attempts: [] as unknown[] };
      for (let i = 0; i < 500 && !until.includes(record.status); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        record = await (await fetch(`${server.url}/dispatches/${encodeURIComponent(id)}`)).json();
      }
      return record;
    };
    assert.equal((await wait(healthy, ["done"])).status, "done");
    const dead = await wait(poisoned, ["dead"]);
    assert.equal(dead.status, "dead");
    assert.equal(dead.attempts.length, 5);
    // Replaying a dispatch that is not dead is refused; a dead one may be replayed once.
    const replayDone = await fetch(`${server.url}/dispatches/${encodeURIComponent(healthy)}/replay`, {
      method: "POST",
    });
    assert.equal(replayDone.status, 409);
    await replayDone.body?.cancel();
  });
});
