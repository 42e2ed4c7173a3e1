/**
 * What `flue dev` serves on its port while the project does not load: the error, as a page for browsers and the JSON
 * error envelope for clients, until the next change.
 *
 * @module
 */

import { isLoopbackHostname } from "../server/auth.ts";

/**
 * Answers every request with the error of a project that does not load: an HTML page for browsers (it reloads itself,
 * so the UI comes back once the fix is saved), the JSON error envelope for clients. Only loopback clients see the
 * error's text.
 *
 * @param hostname The listen address.
 * @param port The port (0 for any free one).
 * @param output What the server printed before it exited.
 * @returns The server, or `undefined` when the port is taken.
 */
export function startErrorServer(
  hostname: string,
  port: number,
  output: string,
): Deno.HttpServer<Deno.NetAddr> | undefined {
  // deno-lint-ignore no-control-regex -- removing terminal colour codes
  const text = output.replace(/\x1b\[[0-9;]*m/g, "").trim() || "The server exited before it listened";
  const message = "The project does not load: fix it and save; flue dev reloads it";
  try {
    return Deno.serve({ hostname, port, onListen() {} }, (request, info) => {
      const detail = isLoopbackHostname(info.remoteAddr.hostname) ? text : "See the terminal running flue dev";
      if ((request.headers.get("accept") ?? "").includes("text/html")) {
        return new Response(errorPage(message, detail), {
          status: 503,
          headers: { "content-type": "text/html; charset=utf-8", "retry-after": "1" },
        });
      }
      return Response.json({ error: { type: "project_not_loaded", message, details: { output: detail } } }, {
        status: 503,
        headers: { "retry-after": "1" },
      });
    });
  } catch {
    return undefined; // the port is taken meanwhile: the terminal still shows the error
  }
}

function errorPage(message: string, detail: string): string {
  const escape = (value: string) =>
    value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Flue dev: the project does not load</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem}pre{background:#d331;padding:1rem;white-space:pre-wrap}</style>
</head><body><h1 id="project-error">${escape(message)}</h1><pre>${escape(detail)}</pre></body></html>`;
}
