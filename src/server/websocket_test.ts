import assert from "node:assert/strict";
import type { FlueContext } from "../agent/workflow.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { startTestServer, type TestServer } from "./testdata/test_server.ts";

type Frame = Record<string, unknown> & { type: string; requestId?: string };

/** A WebSocket client that queues the frames it receives. */
class Client {
  readonly socket: WebSocket;
  readonly #frames: Frame[] = [];
  #wake?: () => void;
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;

  constructor(url: string, protocols?: string[]) {
    this.socket = new WebSocket(url, protocols);
    this.opened = new Promise((resolve, reject) => {
      this.socket.onopen = () => resolve();
      this.socket.onerror = (event) => reject(new Error(`WebSocket failed: ${(event as ErrorEvent).message}`));
    });
    this.closed = new Promise((resolve) => this.socket.addEventListener("close", resolve));
    this.socket.onmessage = (message) => {
      this.#frames.push(JSON.parse(message.data));
      this.#wake?.();
    };
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next frame matching `accept`; frames before it are dropped. */
  async next(accept: (frame: Frame) => boolean = () => true): Promise<Frame> {
    for (let i = 0; i < 10_000; i++) {
      const index = this.#frames.findIndex(accept);
      if (index !== -1) return this.#frames.splice(0, index + 1).at(-1)!;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    throw new Error("no matching frame");
  }

  /** Every frame up to and including the first matching `accept`. */
  async until(accept: (frame: Frame) => boolean): Promise<Frame[]> {
    const seen: Frame[] = [];
    while (true) {
      const frame = await this.next();
      seen.push(frame);
      if (accept(frame)) return seen;
    }
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.closed;
  }
}

function connect(server: TestServer, path: string, protocols?: string[]): Client {
  return new Client(`${server.url.replace("http", "ws")}${path}`, protocols);
}

Deno.test("WebSocket v1: ready, ping/pong, and a prompt's started, events and result", async () => {
  const server = startTestServer({ agents: { assistant: { model: "test", sandbox: "memory" } } });
  const client = connect(server, "/agents/assistant/a1", ["flue.v1"]);
  try {
    await client.opened;
    assert.equal(client.socket.protocol, "flue.v1");
    assert.deepEqual(await client.next(), { type: "ready", version: 1, target: "agent", name: "assistant", id: "a1" });
    client.send({ type: "ping", requestId: "p1" });
    assert.deepEqual(await client.next(), { type: "pong", requestId: "p1" });
    client.send({ version: 1, type: "prompt", requestId: "r1", message: "Hello socket", session: "chat" });
    const frames = await client.until((frame) => frame.type === "result" || frame.type === "error");
    assert.deepEqual(frames[0], { type: "started", requestId: "r1" });
    const events = frames.filter((frame) => frame.type === "event");
    assert.ok(events.length >= 3);
    assert.ok(frames.every((frame) => frame.requestId === "r1"));
    assert.equal((events[0].event as { type: string }).type, "operation_start");
    assert.equal((events[0].event as { session: string }).session, "chat");
    const result = frames.at(-1)!;
    assert.equal(result.type, "result");
    assert.match((result.result as { text: string }).text, /Hello socket/);
    const history = await (await server.request("/agents/assistant/a1/history?session=chat")).json();
    assert.equal(history.entries.length, 2);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("WebSocket v1: bad frames get an error frame and the socket stays open", async () => {
  const server = startTestServer({ agents: { assistant: { model: "test", sandbox: "memory" } }, bodyLimit: 256 });
  const client = connect(server, "/agents/assistant/a1");
  try {
    await client.opened;
    await client.next((frame) => frame.type === "ready");
    const cases: [unknown, string][] = [
      ["{not json", "invalid_json"],
      ["[1,2]", "invalid_message"],
      [{ type: "dance" }, "invalid_message"],
      [{ type: "prompt", message: "no request id" }, "invalid_message"],
      [{ type: "prompt", requestId: "x", message: "" }, "invalid_request"],
      [{ type: "run", requestId: "x" }, "invalid_message"],
      [{ type: "ping", version: 2 }, "unsupported_version"],
      [{ type: "abort", requestId: "nothing" }, "request_not_found"],
      [JSON.stringify({ type: "ping", padding: "x".repeat(300) }), "payload_too_large"],
    ];
    for (const [frame, type] of cases) {
      client.send(frame);
      const reply = await client.next();
      assert.equal(reply.type, "error", JSON.stringify(frame));
      assert.equal((reply.error as { type: string }).type, type, JSON.stringify(frame));
    }
    client.socket.send(new Uint8Array([1, 2, 3]));
    assert.equal(((await client.next()).error as { type: string }).type, "invalid_message");
    client.send({ type: "ping" });
    assert.deepEqual(await client.next(), { type: "pong" });
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("WebSocket v1: abort cancels a prompt; a second prompt to the busy session is refused", async () => {
  const started = Promise.withResolvers<void>();
  const model = new FunctionModel((request) => {
    started.resolve();
    return new Promise((_, reject) => {
      request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true });
    });
  });
  const server = startTestServer({ agents: { slow: { model, sandbox: "memory" } } });
  const client = connect(server, "/agents/slow/a1");
  try {
    await client.opened;
    client.send({ type: "prompt", requestId: "long", message: "wait" });
    await client.next((frame) => frame.type === "started");
    await started.promise;
    client.send({ type: "prompt", requestId: "second", message: "me too" });
    const busy = await client.next((frame) => frame.requestId === "second");
    assert.equal((busy.error as { type: string }).type, "session_busy");
    client.send({ type: "prompt", requestId: "long", message: "same id" });
    const duplicate = await client.next((frame) => frame.type === "error" && frame.requestId === undefined);
    assert.match((duplicate.error as { message: string }).message, /already in progress/);
    client.send({ type: "abort", requestId: "long" });
    const frames = await client.until((frame) => frame.requestId === "long" && frame.type !== "event");
    const end = frames.at(-1)!;
    assert.equal(end.type, "error");
    assert.equal((end.error as { type: string }).type, "aborted");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("WebSocket v1 on a workflow: run gives started with the runId, the run's events and the result", async () => {
  const greet = {
    run(ctx: FlueContext<{ name: string }>) {
      ctx.log.info("greeting");
      return { greeting: `Hello ${ctx.payload.name}` };
    },
  };
  const failing = { run: () => Promise.reject(new TypeError("no")) };
  const server = startTestServer({ workflows: { greet, failing } });
  const client = connect(server, "/workflows/greet?id=w1");
  const other = connect(server, "/workflows/failing");
  try {
    await client.opened;
    assert.deepEqual(await client.next(), { type: "ready", version: 1, target: "workflow", name: "greet", id: "w1" });
    client.send({ type: "run", requestId: "r1", payload: { name: "Ada" } });
    const frames = await client.until((frame) => frame.type === "result" || frame.type === "error");
    const started = frames[0];
    assert.equal(started.type, "started");
    assert.match(started.runId as string, /^workflow:greet:/);
    const events = frames.filter((frame) => frame.type === "event").map((frame) => frame.event as { type: string });
    assert.deepEqual(events.map((event) => event.type), ["run_start", "log", "run_end"]);
    assert.deepEqual(frames.at(-1), {
      type: "result",
      requestId: "r1",
      runId: started.runId,
      result: { greeting: "Hello Ada" },
    });
    client.send({ type: "prompt", requestId: "p", message: "hi" });
    assert.equal(((await client.next()).error as { type: string }).type, "invalid_message");

    await other.opened;
    other.send({ type: "run", requestId: "f" });
    const failed = await other.next((frame) => frame.type === "error");
    assert.equal((failed.error as { type: string }).type, "workflow_failed");
    assert.equal(typeof failed.runId, "string");
  } finally {
    await client.close();
    await other.close();
    await server.close();
  }
});

Deno.test("WebSocket needs the token when one is set: Authorization header or the flue.token subprotocol", async () => {
  const token = "a-long-random-test-token-123";
  const server = startTestServer({ agents: { assistant: { model: "test", sandbox: "memory" } }, token });
  try {
    const refused = connect(server, "/agents/assistant/a1");
    await assert.rejects(refused.opened);
    await refused.closed;
    const wrong = connect(server, "/agents/assistant/a1", ["flue.v1", "flue.token.not-the-token-at-all"]);
    await assert.rejects(wrong.opened);
    await wrong.closed;
    const client = connect(server, "/agents/assistant/a1", ["flue.v1", `flue.token.${token}`]);
    await client.opened;
    assert.equal(client.socket.protocol, "flue.v1", "the token is never echoed back");
    assert.equal((await client.next()).type, "ready");
    await client.close();
    const upgrade = await fetch(`${server.url}/agents/assistant/a1`, {
      headers: { authorization: `Bearer ${token}`, upgrade: "websocket" },
    });
    assert.equal(upgrade.status, 400, "past authentication, refused as a broken handshake");
    await upgrade.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("closing the server closes open sockets with 1001", async () => {
  const server = startTestServer({ agents: { assistant: { model: "test", sandbox: "memory" } } });
  const client = connect(server, "/agents/assistant/a1");
  await client.opened;
  await client.next();
  await server.close();
  assert.equal((await client.closed).code, 1001);
});
