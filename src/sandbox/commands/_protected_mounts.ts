/**
 * Finds, on the host, what a command's sandbox must mount over the workspace so that protected paths stay protected
 * from commands too, not only from the file API: `.git` read-only (its config and hooks make git run programs, also
 * the user's own git on the host later), and the state directory hidden (it holds other sessions' history and
 * workspaces).
 *
 * @module
 */

import { PolicyDeniedError } from "../../errors.ts";
import { isInsideOrEqual, normalizePath, resolveInsideWorkspace, toWorkspaceRelative } from "../workspace_paths.ts";

/** Paths, relative to the workspace, that commands may read but not change, or neither. */
export interface ProtectedPaths {
  /** Bound read-only over themselves. A missing one is created first as an empty directory when commands may write. */
  readOnly?: readonly string[];
  /** Covered by an empty, read-only tmpfs. A missing one is created first when commands may write. */
  hidden?: readonly string[];
}

/** Absolute host paths inside the workspace, ready for `bubblewrapArgs()`. */
export interface ProtectedMounts {
  /** Files and directories to bind read-only over themselves. */
  readOnlyPaths: string[];
  /** Directories to cover with an empty, read-only tmpfs. */
  hiddenPaths: string[];
}

/**
 * Resolves protected paths to the host paths to mount. Every component below the workspace is checked with `lstat`,
 * so a mount never follows a symbolic link out of the workspace:
 *
 * - a read-only path that is, or lies under, a symbolic link is refused, since a command could replace the link and
 *   so the protected path; a git file (`gitdir: <path>`) also protects the directory it names when that is inside the
 *   workspace;
 * - a hidden path under a symbolic link is hidden where it really is, if that is inside the workspace (elsewhere the
 *   sandbox does not show it at all);
 * - a missing path is created as an empty directory when `isWritable` (otherwise commands could create it, say a
 *   `.git` whose config the host's git would later obey), and skipped when the workspace is read-only.
 *
 * The checks and the mounts are not atomic: a command running at the same time in another sandbox of the same
 * workspace could swap a component in between.
 *
 * @param workspace The workspace's real path.
 * @param paths The protected paths, relative to the workspace.
 * @param isWritable Whether commands may write the workspace.
 * @returns The host paths to mount.
 * @throws {PolicyDeniedError} When a read-only path is a symbolic link or lies under one.
 * @throws {TypeError} When a protected path is the workspace itself or leaves it.
 */
export async function resolveProtectedMounts(
  workspace: string,
  paths: ProtectedPaths,
  isWritable: boolean,
): Promise<ProtectedMounts> {
  const readOnlyPaths = new Set<string>();
  const hiddenPaths = new Set<string>();
  for (const entry of paths.readOnly ?? []) {
    const walked = await walk(workspace, entry, isWritable);
    if (walked.kind === "missing") continue;
    if (walked.kind === "link") {
      throw new PolicyDeniedError(
        `protected path "${entry}"`,
        "none",
        `Protected path "${entry}" is or lies under the symbolic link "${walked.link}", which a command could ` +
          `replace, so it cannot be kept read-only: replace the link with the directory it points to`,
      );
    }
    readOnlyPaths.add(walked.path);
    const gitDir = await gitFileTarget(workspace, walked.path);
    if (gitDir !== undefined) readOnlyPaths.add(gitDir);
  }
  for (const entry of paths.hidden ?? []) {
    const walked = await walk(workspace, entry, isWritable);
    if (walked.kind === "missing") continue;
    const real = walked.kind === "link" ? await realPathOrUndefined(walked.absolute) : walked.path;
    if (real === undefined || !isInsideOrEqual(workspace, real) || real === workspace) continue;
    if ((await Deno.stat(real)).isDirectory) hiddenPaths.add(real);
  }
  return { readOnlyPaths: [...readOnlyPaths], hiddenPaths: [...hiddenPaths] };
}

type Walked =
  | { kind: "found"; path: string }
  | { kind: "missing" }
  | { kind: "link"; link: string; absolute: string };

/** Follows `entry` down from the workspace one component at a time without following links, creating what is missing. */
async function walk(workspace: string, entry: string, isWritable: boolean): Promise<Walked> {
  const absolute = resolveInsideWorkspace(workspace, entry);
  if (absolute === workspace) {
    throw new TypeError(`Protected path "${entry}" must not be the workspace itself`);
  }
  let current = workspace;
  for (const segment of toWorkspaceRelative(workspace, absolute).split("/")) {
    current = `${current}/${segment}`;
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(current);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      if (!isWritable) return { kind: "missing" };
      try {
        await Deno.mkdir(current);
      } catch (mkdirError) {
        // Another command created it meanwhile; look again.
        if (!(mkdirError instanceof Deno.errors.AlreadyExists)) throw mkdirError;
      }
      info = await Deno.lstat(current);
    }
    if (info.isSymlink) return { kind: "link", link: toWorkspaceRelative(workspace, current), absolute };
  }
  return { kind: "found", path: absolute };
}

/** The directory a git file (`.git` as a file, in worktrees and submodules) names, when it is inside the workspace. */
async function gitFileTarget(workspace: string, path: string): Promise<string | undefined> {
  const info = await Deno.lstat(path);
  if (!info.isFile || info.size > 4096) return undefined;
  const match = /^gitdir: (.+)$/m.exec(await Deno.readTextFile(path));
  if (match === null) return undefined;
  const named = match[1].trim();
  const target = named.startsWith("/") ? named : `${path.slice(0, path.lastIndexOf("/"))}/${named}`;
  const real = await realPathOrUndefined(normalizePath(target));
  return real !== undefined && real !== workspace && isInsideOrEqual(workspace, real) ? real : undefined;
}

async function realPathOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch {
    return undefined;
  }
}
