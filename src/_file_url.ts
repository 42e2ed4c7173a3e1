/**
 * File paths to `file:` URLs, for dynamic imports.
 *
 * @module
 */

import { pathToFileURL } from "node:url";

/**
 * Turns an absolute path into a `file:` URL, escaping characters that URLs reserve.
 *
 * @param path An absolute path.
 * @returns The URL.
 */
export function toFileUrl(path: string): URL {
  return pathToFileURL(path);
}
