/**
 * Walking a sandbox's files, bounded, and matching glob patterns, so `grep` and `glob` work the same on every sandbox:
 * in one request when the sandbox can search itself, otherwise through the `Sandbox` interface.
 *
 * @module
 */

import { abortErrorFrom } from "../../errors.ts";
import type { GlobOptions, GlobResult, GrepOptions, GrepResult } from "../../sandbox/runner/deno_runner.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";

/**
 * A sandbox that can search its own files in one request, as the `virtual` and `local` sandboxes can through their file
 * runner. The tools look for these methods and walk the sandbox themselves when they are missing or resolve to
 * `undefined` (as the session's sandbox does when it cannot search, or must not); both ways give the same output.
 */
export interface SearchableSandbox {
  /** Finds files whose path matches a glob; see `DenoRunner.glob`. */
  glob?(pattern: string, options?: GlobOptions): Promise<GlobResult | undefined>;
  /** Searches files for lines matching a regular expression; see `DenoRunner.grep`. */
  grep?(pattern: string, options?: GrepOptions): Promise<GrepResult | undefined>;
}

/** Directories a walk does not enter unless it starts inside them: version control, dependencies, Flue's state. */
export const SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set([".git", "node_modules", ".flue"]);

/** The files a walk found. */
export interface WalkResult {
  /** Paths of regular files, as `start` joined with the path below it, in sorted order per directory. */
  files: string[];
  /** Whether the walk stopped at `maxFiles` before seeing everything. */
  isComplete: boolean;
}

/**
 * Lists the regular files under `start`, breadth first, without following symlinks (which could loop) and without
 * entering {@linkcode SKIPPED_DIRECTORIES}. A `start` that is a file yields just that file. A sandbox with a `glob`
 * method ({@linkcode SearchableSandbox}) lists them in one request; any other is walked a directory at a time.
 *
 * @param sandbox The sandbox to walk.
 * @param start A path inside the workspace.
 * @param maxFiles The most files returned.
 * @param signal Stops the walk when aborted.
 * @returns The files and whether the walk saw everything.
 */
export async function walkFiles(
  sandbox: Sandbox,
  start: string,
  maxFiles: number,
  signal?: AbortSignal,
): Promise<WalkResult> {
  const listed = await listInOneRequest(sandbox, start, maxFiles, signal);
  if (listed !== undefined) return listed;
  const stat = await sandbox.stat(start);
  if (!stat.isDirectory) return { files: [start], isComplete: true };
  const files: string[] = [];
  const queue: string[] = [start];
  while (queue.length > 0) {
    if (signal?.aborted) throw abortErrorFrom(signal);
    const directory = queue.shift()!;
    const entries = await sandbox.readdir(directory);
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const entry of entries) {
      if (entry.isSymlink) continue;
      const path = joinPath(directory, entry.name);
      if (entry.isDirectory) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) queue.push(path);
      } else if (entry.isFile) {
        if (files.length >= maxFiles) return { files, isComplete: false };
        files.push(path);
      }
    }
  }
  return { files, isComplete: true };
}

// The sandbox's own walk goes the same way as the one below; "**" matches every file it meets, so it lists them all,
// and walking from `start` itself (no literal leading directories) makes it look at the same files.
async function listInOneRequest(
  sandbox: Sandbox,
  start: string,
  maxFiles: number,
  signal?: AbortSignal,
): Promise<WalkResult | undefined> {
  const glob = (sandbox as Sandbox & SearchableSandbox).glob;
  if (typeof glob !== "function") return undefined;
  const result = await untilAborted(glob.call(sandbox, "**", { path: start, maxResults: maxFiles, maxFiles }), signal);
  if (!isGlobResult(result)) return undefined;
  const files = result.paths.sort(compareWalkOrder).map((path) => shownPath(start, result.searched, path));
  return { files, isComplete: result.isComplete && !result.truncated };
}

function isGlobResult(result: unknown): result is GlobResult {
  const candidate = result as GlobResult | undefined;
  return Array.isArray(candidate?.paths) && typeof candidate.searched === "string" &&
    typeof candidate.isComplete === "boolean";
}

/**
 * Orders paths as a breadth-first walk that sorts each directory by name meets them: shallower first, then by name,
 * directory by directory.
 *
 * @example Files at the top come first
 * ```ts
 * import { compareWalkOrder } from "./_walk.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(["a/x.ts", "b.ts", "a-b/y.ts"].sort(compareWalkOrder), ["b.ts", "a/x.ts", "a-b/y.ts"]);
 * ```
 *
 * @param a A `/`-separated relative path.
 * @param b Another.
 * @returns A negative number when `a` comes first, a positive one when `b` does, 0 when they are equal.
 */
export function compareWalkOrder(a: string, b: string): number {
  const left = a.split("/");
  const right = b.split("/");
  if (left.length !== right.length) return left.length - right.length;
  for (let index = 0; index < left.length; index += 1) {
    if (left[index] !== right[index]) return left[index] < right[index] ? -1 : 1;
  }
  return 0;
}

/**
 * The path the model should see for a file a sandbox's own search found: the search path as the model wrote it, joined
 * with the part below what the sandbox searched, as a walk from that path would name it.
 *
 * @param start The path searched, as the model wrote it.
 * @param searched The path the sandbox searched, relative to the workspace root (`.` for the root).
 * @param found A path the sandbox found, relative to the workspace root.
 * @returns The path to show.
 */
export function shownPath(start: string, searched: string, found: string): string {
  if (found === searched) return start;
  if (searched === ".") return joinPath(start, found);
  return found.startsWith(`${searched}/`) ? joinPath(start, found.slice(searched.length + 1)) : found;
}

/**
 * Waits for a promise, or until `signal` aborts; what the promise does then is left to finish unobserved.
 *
 * @param promise The work.
 * @param signal Stops the waiting when aborted.
 * @returns What the promise resolves to.
 * @throws {AbortError} When `signal` aborts first.
 */
export async function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return await promise;
  if (signal.aborted) throw abortErrorFrom(signal);
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortErrorFrom(signal));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Joins a directory and a name the way the model wrote the directory: `.` disappears, slashes do not double.
 *
 * @param directory A path as given.
 * @param name An entry name.
 * @returns The joined path.
 */
export function joinPath(directory: string, name: string): string {
  if (directory === "." || directory === "./" || directory === "") return name;
  return directory.endsWith("/") ? `${directory}${name}` : `${directory}/${name}`;
}

/**
 * The part of `path` below `base`, as walked from `base` with {@linkcode joinPath}.
 *
 * @param base The walk's start.
 * @param path A path the walk produced.
 * @returns The path relative to `base`; the file's name when the walk started at that file.
 */
export function relativeTo(base: string, path: string): string {
  // A walk that started at a file yields that file; relative to itself, it is its own name.
  if (path === base) return path.slice(path.lastIndexOf("/") + 1);
  const prefix = joinPath(base, "");
  return prefix === "" ? path : path.slice(prefix.length);
}
