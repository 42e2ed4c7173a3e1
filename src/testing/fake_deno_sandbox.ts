/**
 * A fake of the Deno Sandbox API (`@deno/sandbox`) on 127.0.0.1: the WebSocket JSON-RPC the SDK speaks (create,
 * connect, file calls, processes with streamed output) and the REST delete, over real HTTP. Machines are temporary
 * host directories where commands run as host subprocesses, so use it only with commands a test chooses.
 *
 * @module
 */

import { encodeBase64 } from "./_base64.ts";
import { FakeMachine, FakeMachines, type FakeProcess } from "./_fake_machine.ts";

/** Options of {@linkcode startFakeDenoSandbox}. */
export interface FakeDenoSandboxOptions {
  /** The token the fake accepts. Default `"ddo_fake"`. */
  token?: string;
}

/** A running fake Deno Sandbox API. */
export interface FakeDenoSandboxServer {
  /** The endpoint, `http://127.0.0.1:<port>` (the SDK's `sandboxEndpoint`). */
  readonly url: string;
  /** The token it accepts. */
  readonly token: string;
  /** Options for `remoteSandbox("deno-sandbox", ...)` that point the real SDK here. */
  readonly options: { token: string; sandboxEndpoint: string };
  /** Every request line it received, such as `"GET /api/v3/sandboxes/create"` or `"rpc spawn"`. */
  readonly requests: string[];
  /** The options of each create, decoded from the `x-deno-sandbox-config` header. */
  readonly createConfigs: Record<string, unknown>[];
  /** The ids of the machines that exist. */
  machineIds(): string[];
  /** A machine by id. */
  machine(id: string): FakeMachine | undefined;
  /** Deletes a machine as the provider would on expiry: later connects get 404. */
  expire(id: string): Promise<void>;
  /** Closes every open WebSocket abruptly, as a dropped network would. */
  dropConnections(): void;
  /** Stops the server and deletes every machine. */
  close(): Promise<void>;
}

const ID_LETTERS = "0123456789abcdefghjkmnpqrstuvwxyz";

function sandboxId(): string {
  const random = crypto.getRandomValues(new Uint8Array(20));
  return `sbx_ord_${Array.from(random, (byte) => ID_LETTERS[byte % ID_LETTERS.length]).join("")}`;
}

interface RpcRequest {
  id: number;
  method: string;
  params: Record<string, unknown>;
}

/**
 * Starts a fake Deno Sandbox API on 127.0.0.1 with a free port.
 *
 * @example Pointing a remote sandbox at the fake
 * ```ts ignore
 * import { startFakeDenoSandbox } from "@flue/cli/testing";
 * import { init, remoteSandbox } from "@flue/cli";
 *
 * const fake = await startFakeDenoSandbox();
 * const agent = await init({ model: "test", store: "memory", sandbox: remoteSandbox("deno-sandbox", fake.options) });
 * // ... use the agent ...
 * await agent.close();
 * await fake.close();
 * ```
 *
 * @param options The accepted token.
 * @returns The running server.
 */
export function startFakeDenoSandbox(options: FakeDenoSandboxOptions = {}): Promise<FakeDenoSandboxServer> {
  const token = options.token ?? "ddo_fake";
  const machines = new FakeMachines(sandboxId);
  const requests: string[] = [];
  const createConfigs: Record<string, unknown>[] = [];
  const sockets = new Map<WebSocket, string>();

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    requests.push(`${request.method} ${url.pathname}`);
    if (request.headers.get("authorization") !== `Bearer ${token}`) {
      return Response.json({ code: "INVALID_TOKEN", message: "The access token is invalid" }, { status: 401 });
    }
    if (url.pathname === "/api/v3/sandboxes/create") {
      const config = request.headers.get("x-deno-sandbox-config");
      createConfigs.push(config ? JSON.parse(atob(config)) : {});
      const machine = await machines.create();
      return upgrade(request, machine);
    }
    const connect = /^\/api\/v3\/sandbox\/([^/]+)\/connect$/.exec(url.pathname);
    if (connect) {
      const machine = machines.get(connect[1]);
      if (!machine) return notFound(connect[1]);
      return upgrade(request, machine);
    }
    const one = /^\/api\/v3\/sandbox\/([^/]+)$/.exec(url.pathname);
    if (one && request.method === "DELETE") {
      if (!(await machines.delete(one[1]))) return notFound(one[1]);
      for (const [socket, id] of sockets) if (id === one[1]) socket.close(1000, "sandbox deleted");
      return Response.json({});
    }
    return Response.json({ code: "NOT_FOUND", message: `No route ${url.pathname}` }, { status: 404 });
  };

  const upgrade = (request: Request, machine: FakeMachine): Response => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    response.headers.set("x-deno-sandbox-id", machine.id);
    sockets.set(socket, machine.id);
    const processes = new Map<number, FakeProcess>();
    let nextStreamId = 1;
    socket.onclose = () => {
      sockets.delete(socket);
      for (const process of processes.values()) process.kill();
    };
    socket.onmessage = (event) => {
      if (event.data === "ping") return socket.send("pong");
      const message = JSON.parse(String(event.data));
      if (message.id === undefined) return; // notifications (stream cancel) need no answer
      requests.push(`rpc ${message.method}`);
      const send = (value: unknown) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(value));
      };
      answer(machine, message as RpcRequest, processes, () => nextStreamId++, send).then(
        (result) => send({ jsonrpc: "2.0", id: message.id, result }),
        (error) => send({ jsonrpc: "2.0", id: message.id, result: { error: errorObject(error) } }),
      );
    };
    return response;
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  const url = `http://127.0.0.1:${server.addr.port}`;
  return Promise.resolve({
    url,
    token,
    options: { token, sandboxEndpoint: url },
    requests,
    createConfigs,
    machineIds: () => machines.ids(),
    machine: (id) => machines.get(id),
    async expire(id) {
      await machines.delete(id);
      for (const [socket, machineId] of sockets) if (machineId === id) socket.close(1000, "sandbox expired");
    },
    dropConnections() {
      for (const socket of sockets.keys()) socket.close(4999, "dropped");
    },
    async close() {
      for (const socket of sockets.keys()) socket.close(1001, "server closing");
      await server.shutdown();
      await machines.clear();
    },
  });
}

function notFound(id: string): Response {
  return Response.json({ code: "SANDBOX_NOT_FOUND", message: `Sandbox ${id} not found` }, { status: 404 });
}

async function answer(
  machine: FakeMachine,
  request: RpcRequest,
  processes: Map<number, FakeProcess>,
  nextStreamId: () => number,
  send: (value: unknown) => void,
): Promise<unknown> {
  const params = request.params ?? {};
  const path = typeof params.path === "string" ? machine.hostPath(params.path) : "";
  switch (request.method) {
    case "readFile":
      return { ok: encodeBase64(await Deno.readFile(path)) };
    case "readTextFile":
      return { ok: await Deno.readTextFile(path) };
    case "writeFile":
      await Deno.writeFile(path, Uint8Array.from(atob(String(params.content)), (c) => c.charCodeAt(0)));
      return { ok: null };
    case "writeTextFile":
      await Deno.writeTextFile(path, String(params.content));
      return { ok: null };
    case "mkdir":
      await Deno.mkdir(path, { recursive: Boolean((params.options as { recursive?: boolean } | null)?.recursive) });
      return { ok: null };
    case "remove":
      await Deno.remove(path, { recursive: Boolean((params.options as { recursive?: boolean } | null)?.recursive) });
      return { ok: null };
    case "readDir": {
      const entries = [];
      for await (const entry of Deno.readDir(path)) entries.push(entry);
      return {
        ok: entries.map(({ name, isFile, isDirectory, isSymlink }) => ({ name, isFile, isDirectory, isSymlink })),
      };
    }
    case "stat": {
      const info = await Deno.stat(path);
      const time = (info.mtime ?? new Date(0)).toISOString();
      return {
        ok: {
          isFile: info.isFile,
          isDirectory: info.isDirectory,
          isSymlink: info.isSymlink,
          size: info.size,
          mtime: time,
          atime: time,
          birthtime: time,
          ctime: time,
          mode: info.mode ?? 0,
          dev: 0,
          ino: 0,
          nlink: 1,
          uid: 0,
          gid: 0,
          rdev: 0,
          blksize: 4096,
          blocks: 0,
          isBlockDevice: false,
          isCharDevice: false,
          isFifo: false,
          isSocket: false,
        },
      };
    }
    case "spawn": {
      const stdoutStreamId = nextStreamId();
      const stderrStreamId = nextStreamId();
      const stream = (streamId: number) => (chunk: Uint8Array) =>
        send({ jsonrpc: "2.0", method: "$sandbox.stream.enqueue", params: { streamId, data: encodeBase64(chunk) } });
      const started = machine.spawn({
        command: { argv: [String(params.command), ...((params.args as string[] | null) ?? [])] },
        cwd: typeof params.cwd === "string" ? params.cwd : undefined,
        env: (params.env as Record<string, string> | null) ?? undefined,
        onStdout: stream(stdoutStreamId),
        onStderr: stream(stderrStreamId),
      });
      processes.set(started.pid, started);
      // The answer goes first, then the streams open: the SDK picks up a stream started before it asked for it.
      queueMicrotask(() => {
        for (const streamId of [stdoutStreamId, stderrStreamId]) {
          send({ jsonrpc: "2.0", method: "$sandbox.stream.start", params: { streamId } });
        }
        started.exitCode.then(() => {
          for (const streamId of [stdoutStreamId, stderrStreamId]) {
            send({ jsonrpc: "2.0", method: "$sandbox.stream.end", params: { streamId } });
          }
        });
      });
      return { ok: { pid: started.pid, stdoutStreamId, stderrStreamId } };
    }
    case "processWait": {
      const process = processes.get(Number(params.pid));
      if (!process) throw Object.assign(new Error(`No process ${params.pid}`), { code: "ENOENT" });
      const code = await process.exitCode;
      processes.delete(Number(params.pid));
      return { ok: { success: code === 0, code, signal: code > 128 ? "SIGKILL" : null, oom: null } };
    }
    case "processKill":
      processes.get(Number(params.pid))?.kill();
      return { ok: null };
    default:
      throw new Error(`The fake Deno Sandbox does not implement "${request.method}"`);
  }
}

function errorObject(error: unknown): Record<string, unknown> {
  const known = error instanceof Error ? error : new Error(String(error));
  const constructorName = known instanceof Deno.errors.NotFound
    ? "NotFound"
    : known instanceof Deno.errors.IsADirectory
    ? "IsADirectory"
    : known instanceof Deno.errors.NotADirectory
    ? "NotADirectory"
    : known instanceof Deno.errors.AlreadyExists
    ? "AlreadyExists"
    : "Error";
  return { constructorName, message: known.message, code: (known as { code?: string }).code ?? null };
}
