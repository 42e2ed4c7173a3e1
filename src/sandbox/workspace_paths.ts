/**
 * Path checks of the first sandbox layer: every path an agent names is resolved against its workspace and refused when it
 * leaves it. Symlinks are resolved later, inside the file runner, where the file system is visible.
 *
 * @module
 */

import { PolicyDeniedError } from "../errors.ts";

/** Longest path accepted, in characters; Linux's `PATH_MAX` is 4096 bytes. */
export const MAX_PATH_LENGTH: number = 4096;

/** Where commands see the workspace; absolute paths under it are read as paths under the root. */
export const WORKSPACE_ALIAS: string = "/workspace";

/**
 * Resolves a path an agent gave against its workspace root and refuses any that leaves it.
 *
 * Relative paths resolve against `root`; absolute paths are accepted only inside `root` or under `/workspace`, the
 * alias commands see. `..` may move around inside the workspace but not out of it. The result is lexical: symlinks are
 * the runner's business, since only it may look at the file system.
 *
 * @example Resolving inside and outside the workspace
 * ```ts
 * import { resolveInsideWorkspace } from "./workspace_paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(resolveInsideWorkspace("/srv/ws", "src/../a.ts"), "/srv/ws/a.ts");
 * assert.equal(resolveInsideWorkspace("/srv/ws", "/workspace/a.ts"), "/srv/ws/a.ts");
 * assert.throws(() => resolveInsideWorkspace("/srv/ws", "../etc/passwd"));
 * ```
 *
 * @param root The workspace's absolute, normalised path.
 * @param path The path to resolve, relative or absolute.
 * @returns The normalised absolute path inside `root`.
 * @throws {PolicyDeniedError} When the path is empty, too long, contains a NUL byte or leaves the workspace.
 * @throws {TypeError} When `root` is not an absolute path.
 */
export function resolveInsideWorkspace(root: string, path: string): string {
  if (typeof root !== "string" || !root.startsWith("/")) {
    throw new TypeError(`Workspace root "${root}" is not an absolute path: pass the workspace's absolute path`);
  }
  const normalRoot = normalizePath(root);
  if (typeof path !== "string") {
    throw new PolicyDeniedError(`path ${String(path)}`, "none", `Path must be a string, got ${typeof path}`);
  }
  if (path === "") throw refusePath(path, 'is empty: name a file or directory, or use "." for the workspace root');
  if (path.includes("\0")) throw refusePath(path, "contains a NUL byte");
  if (path.length > MAX_PATH_LENGTH) {
    throw refusePath(`${path.slice(0, 40)}...`, `is longer than ${MAX_PATH_LENGTH} characters`);
  }
  let absolute: string;
  if (path === WORKSPACE_ALIAS || path.startsWith(`${WORKSPACE_ALIAS}/`)) {
    // Joined before normalising, so `/workspace/../etc` stays relative to the root and is caught below.
    absolute = normalizePath(`${normalRoot}/${path.slice(WORKSPACE_ALIAS.length)}`);
  } else if (path.startsWith("/")) {
    absolute = normalizePath(path);
  } else {
    absolute = normalizePath(`${normalRoot}/${path}`);
  }
  if (!isInsideOrEqual(normalRoot, absolute)) throw refusePath(path, "leaves the workspace");
  return absolute;
}

/**
 * The path of `absolute` relative to `root`, with `/` separators; `.` for the root itself. Used in messages, so that
 * host paths do not reach the model.
 *
 * @example Relative form of a workspace path
 * ```ts
 * import { toWorkspaceRelative } from "./workspace_paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toWorkspaceRelative("/srv/ws", "/srv/ws/src/a.ts"), "src/a.ts");
 * assert.equal(toWorkspaceRelative("/srv/ws", "/srv/ws"), ".");
 * ```
 *
 * @param root The workspace's absolute path.
 * @param absolute An absolute path inside `root`.
 * @returns The relative path.
 * @throws {RangeError} When `absolute` is not inside `root`.
 */
export function toWorkspaceRelative(root: string, absolute: string): string {
  const normalRoot = normalizePath(root);
  const normalPath = normalizePath(absolute);
  if (normalPath === normalRoot) return ".";
  if (!isInsideOrEqual(normalRoot, normalPath)) {
    throw new RangeError(`Path "${absolute}" is not inside the workspace "${root}"`);
  }
  return normalPath.slice(normalRoot === "/" ? 1 : normalRoot.length + 1);
}

/**
 * Whether `candidate` is `root` or lies below it. Both must be normalised absolute paths.
 *
 * @param root The containing directory.
 * @param candidate The path to test.
 * @returns `true` when `candidate` equals `root` or is inside it.
 */
export function isInsideOrEqual(root: string, candidate: string): boolean {
  if (root === "/") return candidate.startsWith("/");
  return candidate === root || candidate.startsWith(`${root}/`);
}

/**
 * Normalises a POSIX path: collapses `//`, removes `.` segments and applies `..` (never above `/` for absolute paths).
 *
 * @param path The path to normalise.
 * @returns The normalised path; `.` for an empty relative result.
 */
export function normalizePath(path: string): string {
  const isAbsolute = path.startsWith("/");
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (segments.length > 0 && segments[segments.length - 1] !== "..") segments.pop();
      else if (!isAbsolute) segments.push("..");
      continue;
    }
    segments.push(segment);
  }
  const joined = segments.join("/");
  if (isAbsolute) return `/${joined}`;
  return joined === "" ? "." : joined;
}

function refusePath(path: string, problem: string): PolicyDeniedError {
  return new PolicyDeniedError(
    `path "${path}"`,
    "none",
    `Path "${path}" ${problem}: paths must stay inside the workspace`,
  );
}
