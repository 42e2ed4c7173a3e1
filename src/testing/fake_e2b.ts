/**
 * A fake of E2B on 127.0.0.1: the control plane (create, connect, kill) and the sandbox daemon (`envd`: Connect-RPC
 * with the JSON codec for processes and file calls, REST `/files`), over real HTTP on one port, as the `e2b` SDK
 * speaks them with `apiUrl` and `sandboxUrl` pointed here. Machines are temporary host directories where commands run
 * as host subprocesses, so use it only with commands a test chooses.
 *
 * @module
 */

import { encodeBase64 } from "./_base64.ts";
import { type FakeMachine, FakeMachines, type FakeProcess } from "./_fake_machine.ts";

/** Options of {@linkcode startFakeE2B}. */
export interface FakeE2BOptions {
  /** The API key the fake accepts. Default `"e2b_fake"`. */
  apiKey?: string;
}

/** A running fake E2B. */
export interface FakeE2BServer {
  /** The base URL, `http://127.0.0.1:<port>`, for both `apiUrl` and `sandboxUrl`. */
  readonly url: string;
  /** The API key it accepts. */
  readonly apiKey: string;
  /** Options for `remoteSandbox("e2b", ...)` that point the real SDK here. */
  readonly options: { apiKey: string; apiUrl: string; sandboxUrl: string };
  /** Every request it received, such as `"POST /v2/sandboxes"` or `"POST /process.Process/Start"`. */
  readonly requests: string[];
  /** The JSON body of each create. */
  readonly createBodies: Record<string, unknown>[];
  /** The ids of the machines that exist. */
  machineIds(): string[];
  /** A machine by id. */
  machine(id: string): FakeMachine | undefined;
  /** Deletes a machine as the provider would on expiry: later calls find it gone. */
  expire(id: string): Promise<void>;
  /** Ends every running command's response stream abruptly, as a dropped connection would. */
  dropConnections(): void;
  /** Stops the server and deletes every machine. */
  close(): Promise<void>;
}

const ENVD_VERSION = "0.5.7";

/**
 * Starts a fake E2B on 127.0.0.1 with a free port.
 *
 * @example Pointing a remote sandbox at the fake
 * ```ts ignore
 * import { startFakeE2B } from "@flue/cli/testing";
 * import { init, remoteSandbox } from "@flue/cli";
 *
 * const fake = await startFakeE2B();
 * const agent = await init({ model: "test", store: "memory", sandbox: remoteSandbox("e2b", fake.options) });
 * // ... use the agent ...
 * await agent.close();
 * await fake.close();
 * ```
 *
 * @param options The accepted API key.
 * @returns The running server.
 */
export function startFakeE2B(options: FakeE2BOptions = {}): Promise<FakeE2BServer> {
  const apiKey = options.apiKey ?? "e2b_fake";
  const machines = new FakeMachines(() => `i${crypto.randomUUID().replaceAll("-", "").slice(0, 19)}`);
  const accessTokens = new Map<string, string>();
  const requests: string[] = [];
  const createBodies: Record<string, unknown>[] = [];
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();

  const sandboxReply = (machine: FakeMachine) => ({
    sandboxID: machine.id,
    templateID: "base",
    clientID: "fake",
    envdVersion: ENVD_VERSION,
    envdAccessToken: accessTokens.get(machine.id),
  });

  const controlPlane = async (request: Request, path: string): Promise<Response> => {
    if (request.headers.get("x-api-key") !== apiKey) {
      return Response.json({ code: 401, message: "Invalid API key" }, { status: 401 });
    }
    if (request.method === "POST" && path === "/v2/sandboxes") {
      createBodies.push(await request.json());
      const machine = await machines.create();
      await Deno.mkdir(machine.hostPath("/home/user"), { recursive: true });
      accessTokens.set(machine.id, crypto.randomUUID());
      return Response.json(sandboxReply(machine), { status: 201 });
    }
    const connect = /^\/v2\/sandboxes\/([^/]+)\/connect$/.exec(path);
    if (request.method === "POST" && connect) {
      const machine = machines.get(connect[1]);
      if (!machine) return Response.json({ code: 404, message: `Sandbox ${connect[1]} not found` }, { status: 404 });
      return Response.json(sandboxReply(machine), { status: 200 });
    }
    const one = /^\/sandboxes\/([^/]+)$/.exec(path);
    if (request.method === "DELETE" && one) {
      accessTokens.delete(one[1]);
      if (!(await machines.delete(one[1]))) {
        return Response.json({ code: 404, message: `Sandbox ${one[1]} not found` }, { status: 404 });
      }
      return new Response(null, { status: 204 });
    }
    return Response.json({ code: 404, message: `No route ${request.method} ${path}` }, { status: 404 });
  };

  const daemon = async (request: Request, url: URL, machine: FakeMachine): Promise<Response> => {
    if (request.headers.get("x-access-token") !== accessTokens.get(machine.id)) {
      return Response.json({ code: "unauthenticated", message: "Invalid access token" }, { status: 401 });
    }
    const path = url.pathname;
    if (path === "/health") return new Response(null, { status: 204 });
    if (path === "/files") return await files(request, url, machine);
    if (path === "/process.Process/Start") return startProcess(request, machine, streams);
    const body = await request.json().catch(() => ({}));
    try {
      return Response.json(await unary(path, body, machine));
    } catch (error) {
      return connectError(error);
    }
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const url = new URL(request.url);
    requests.push(`${request.method} ${url.pathname}`);
    const sandboxId = request.headers.get("e2b-sandbox-id");
    if (!sandboxId) return await controlPlane(request, url.pathname);
    const machine = machines.get(sandboxId);
    // E2B's edge answers 502 for a sandbox that is not running; the SDK reads it as "sandbox timed out".
    if (!machine) return new Response(`The sandbox ${sandboxId} was not found`, { status: 502 });
    return await daemon(request, url, machine);
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  return Promise.resolve({
    url,
    apiKey,
    options: { apiKey, apiUrl: url, sandboxUrl: url },
    requests,
    createBodies,
    machineIds: () => machines.ids(),
    machine: (id) => machines.get(id),
    async expire(id) {
      accessTokens.delete(id);
      await machines.delete(id);
    },
    dropConnections() {
      for (const stream of streams) stream.error(new Error("dropped"));
      streams.clear();
    },
    async close() {
      for (const stream of streams) stream.error(new Error("server closing"));
      streams.clear();
      await server.shutdown();
      await machines.clear();
    },
  });
}

async function files(request: Request, url: URL, machine: FakeMachine): Promise<Response> {
  const path = url.searchParams.get("path") ?? "";
  const hostPath = machine.hostPath(path.startsWith("/") ? path : `/home/user/${path}`);
  if (request.method === "GET") {
    try {
      const info = await Deno.stat(hostPath);
      if (info.isDirectory) {
        return Response.json({ code: 400, message: `path ${path} is a directory` }, { status: 400 });
      }
      return new Response(await Deno.readFile(hostPath), { headers: { "content-type": "application/octet-stream" } });
    } catch {
      return Response.json({ code: 404, message: `path ${path} does not exist` }, { status: 404 });
    }
  }
  const form = await request.formData();
  const file = form.get("file");
  if (!(file instanceof Blob)) return Response.json({ code: 400, message: "No file part" }, { status: 400 });
  await machine.writeFile(machine.hostPath(path).slice(machine.dir.length), new Uint8Array(await file.arrayBuffer()));
  return Response.json([{ name: path.slice(path.lastIndexOf("/") + 1), type: "file", path }]);
}

interface EntryInfo {
  name: string;
  type: number;
  path: string;
  size: string;
  mode: number;
  permissions: string;
  owner: string;
  group: string;
  modifiedTime: string;
  symlinkTarget?: string;
}

async function entryInfo(machine: FakeMachine, path: string): Promise<EntryInfo> {
  const info = await Deno.lstat(machine.hostPath(path));
  return {
    name: path.slice(path.lastIndexOf("/") + 1),
    type: info.isSymlink ? 3 : info.isDirectory ? 2 : 1,
    path,
    size: String(info.size),
    mode: info.mode ?? 0o644,
    permissions: "-rw-r--r--",
    owner: "user",
    group: "user",
    modifiedTime: (info.mtime ?? new Date(0)).toISOString(),
    ...(info.isSymlink ? { symlinkTarget: await Deno.readLink(machine.hostPath(path)) } : {}),
  };
}

class ConnectCodeError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

async function unary(path: string, body: Record<string, unknown>, machine: FakeMachine): Promise<unknown> {
  const target = typeof body.path === "string" ? body.path : "";
  const exists = async () => {
    try {
      await Deno.lstat(machine.hostPath(target));
    } catch {
      throw new ConnectCodeError("not_found", `path ${target} does not exist`);
    }
  };
  switch (path) {
    case "/filesystem.Filesystem/Stat":
      await exists();
      return { entry: await entryInfo(machine, target) };
    case "/filesystem.Filesystem/ListDir": {
      await exists();
      const entries = [];
      for await (const entry of Deno.readDir(machine.hostPath(target))) {
        entries.push(await entryInfo(machine, `${target.replace(/\/$/, "")}/${entry.name}`));
      }
      return { entries };
    }
    case "/filesystem.Filesystem/MakeDir": {
      if (await Deno.lstat(machine.hostPath(target)).then(() => true, () => false)) {
        throw new ConnectCodeError("already_exists", `directory ${target} already exists`);
      }
      await Deno.mkdir(machine.hostPath(target), { recursive: true });
      return { entry: await entryInfo(machine, target) };
    }
    case "/filesystem.Filesystem/Remove":
      await exists();
      await Deno.remove(machine.hostPath(target), { recursive: true });
      return {};
    case "/process.Process/SendSignal": {
      const pid = Number((body.process as { pid?: number } | undefined)?.pid);
      runningProcesses.get(pid)?.kill();
      return {};
    }
    default:
      throw new ConnectCodeError("unimplemented", `The fake E2B does not implement ${path}`);
  }
}

const HTTP_STATUS: Record<string, number> = { not_found: 404, already_exists: 409, unimplemented: 501 };

function connectError(error: unknown): Response {
  const code = error instanceof ConnectCodeError ? error.code : "internal";
  const message = error instanceof Error ? error.message : String(error);
  return Response.json({ code, message }, { status: HTTP_STATUS[code] ?? 500 });
}

const runningProcesses = new Map<number, FakeProcess>();

function envelope(flags: number, value: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(value));
  const frame = new Uint8Array(5 + json.length);
  frame[0] = flags;
  new DataView(frame.buffer).setUint32(1, json.length);
  frame.set(json, 5);
  return frame;
}

async function startProcess(
  request: Request,
  machine: FakeMachine,
  streams: Set<ReadableStreamDefaultController<Uint8Array>>,
): Promise<Response> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  const length = new DataView(bytes.buffer).getUint32(1);
  const message = JSON.parse(new TextDecoder().decode(bytes.subarray(5, 5 + length)));
  const spec = message.process as { cmd: string; args?: string[]; envs?: Record<string, string>; cwd?: string };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  const send = (value: unknown) => {
    if (open) controller.enqueue(envelope(0, { event: value }));
  };
  const body = new ReadableStream<Uint8Array>({
    start(own) {
      controller = own;
      streams.add(own);
    },
    cancel() {
      open = false;
      streams.delete(controller);
      started.kill();
    },
  });
  const started = machine.spawn({
    command: { argv: [spec.cmd, ...(spec.args ?? [])] },
    cwd: spec.cwd ?? "/home/user",
    env: spec.envs,
    onStdout: (chunk) => send({ data: { stdout: encodeBase64(chunk) } }),
    onStderr: (chunk) => send({ data: { stderr: encodeBase64(chunk) } }),
  });
  runningProcesses.set(started.pid, started);
  send({ start: { pid: started.pid } });
  started.exitCode.then((exitCode) => {
    runningProcesses.delete(started.pid);
    if (!open || !streams.has(controller)) return;
    send({ end: { exitCode, exited: true, status: `exit status ${exitCode}` } });
    controller.enqueue(envelope(2, {}));
    controller.close();
    open = false;
    streams.delete(controller);
  });
  return new Response(body, { headers: { "content-type": "application/connect+json" } });
}
