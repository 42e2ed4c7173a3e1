/**
 * `flue serve`: serves the project's agents and workflows over HTTP with its dispatch worker, until SIGTERM or SIGINT,
 * which drain running work and exit 0.
 *
 * @module
 */

import { assertSafeToListen, assertValidToken } from "../server/auth.ts";
import { envToken } from "../server/project_app.ts";
import { type AnsweredRequest, serve } from "../server/serve.ts";
import { formatManifest, readManifest } from "./routes_command.ts";
import { type CliIo, styles } from "./terminal.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { UsageError } from "./usage_error.ts";

const FLAGS = [
  "--port",
  "--hostname",
  "--project",
  "--grace-ms",
  "--routes",
  "--ui",
  "--log-requests",
  "--exit-on-stdin-close",
  "--help",
];

/** The port `flue serve` and `flue dev` listen on by default. */
export const DEFAULT_PORT = 2024;

/** The help text of `flue serve`. */
export const SERVE_HELP: string = `Usage:
  flue serve [--port 2024] [--hostname 127.0.0.1] [--project <dir>]

Serves the project's agents and workflows (docs/server.md lists the routes) and runs its dispatch worker. Prints
"Listening on <url>" once it accepts connections. SIGTERM or SIGINT stops accepting, lets running work finish within
the grace period, and exits 0; a second signal exits at once with status 130.

Options:
      --port <n>            port, 0 for any free one (default ${DEFAULT_PORT})
      --hostname <host>     listen address (default 127.0.0.1); beyond loopback it needs FLUE_API_TOKEN
      --project <dir>       project directory (default: current directory)
      --grace-ms <ms>       how long running work may take to finish on shutdown (default 10000)
      --routes              print the routes, agents and workflows after the URL
      --ui                  serve the development UI at / (as "flue dev" does; docs/dev_ui.md)
      --log-requests        print one line per request on stderr: method, path, status, milliseconds
      --exit-on-stdin-close shut down when standard input closes ("flue dev" uses it so its server never
                            outlives it, even when it is killed)
  -h, --help                show this help

Environment:
  FLUE_API_TOKEN            bearer token every route but /health requires (at least 16 characters; a shorter one is
                            a usage error, exit 2)
`;

/** What `flue serve` and `flue dev` parse from the command line. */
export interface ServeFlags {
  /** The port (0 for any free one). */
  port: number;
  /** The listen hostname. */
  hostname: string;
  /** The project directory. */
  project: string;
  /** The shutdown grace period in milliseconds, if given. */
  graceMs?: number;
}

/**
 * Runs `flue serve`.
 *
 * @param args The arguments after `serve`.
 * @param io Where to write.
 * @returns The exit status: 0 after a graceful shutdown.
 */
export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {
    port: { type: "string" },
    hostname: { type: "string" },
    project: { type: "string" },
    "grace-ms": { type: "string" },
    routes: { type: "boolean" },
    ui: { type: "boolean" },
    "log-requests": { type: "boolean" },
    "exit-on-stdin-close": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  }, FLAGS);
  if (parsed.positionals.length > 0) {
    throw new UsageError(
      `flue serve takes no arguments, got "${parsed.positionals[0]}": use the flags, such as --port 2024`,
    );
  }
  const { values } = parsed;
  if (values.help) {
    io.stdout(SERVE_HELP);
    return 0;
  }
  const flags = checkServeFlags(values);
  const style = styles(io.color);
  let server;
  try {
    server = await serve({
      dir: flags.project,
      hostname: flags.hostname,
      port: flags.port,
      graceMs: flags.graceMs,
      handleSignals: true,
      ...(values.ui ? { ui: true } : {}),
      ...(values["log-requests"] ? { onRequest: (request: AnsweredRequest) => logRequest(request, io) } : {}),
    });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new Error(
        `Port ${flags.port} on ${flags.hostname} is in use: stop what listens there, or pick another with --port ` +
          `(0 for any free one)`,
        { cause: error },
      );
    }
    throw error;
  }
  io.stdout(`Listening on ${server.url}\n`);
  if (values.routes) io.stdout(formatManifest(await readManifest(server.app, envToken()), style));
  if (values["exit-on-stdin-close"]) void shutDownOnStdinClose(server);

  // serve() drains on the first signal; these listeners only tell the person what happens, and let a second signal
  // stop at once when draining takes too long.
  let signals = 0;
  const onSignal = () => {
    signals++;
    // Under "flue dev" (which passes --exit-on-stdin-close) a restart is routine: it says "Reloading" itself.
    if (signals === 1 && !values["exit-on-stdin-close"]) {
      io.stderr(`${style.dim("Shutting down: letting running work finish…")}\n`);
    } else Deno.exit(130);
  };
  const listening: Deno.Signal[] = ["SIGTERM", "SIGINT"];
  for (const signal of listening) Deno.addSignalListener(signal, onSignal);
  try {
    await server.finished;
  } finally {
    for (const signal of listening) Deno.removeSignalListener(signal, onSignal);
  }
  return 0;
}

/**
 * Checks the flags `flue serve` and `flue dev` share, and refuses a non-loopback address without a token before any
 * project code loads.
 *
 * @param values The parsed flags.
 * @returns The checked flags.
 * @throws {UsageError} For a bad port or grace period, or a public address without `FLUE_API_TOKEN`.
 */
export function checkServeFlags(
  values: { port?: string; hostname?: string; project?: string; "grace-ms"?: string },
): ServeFlags {
  const port = wholeNumber(values.port, "--port", DEFAULT_PORT, 0, 65_535);
  const hostname = values.hostname ?? "127.0.0.1";
  if (hostname.trim() === "") throw new UsageError(`--hostname is empty: pass an address such as 127.0.0.1`);
  try {
    const token = envToken();
    if (token !== undefined) assertValidToken(token);
    assertSafeToListen(hostname, token);
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  const graceMs = values["grace-ms"] === undefined
    ? undefined
    : wholeNumber(values["grace-ms"], "--grace-ms", 10_000, 1, 3_600_000);
  return { port, hostname, project: values.project ?? Deno.cwd(), graceMs };
}

function wholeNumber(raw: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function logRequest(request: AnsweredRequest, io: CliIo): void {
  const style = styles(io.color);
  const status = request.status >= 500
    ? style.red(String(request.status))
    : request.status >= 400
    ? style.cyan(String(request.status))
    : style.dim(String(request.status));
  const duration = style.dim(`${Math.round(request.durationMs)} ms`);
  io.stderr(`${style.dim(request.method.padEnd(6))} ${request.path} ${status} ${duration}\n`);
}

async function shutDownOnStdinClose(server: { shutdown(): Promise<void> }): Promise<void> {
  try {
    for await (const _chunk of Deno.stdin.readable) {
      // Nothing is read from standard input; only its end matters.
    }
  } catch {
    // A broken pipe is an end too.
  }
  await server.shutdown();
}
