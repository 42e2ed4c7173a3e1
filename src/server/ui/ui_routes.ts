/**
 * The development UI: one HTML page at `/` and its small ES modules under `/ui/`, served as they are from `assets/`
 * (no build step). The page calls the same HTTP API as `FlueClient`, with the bearer token when one is set. See
 * `docs/dev_ui.md`.
 *
 * @module
 */

import type { Hono } from "hono";
import { HttpError } from "../errors.ts";

/** The UI's paths, which need no token: they hold no data, only the page and its scripts. */
export const UI_PUBLIC_PATHS: readonly string[] = ["/", "/ui/*"];

const ASSETS: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "api.js": "text/javascript; charset=utf-8",
  "chat.js": "text/javascript; charset=utf-8",
  "dom.js": "text/javascript; charset=utf-8",
  "runs.js": "text/javascript; charset=utf-8",
  "dispatches.js": "text/javascript; charset=utf-8",
};

/**
 * Adds the UI's routes: `GET /` and `GET /ui/<asset>`.
 *
 * @param app The app.
 */
export function uiRoutes(app: Hono): void {
  app.get("/", async (c) => c.html(await readAsset("index.html")));
  app.get("/ui/:asset", async (c) => {
    const name = c.req.param("asset");
    const type = ASSETS[name];
    if (type === undefined || name === "index.html") {
      throw new HttpError(404, "route_not_found", `No UI file named "${name}"`);
    }
    return c.body(await readAsset(name), 200, { "content-type": type, "cache-control": "no-cache" });
  });
}

const cache = new Map<string, Promise<string>>();

// Read from beside this module: a file on disk, or the published package over HTTPS. Cached for the process's life,
// since the UI's files only change with Flue itself.
function readAsset(name: string): Promise<string> {
  let text = cache.get(name);
  if (text === undefined) {
    const url = new URL(`./assets/${name}`, import.meta.url);
    text = url.protocol === "file:" ? Deno.readTextFile(url) : fetch(url).then((response) => response.text());
    text.catch(() => cache.delete(name));
    cache.set(name, text);
  }
  return text;
}
