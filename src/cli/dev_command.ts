/**
 * `flue dev`: serves the project like `flue serve`, prints its routes, and restarts the server when the project's
 * files change.
 *
 * The server runs in a child process (`flue serve --routes`) that is replaced on each change. Deno caches imported
 * modules for the life of a process, so reloading in place would need a cache-busting query on every import, which
 * misses the helpers an agent module imports and grows memory with each reload; a fresh process reloads the whole
 * module graph and the configuration, and a module that fails to load cannot take `flue dev` down with it.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openProject } from "../project/project.ts";
import { watchProject } from "./_project_watcher.ts";
import { checkServeFlags, DEFAULT_PORT, type ServeFlags } from "./serve_command.ts";
import { type CliIo, type Styles, styles } from "./terminal.ts";
import { formatManifest, type Manifest } from "./routes_command.ts";
import { envToken } from "../server/project_app.ts";
import { startErrorServer } from "./_dev_error_server.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { UsageError } from "./usage_error.ts";

const FLAGS = ["--port", "--hostname", "--project", "--grace-ms", "--debounce-ms", "--help"];
const DEV_GRACE_MS = 2000;
const LISTENING = /^Listening on (http\S+)/;

/** The help text of `flue dev`. */
export const DEV_HELP: string = `Usage:
  flue dev [--port ${DEFAULT_PORT}] [--hostname 127.0.0.1] [--project <dir>]

Serves the project like "flue serve", prints its routes, and restarts the server when a file in src/, agents/,
workflows/, .agents/ (skills, roles), deno.json or AGENTS.md changes. Changes under .flue/ (the database, sandboxes)
do not reload, except its agents/ and workflows/ folders, nor do editors' temporary files. The server runs in a child
process with --allow-all and the project's deno.json, so each reload loads every module afresh. It serves the
development UI at / (docs/dev_ui.md), prints one line per request, one line per reload naming the files changed, and
the route table when it changed. While a module fails to load, the port stays open and answers with the error (a page
for browsers, 503 project_not_loaded for clients) until the next change. Ctrl-C stops it.

Options:
      --port <n>            port, 0 for any free one, kept across reloads (default ${DEFAULT_PORT})
      --hostname <host>     listen address (default 127.0.0.1); beyond loopback it needs FLUE_API_TOKEN
      --project <dir>       project directory (default: current directory)
      --grace-ms <ms>       how long running work may take to finish before a reload (default ${DEV_GRACE_MS})
      --debounce-ms <ms>    quiet time after a change before reloading (default 150)
  -h, --help                show this help
`;

/**
 * Runs `flue dev`.
 *
 * @param args The arguments after `dev`.
 * @param io Where to write.
 * @returns The exit status: 0 when stopped by SIGINT or SIGTERM.
 */
export async function devCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {
    port: { type: "string" },
    hostname: { type: "string" },
    project: { type: "string" },
    "grace-ms": { type: "string" },
    "debounce-ms": { type: "string" },
    help: { type: "boolean", short: "h" },
  }, FLAGS);
  if (parsed.positionals.length > 0) {
    throw new UsageError(
      `flue dev takes no arguments, got "${parsed.positionals[0]}": use the flags, such as --port 2024`,
    );
  }
  const { values } = parsed;
  if (values.help) {
    io.stdout(DEV_HELP);
    return 0;
  }
  const flags = checkServeFlags(values);
  const debounceMs = Number(values["debounce-ms"] ?? 150);
  if (!Number.isSafeInteger(debounceMs) || debounceMs < 10 || debounceMs > 10_000) {
    throw new UsageError(`--debounce-ms must be a whole number from 10 to 10000, got "${values["debounce-ms"]}"`);
  }
  // Fails early, with the configuration's own message, when the folder is not a usable project.
  const project = await openProject(flags.project);
  const style = styles(io.color);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, onSignal);
  // The watchers open before the first server starts, so no change made once it listens is missed: an async
  // generator's body runs only from its first `next()`, so that call is made here and its batch kept for the loop.
  const watching = Promise.withResolvers<void>();
  const changes = watchProject(project.dir, { debounceMs, signal: stop.signal, onReady: watching.resolve });
  let next = changes.next();
  await Promise.race([watching.promise, next]);
  let port = flags.port;
  let printedRoutes: string | undefined;
  try {
    while (!stop.signal.aborted) {
      const child = await startServer({ ...flags, project: project.dir, port }, io);
      const url = await child.listening;
      if (url) {
        port = Number(new URL(url).port);
        // The route table only when it changed: a reload that only edits code keeps it on screen.
        const routes = await readRoutes(url, style);
        if (routes !== undefined && routes !== printedRoutes) {
          if (printedRoutes === undefined) io.stdout(`${style.bold("Development UI:")} ${url}/\n`);
          io.stdout(routes);
          printedRoutes = routes;
        }
      }
      // Wait for a change, the end of `flue dev`, or the server's own exit (a module that failed to load).
      const outcome = await Promise.race([
        next.then((batch) => ({ kind: "change" as const, paths: batch.done ? [] : batch.value })),
        child.status.then((status) => ({ kind: "exit" as const, status })),
      ]);
      if (outcome.kind === "exit") {
        if (stop.signal.aborted) break;
        io.stderr(
          `${
            style.red(`The server exited with status ${outcome.status.code}`)
          }: fix what it printed above; flue dev reloads on the next change\n`,
        );
        // The port stays open and answers with the error, so a browser or client sees why instead of a refusal.
        const errorServer = startErrorServer(flags.hostname, port, child.output());
        if (errorServer) port = errorServer.addr.port;
        const batch = await next;
        next = changes.next();
        await errorServer?.shutdown();
        if (batch.done) break;
        io.stderr(`${style.cyan("Reloading:")} ${describeBatch(batch.value)}\n`);
        continue;
      }
      if (stop.signal.aborted) {
        await child.stop();
        break;
      }
      next = changes.next();
      io.stderr(`${style.cyan("Reloading:")} ${describeBatch(outcome.paths)}\n`);
      await child.stop();
    }
  } finally {
    for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(signal, onSignal);
    stop.abort();
    await changes.return(undefined);
  }
  return 0;
}

/** A `flue serve` child process. */
interface ServerChild {
  /** Its URL once it prints "Listening on", or `undefined` when it exited first. */
  listening: Promise<string | undefined>;
  /** Settles when it exits. */
  status: Promise<Deno.CommandStatus>;
  /** The end of what it wrote to standard error. */
  output(): string;
  /** Sends SIGTERM, waits for the drain, and kills it if it takes too long. */
  stop(): Promise<void>;
}

async function startServer(flags: ServeFlags, io: CliIo): Promise<ServerChild> {
  const graceMs = flags.graceMs ?? DEV_GRACE_MS;
  const serveArgs = [
    "serve",
    "--port",
    String(flags.port),
    "--hostname",
    flags.hostname,
    "--project",
    flags.project,
    "--grace-ms",
    String(graceMs),
    "--ui",
    "--log-requests",
    "--exit-on-stdin-close",
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args: [...await runtimeArgs(flags.project), ...serveArgs],
    cwd: flags.project,
    // The pipe closes when this process ends, however it ends, and the server then shuts down.
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The child's errors are forwarded as they come and the tail is kept, for the error page of a broken project.
  let errorTail = "";
  const forwardedErrors = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      io.stderr(chunk);
      errorTail = (errorTail + chunk).slice(-8000);
    }
  })();
  const listening = Promise.withResolvers<string | undefined>();
  // Forward the child's output line by line, noting its URL; the port of `--port 0` is then kept across reloads.
  const forwarded = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline + 1);
        buffer = buffer.slice(newline + 1);
        io.stdout(line);
        const match = line.match(LISTENING);
        if (match) listening.resolve(match[1]);
      }
    }
    if (buffer) io.stdout(buffer);
  })();
  const status = child.status.then(async (status) => {
    await child.stdin.close().catch(() => {});
    await Promise.all([forwarded.catch(() => {}), forwardedErrors.catch(() => {})]);
    listening.resolve(undefined);
    return status;
  });
  return {
    listening: listening.promise,
    status,
    output: () => errorTail,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        return; // already exited
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // exited meanwhile
          }
          resolve();
        }, graceMs + 3000);
      });
      await Promise.race([status, killed]);
      clearTimeout(timer);
      await status;
    },
  };
}

/**
 * How to start this CLI again in a child process: `deno run` with the project's configuration (its import map gives
 * agent modules their `flue` import), or the executable itself when this CLI was built with `deno compile`.
 */
async function runtimeArgs(projectDir: string): Promise<string[]> {
  if (!/^deno(\.exe)?$/i.test(basename(Deno.execPath()))) return [];
  const cli = new URL("../../cli.ts", import.meta.url);
  const args = ["run", "--allow-all"];
  for (const name of ["deno.json", "deno.jsonc"]) {
    const path = join(projectDir, name);
    if (await exists(path)) {
      args.push("--config", path);
      break;
    }
  }
  args.push(cli.protocol === "file:" ? fileURLToPath(cli) : cli.href);
  return args;
}

function describeBatch(paths: string[]): string {
  const shown = paths.slice(0, 3).join(", ");
  return paths.length > 3 ? `${shown} and ${paths.length - 3} more changed` : `${shown} changed`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(resolve(path));
    return true;
  } catch {
    return false;
  }
}

async function readRoutes(url: string, style: Styles): Promise<string | undefined> {
  const token = envToken();
  try {
    const response = await fetch(`${url}/agents`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    return formatManifest(await response.json() as Manifest, style);
  } catch {
    return undefined; // the server went away meanwhile; the next start prints them
  }
}
