/**
 * The postgres store's connection: where the URL comes from, how it is checked and redacted, the pool's limits, and how
 * PostgreSQL's and the network's failures become messages that say what to do, never showing the password.
 *
 * @module
 */

import type { Sql } from "postgres";
import type { PostgresStoreOptions } from "./postgres_store.ts";

/** Environment variables read for the URL when none is given, in order. */
export const URL_VARIABLES: readonly string[] = ["FLUE_POSTGRES_URL", "DATABASE_URL"];

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The checked connection settings. */
export interface ConnectionSettings {
  /** The full URL, password included: only ever handed to the client. */
  url: string;
  /** The URL with its password replaced, for messages. */
  safeUrl: string;
  /** The password, so it can be cut out of any message that might echo it. */
  password: string;
  /** The PostgreSQL schema the tables live in. */
  schema: string;
  /** Most connections the pool opens. */
  maxConnections: number;
  /** How long to wait for a connection, in milliseconds. */
  connectTimeoutMs: number;
  /** How long an unused connection stays open, in milliseconds. */
  idleTimeoutMs: number;
}

/**
 * Checks the options and fills in the defaults: the URL from `FLUE_POSTGRES_URL` or `DATABASE_URL`, the schema `flue`,
 * at most 10 connections, a 10 s connect timeout and a 30 s idle timeout.
 *
 * @param options The store's options.
 * @returns The settings.
 * @throws {TypeError} When an option is invalid or no URL is found; the message never contains the password.
 */
export function connectionSettings(options: PostgresStoreOptions = {}): ConnectionSettings {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("The postgres store's options must be an object");
  }
  const url = options.url ?? urlFromEnvironment();
  if (typeof url !== "string" || url === "") {
    throw new TypeError(
      `The postgres store needs a connection URL: pass { url } or set ${URL_VARIABLES.join(" or ")}, such as ` +
        '"postgres://flue:PASSWORD@127.0.0.1:5432/flue"',
    );
  }
  const { safeUrl, password } = parseUrl(url);
  const schema = options.schema ?? "flue";
  if (typeof schema !== "string" || !SCHEMA_NAME.test(schema)) {
    throw new TypeError(
      `The postgres store's schema must be a plain identifier (letters, digits and _, at most 63), got ${
        JSON.stringify(schema)
      }`,
    );
  }
  return {
    url,
    safeUrl,
    password,
    schema,
    maxConnections: positiveInteger(options.maxConnections, "maxConnections", 10),
    connectTimeoutMs: positiveInteger(options.connectTimeoutMs, "connectTimeoutMs", 10_000),
    idleTimeoutMs: positiveInteger(options.idleTimeoutMs, "idleTimeoutMs", 30_000),
  };
}

/**
 * Opens the pool. The client is loaded here, on first use, so programs that never choose the postgres store never load
 * it. No connection is made until the first query.
 *
 * @param settings The checked settings.
 * @returns The pool.
 */
export async function openPool(settings: ConnectionSettings): Promise<Sql> {
  const { default: postgres } = await import("postgres");
  try {
    return postgres(settings.url, {
      max: settings.maxConnections,
      connect_timeout: Math.ceil(settings.connectTimeoutMs / 1000),
      idle_timeout: Math.ceil(settings.idleTimeoutMs / 1000),
      // The client prints server notices ("schema already exists, skipping") to the console by default.
      onnotice: () => {},
      connection: { application_name: "flue" },
    });
  } catch (error) {
    throw explainPostgresError(error, settings, "open the connection pool");
  }
}

/**
 * Explains a failure of the postgres store. Errors the store raised itself (bad input, unknown run) pass through;
 * PostgreSQL and network errors become an `Error` naming the server (without its password) and the fix, with the
 * original as `cause`.
 *
 * @param error What was thrown.
 * @param settings The connection settings, for the server's name and the password to cut out.
 * @param action What the store was doing, such as `append to session ["a","b","c"]`.
 * @returns The error to throw.
 */
export function explainPostgresError(error: unknown, settings: ConnectionSettings, action: string): unknown {
  if (!(error instanceof Error) || !isClientError(error)) return error;
  const code = String((error as { code?: unknown }).code ?? "");
  const server = `PostgreSQL at ${settings.safeUrl}`;
  const text = redact(error.message, settings);
  let message: string;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "CONNECT_TIMEOUT") {
    message = `Cannot reach ${server} to ${action} (${code}): start the server, or fix the host and port in the URL`;
  } else if (code === "28P01" || code === "28000") {
    message = `${server} refused the login, so Flue could not ${action} (${text}): check the user name and password ` +
      "in the URL";
  } else if (code === "3D000") {
    message = `${server} has no such database (${text}): create it (CREATE DATABASE) or fix the database in the URL`;
  } else if (code === "42501") {
    message = `${server} denied a permission, so Flue could not ${action} (${text}): grant the user CREATE on the ` +
      "database, or create the schema for it";
  } else if (code === "CONNECTION_ENDED" || code === "CONNECTION_DESTROYED") {
    message = `The postgres store is closed, so Flue could not ${action}: create a new store to use it again`;
  } else {
    message = `${server} failed to ${action}: ${text}${code === "" ? "" : ` (${code})`}`;
  }
  const explained = new Error(message, { cause: redactedCause(error, settings) });
  if (code !== "") Object.assign(explained, { code });
  return explained;
}

function urlFromEnvironment(): string | undefined {
  for (const name of URL_VARIABLES) {
    try {
      const value = Deno.env.get(name);
      if (value) return value;
    } catch (error) {
      throw new TypeError(
        `The postgres store could not read ${name} (${(error as Error).message}): pass { url } or allow --allow-env`,
        { cause: error },
      );
    }
  }
  return undefined;
}

function parseUrl(url: string): { safeUrl: string; password: string } {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== "postgres" && scheme !== "postgresql") {
    throw new TypeError(
      `The postgres store's URL must start with postgres:// or postgresql://, got one starting with ${
        JSON.stringify(scheme === undefined ? url.slice(0, 12).replace(/:.*/s, "") : `${scheme}://`)
      }`,
    );
  }
  // Several hosts ("h1:5432,h2:5432") are valid for the client but not for URL; only the first is parsed here.
  const authority = url.slice(scheme.length + 3).split(/[/?#]/)[0];
  const at = authority.lastIndexOf("@");
  const credentials = at === -1 ? "" : authority.slice(0, at);
  const colon = credentials.indexOf(":");
  const rawPassword = colon === -1 ? "" : credentials.slice(colon + 1);
  let password = rawPassword;
  try {
    password = decodeURIComponent(rawPassword);
  } catch {
    throw new TypeError("The postgres store's URL has a badly escaped password: percent-encode special characters");
  }
  const hostPart = authority.slice(at + 1).split(",")[0];
  try {
    new URL(`http://${hostPart}`);
  } catch {
    throw new TypeError(`The postgres store's URL has an invalid host ${JSON.stringify(hostPart)}: fix the host`);
  }
  const safeUrl = rawPassword === "" ? url : url.replace(`:${rawPassword}@`, ":***@");
  return { safeUrl: stripQuery(safeUrl), password };
}

// Query parameters may carry a password or TLS keys; messages name the server without them.
function stripQuery(url: string): string {
  return url.replace(/\?.*$/s, "");
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`The postgres store's ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function isClientError(error: Error): boolean {
  if (error.name === "PostgresError") return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && code !== "";
}

/** Cuts the password and the URL out of a text. */
export function redact(text: string, settings: Pick<ConnectionSettings, "url" | "safeUrl" | "password">): string {
  let result = text.split(settings.url).join(settings.safeUrl);
  if (settings.password.length > 0) result = result.split(settings.password).join("***");
  return result;
}

// The client's errors carry the query and its parameters; keep the PostgreSQL fields a caller may inspect, redacted.
function redactedCause(error: Error, settings: ConnectionSettings): Error {
  const cause = new Error(redact(error.message, settings));
  cause.name = error.name;
  for (const field of ["code", "severity", "detail", "hint", "constraint_name", "table_name", "schema_name"]) {
    const value = (error as unknown as Record<string, unknown>)[field];
    if (typeof value === "string") Object.assign(cause, { [field]: redact(value, settings) });
  }
  return cause;
}
