/**
 * A fake of Daytona on 127.0.0.1: the REST control plane (create, get, delete, preview token) and the sandbox toolbox
 * (sessions whose command output streams over a WebSocket, file calls with multipart transfer), over real HTTP on one
 * port, as `@daytonaio/sdk` speaks them with `apiUrl` pointed here. Machines are temporary host directories where
 * commands run as host subprocesses, so use it only with commands a test chooses.
 *
 * @module
 */

import { type FakeMachine, FakeMachines, type FakeProcess } from "./_fake_machine.ts";

/** Options of {@linkcode startFakeDaytona}. */
export interface FakeDaytonaOptions {
  /** The API key the fake accepts. Default `"dtn_fake"`. */
  apiKey?: string;
}

/** A running fake Daytona. */
export interface FakeDaytonaServer {
  /** The server's base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The API base URL (`<url>/api`), as `DAYTONA_API_URL` takes it. */
  readonly apiUrl: string;
  /** The API key it accepts. */
  readonly apiKey: string;
  /** Options for `remoteSandbox("daytona", ...)` that point the real SDK here. */
  readonly options: { apiKey: string; apiUrl: string };
  /** Every request it received, such as `"POST /api/sandbox"` or `"POST /toolbox/<id>/process/session"`. */
  readonly requests: string[];
  /** The JSON body of each create. */
  readonly createBodies: Record<string, unknown>[];
  /** The ids of the machines that exist. */
  machineIds(): string[];
  /** A machine by id. */
  machine(id: string): FakeMachine | undefined;
  /** Deletes a machine as the provider would on expiry: later calls find it gone. */
  expire(id: string): Promise<void>;
  /** Closes every open log stream abruptly, as a dropped connection would. */
  dropConnections(): void;
  /** Stops the server and deletes every machine. */
  close(): Promise<void>;
}

interface FakeCommand {
  id: string;
  command: string;
  process: FakeProcess;
  /** Output so far, each chunk with its stream's marker, for late log followers. */
  chunks: Uint8Array[];
  followers: Set<WebSocket>;
  exitCode?: number;
}

const STDOUT_MARK = [1, 1, 1];
const STDERR_MARK = [2, 2, 2];

/**
 * Starts a fake Daytona on 127.0.0.1 with a free port.
 *
 * @example Pointing a remote sandbox at the fake
 * ```ts ignore
 * import { startFakeDaytona } from "@flue/cli/testing";
 * import { init, remoteSandbox } from "@flue/cli";
 *
 * const fake = await startFakeDaytona();
 * const agent = await init({ model: "test", store: "memory", sandbox: remoteSandbox("daytona", fake.options) });
 * // ... use the agent ...
 * await agent.close();
 * await fake.close();
 * ```
 *
 * @param options The accepted API key.
 * @returns The running server.
 */
export function startFakeDaytona(options: FakeDaytonaOptions = {}): Promise<FakeDaytonaServer> {
  const apiKey = options.apiKey ?? "dtn_fake";
  const machines = new FakeMachines(() => crypto.randomUUID());
  const previewTokens = new Map<string, string>();
  // Machine id, then session id, then command id.
  const sessions = new Map<string, Map<string, Map<string, FakeCommand>>>();
  const requests: string[] = [];
  const createBodies: Record<string, unknown>[] = [];
  const sockets = new Set<WebSocket>();
  let url = "";

  const sandboxReply = (machine: FakeMachine, body: Record<string, unknown> = {}) => ({
    id: machine.id,
    name: machine.id,
    organizationId: "fake",
    user: "daytona",
    env: {},
    labels: body.labels ?? {},
    public: false,
    target: body.target ?? "us",
    cpu: 1,
    gpu: 0,
    memory: 1,
    disk: 3,
    state: "started",
    networkBlockAll: body.networkBlockAll ?? false,
    toolboxProxyUrl: `${url}/toolbox`,
  });
  const notFound = (what: string) =>
    Response.json({ statusCode: 404, message: `${what} not found`, error: "Not Found" }, { status: 404 });

  const controlPlane = async (request: Request, path: string): Promise<Response> => {
    if (request.headers.get("authorization") !== `Bearer ${apiKey}`) {
      return Response.json({ statusCode: 401, message: "Invalid API key", error: "Unauthorized" }, { status: 401 });
    }
    if (request.method === "POST" && path === "/sandbox") {
      const body = await request.json();
      createBodies.push(body);
      const machine = await machines.create();
      await Deno.mkdir(machine.hostPath("/home/daytona"), { recursive: true });
      await Deno.mkdir(machine.hostPath("/tmp"), { recursive: true });
      previewTokens.set(machine.id, crypto.randomUUID());
      sessions.set(machine.id, new Map());
      return Response.json(sandboxReply(machine, body));
    }
    const preview = /^\/sandbox\/([^/]+)\/ports\/(\d+)\/preview-url$/.exec(path);
    if (request.method === "GET" && preview) {
      const machine = machines.get(preview[1]);
      if (!machine) return notFound(`Sandbox with ID or name ${preview[1]}`);
      return Response.json({
        sandboxId: machine.id,
        url: `${url}/toolbox/${machine.id}`,
        token: previewTokens.get(machine.id),
      });
    }
    const one = /^\/sandbox\/([^/]+)$/.exec(path);
    if (one) {
      const machine = machines.get(one[1]);
      if (!machine) return notFound(`Sandbox with ID or name ${one[1]}`);
      if (request.method === "GET") return Response.json(sandboxReply(machine));
      if (request.method === "DELETE") {
        await expire(machine.id);
        return Response.json({ ...sandboxReply(machine), state: "destroyed" });
      }
    }
    return notFound(`Route ${request.method} ${path}`);
  };

  const expire = async (id: string) => {
    for (const commands of sessions.get(id)?.values() ?? []) {
      for (const command of commands.values()) command.process.kill();
    }
    sessions.delete(id);
    previewTokens.delete(id);
    await machines.delete(id);
  };

  const toolbox = async (request: Request, requestUrl: URL, machine: FakeMachine, rest: string): Promise<Response> => {
    const viaPreview = requestUrl.searchParams.get("DAYTONA_SANDBOX_AUTH_KEY");
    const authorized = viaPreview !== null
      ? viaPreview === previewTokens.get(machine.id)
      : request.headers.get("authorization") === `Bearer ${apiKey}`;
    if (!authorized) return Response.json({ message: "Unauthorized" }, { status: 401 });
    const machineSessions = sessions.get(machine.id)!;
    if (rest === "/process/session" && request.method === "POST") {
      const { sessionId } = await request.json();
      if (machineSessions.has(sessionId)) return Response.json({ message: "session exists" }, { status: 409 });
      machineSessions.set(sessionId, new Map());
      return new Response(null, { status: 201 });
    }
    const sessionMatch = /^\/process\/session\/([^/]+)(\/.*)?$/.exec(rest);
    if (sessionMatch) {
      const commands = machineSessions.get(sessionMatch[1]);
      if (!commands) return notFound(`session ${sessionMatch[1]}`);
      const tail = sessionMatch[2] ?? "";
      if (tail === "" && request.method === "DELETE") {
        for (const command of commands.values()) command.process.kill();
        machineSessions.delete(sessionMatch[1]);
        return new Response(null, { status: 204 });
      }
      if (tail === "/exec" && request.method === "POST") {
        const body = await request.json();
        return Response.json(execute(machine, commands, String(body.command)));
      }
      const commandMatch = /^\/command\/([^/]+)(\/logs)?$/.exec(tail);
      const command = commandMatch ? commands.get(commandMatch[1]) : undefined;
      if (commandMatch && !command) return notFound(`command ${commandMatch[1]}`);
      if (command && commandMatch?.[2] && request.headers.get("upgrade")?.toLowerCase() === "websocket") {
        return followLogs(request, command);
      }
      if (command && !commandMatch?.[2]) {
        return Response.json({ id: command.id, command: command.command, exitCode: command.exitCode });
      }
    }
    if (rest.startsWith("/files")) return await files(request, requestUrl, machine, rest);
    return notFound(`Route ${request.method} ${rest}`);
  };

  const followLogs = (request: Request, command: FakeCommand): Response => {
    const offered = request.headers.get("sec-websocket-protocol")?.split(",")[0]?.trim();
    const { socket, response } = Deno.upgradeWebSocket(request, offered ? { protocol: offered } : {});
    socket.onopen = () => {
      for (const chunk of command.chunks) socket.send(chunk);
      if (command.exitCode !== undefined) socket.close(1000);
      else {
        command.followers.add(socket);
        sockets.add(socket);
      }
    };
    socket.onclose = () => {
      command.followers.delete(socket);
      sockets.delete(socket);
    };
    return response;
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const requestUrl = new URL(request.url);
    const path = requestUrl.pathname;
    requests.push(`${request.method} ${path}`);
    if (path.startsWith("/api/")) return await controlPlane(request, path.slice("/api".length));
    const toolboxMatch = /^\/toolbox\/([^/]+)(\/.*)$/.exec(path);
    if (toolboxMatch) {
      const machine = machines.get(toolboxMatch[1]);
      // Daytona's proxy answers 404 for a sandbox it does not know.
      if (!machine) return notFound(`Sandbox ${toolboxMatch[1]}`);
      return await toolbox(request, requestUrl, machine, toolboxMatch[2]);
    }
    return notFound(`Route ${request.method} ${path}`);
  });
  url = `http://127.0.0.1:${server.addr.port}`;
  const apiUrl = `${url}/api`;
  return Promise.resolve({
    url,
    apiUrl,
    apiKey,
    options: { apiKey, apiUrl },
    requests,
    createBodies,
    machineIds: () => machines.ids(),
    machine: (id) => machines.get(id),
    expire,
    dropConnections() {
      for (const socket of sockets) socket.close(1011, "dropped");
      sockets.clear();
    },
    async close() {
      for (const socket of sockets) socket.close(1001, "server closing");
      sockets.clear();
      for (const id of machines.ids()) await expire(id);
      await server.shutdown();
      await machines.clear();
    },
  });
}

/** Runs a session command as Daytona's daemon does: the command line through bash, output kept for log followers. */
function execute(machine: FakeMachine, commands: Map<string, FakeCommand>, line: string): { cmdId: string } {
  const id = crypto.randomUUID();
  const command: FakeCommand = { id, command: line, chunks: [], followers: new Set(), process: undefined! };
  const emit = (mark: number[], bytes: Uint8Array) => {
    const chunk = new Uint8Array(mark.length + bytes.length);
    chunk.set(mark);
    chunk.set(bytes, mark.length);
    command.chunks.push(chunk);
    for (const socket of command.followers) socket.send(chunk);
  };
  // The fake's commands run on the host, so the machine paths a command line names (its cwd under the home
  // directory, files in /tmp) are mapped into the machine's directory, as the real machine's root would hold them.
  const hosted = line.replaceAll(
    /(?<=^|[\s'"(;&|])\/(home|tmp)\//g,
    (_match, top) => `${machine.hostPath(`/${top}`)}/`,
  );
  command.process = machine.spawn({
    command: { script: hosted },
    cwd: "/home/daytona",
    onStdout: (bytes) => emit(STDOUT_MARK, bytes),
    onStderr: (bytes) => emit(STDERR_MARK, bytes),
  });
  commands.set(id, command);
  command.process.exitCode.then((code) => {
    command.exitCode = code;
    for (const socket of command.followers) socket.close(1000);
  });
  return { cmdId: id };
}

async function files(request: Request, url: URL, machine: FakeMachine, rest: string): Promise<Response> {
  const path = url.searchParams.get("path") ?? "";
  if (rest === "/files/bulk-upload" && request.method === "POST") {
    const form = await request.formData();
    for (let i = 0; form.has(`files[${i}].path`); i++) {
      const file = form.get(`files[${i}].file`);
      if (!(file instanceof Blob)) return Response.json({ message: "No file part" }, { status: 400 });
      await machine.writeFile(String(form.get(`files[${i}].path`)), new Uint8Array(await file.arrayBuffer()));
    }
    return new Response(null, { status: 200 });
  }
  if (rest === "/files/bulk-download" && request.method === "POST") {
    const { paths } = await request.json() as { paths: string[] };
    const form = new FormData();
    for (const source of paths) {
      try {
        const info = await Deno.stat(machine.hostPath(source));
        if (info.isDirectory) throw new FileFault(400, `Path ${source} is a directory`, "IS_A_DIRECTORY");
        form.append("file", new Blob([await Deno.readFile(machine.hostPath(source))]), source);
      } catch (error) {
        const fault = error instanceof FileFault ? error : new FileFault(404, `File ${source} not found`, "NOT_FOUND");
        const payload = JSON.stringify({ message: fault.message, statusCode: fault.status, code: fault.code });
        form.append("error", new Blob([payload], { type: "application/json" }), source);
      }
    }
    return new Response(form);
  }
  try {
    if (rest === "/files/info" && request.method === "GET") return Response.json(await fileInfo(machine, path));
    if (rest === "/files/folder" && request.method === "POST") {
      await Deno.mkdir(machine.hostPath(path), { recursive: true });
      return new Response(null, { status: 201 });
    }
    if (rest === "/files" && request.method === "GET") {
      const entries = [];
      for await (const entry of Deno.readDir(machine.hostPath(path))) {
        entries.push(await fileInfo(machine, `${path.replace(/\/$/, "")}/${entry.name}`));
      }
      return Response.json(entries);
    }
    if (rest === "/files" && request.method === "DELETE") {
      await Deno.remove(machine.hostPath(path), { recursive: url.searchParams.get("recursive") === "true" });
      return new Response(null, { status: 204 });
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return Response.json({ statusCode: 404, message: `Path ${path} not found` }, { status: 404 });
    }
    return Response.json({ statusCode: 400, message: String(error) }, { status: 400 });
  }
  return Response.json({ message: `No route ${request.method} ${rest}` }, { status: 404 });
}

class FileFault extends Error {
  constructor(readonly status: number, message: string, readonly code: string) {
    super(message);
  }
}

/** Daytona's file info; `mode` is Go's `FileMode.String()` of the link itself, so a symlink starts with `L`. */
async function fileInfo(machine: FakeMachine, path: string): Promise<Record<string, unknown>> {
  const link = await Deno.lstat(machine.hostPath(path));
  const info = link.isSymlink ? await Deno.stat(machine.hostPath(path)) : link;
  const permissions = ((info.mode ?? 0o644) & 0o777).toString(8);
  const modified = (info.mtime ?? new Date()).toISOString();
  return {
    name: path.slice(path.lastIndexOf("/") + 1),
    path,
    isDir: info.isDirectory,
    size: info.size,
    mode: `${link.isSymlink ? "L" : info.isDirectory ? "d" : "-"}rw-r--r--`,
    permissions,
    owner: "daytona",
    group: "daytona",
    modTime: modified,
    modifiedAt: modified,
  };
}
