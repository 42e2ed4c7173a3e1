/**
 * The `virtual` sandbox, the default: a private workspace directory per agent, instance and session under the state
 * directory, created on first use and optionally seeded from a copy of another directory.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { PolicyDeniedError } from "../errors.ts";
import type { SandboxContext } from "./sandbox.ts";
import { isInsideOrEqual, normalizePath } from "./workspace_paths.ts";
import { openWorkspaceSandbox, validateSandboxContext, type WorkspaceSandbox } from "./workspace_sandbox.ts";

/** Longest encoded name used as it is; longer ones become a readable prefix and a hash. */
const MAX_PLAIN_SEGMENT = 120;
const PLAIN_CHARACTER = /^[a-z0-9_-]$/;
const encoder = new TextEncoder();

/**
 * Creates a `virtual` sandbox: the workspace is `<stateDir>/sandboxes/<agent>/<instanceId>/<session>` (each part encoded
 * by {@linkcode encodeWorkspaceSegment}), created when missing. A new workspace is filled from a copy of
 * `context.seedFrom` when given (without `.git`, the state directory, and symlinks that leave it); an existing one is
 * never seeded again. File operations run in a pooled Deno subprocess limited to the sandboxes folder (under bubblewrap
 * where available) that confines each request to its own workspace; writes into `.git/` are refused.
 *
 * Needs `--allow-read` and `--allow-write` for the state directory and `--allow-run` for deno.
 *
 * @example A private workspace for one session
 * ```ts ignore
 * import { createVirtualSandbox } from "./virtual_sandbox.ts";
 * import { DENY_ALL_POLICY } from "./sandbox.ts";
 *
 * const sandbox = await createVirtualSandbox({
 *   projectDir: "/srv/app",
 *   stateDir: "/srv/app/.flue",
 *   agent: "triage",
 *   instanceId: "issue-42",
 *   session: "main",
 *   policy: { ...DENY_ALL_POLICY, allowWrite: true },
 * });
 * try {
 *   await sandbox.writeFile("notes.md", "# Notes\n");
 * } finally {
 *   await sandbox.close();
 * }
 * ```
 *
 * @param context The agent, instance, session, policy and optional seed directory.
 * @returns The sandbox.
 * @throws {TypeError} When the context is malformed or `seedFrom` is not a directory.
 */
export async function createVirtualSandbox(context: SandboxContext): Promise<WorkspaceSandbox> {
  validateSandboxContext(context);
  const workspace = virtualWorkspacePath(context.stateDir, context.agent, context.instanceId, context.session);
  await ensureWorkspace(workspace, context);
  // A link planted where a workspace should be would hand the agent whatever it points to. These calls are
  // synchronous on purpose: each is one quick system call, and on a loaded machine a trip through the thread pool
  // costs far more, which a new session's first operation would wait for.
  const sandboxesDir = Deno.realPathSync(`${normalizePath(context.stateDir)}/sandboxes`);
  const real = Deno.realPathSync(workspace);
  if (Deno.lstatSync(workspace).isSymlink || real === sandboxesDir || !isInsideOrEqual(sandboxesDir, real)) {
    throw new PolicyDeniedError(
      `workspace "${workspace}"`,
      "none",
      `Workspace "${workspace}" is a link that leaves "${sandboxesDir}": remove it so a fresh workspace is created`,
    );
  }
  // One runner process serves every workspace below the sandboxes folder under the same policy (docs/security.md).
  return await openWorkspaceSandbox("virtual", real, context, {
    readOnlyPaths: [".git"],
    hiddenPaths: [],
    servedRoot: sandboxesDir,
  });
}

/**
 * Where the workspace of an agent instance's session lives.
 *
 * @example Encoded parts
 * ```ts
 * import { virtualWorkspacePath } from "./virtual_sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(virtualWorkspacePath("/p/.flue", "triage", "x:y_z", "main"), "/p/.flue/sandboxes/triage/x%3Ay_z/main");
 * ```
 *
 * @param stateDir The state directory (absolute).
 * @param agent The agent's name.
 * @param instanceId The instance id.
 * @param session The session name.
 * @returns The workspace's absolute path.
 */
export function virtualWorkspacePath(stateDir: string, agent: string, instanceId: string, session: string): string {
  const parts = [agent, instanceId, session].map(encodeWorkspaceSegment);
  return `${normalizePath(stateDir)}/sandboxes/${parts.join("/")}`;
}

/**
 * Encodes a name as one directory name so that different names never share a directory, even on file systems that
 * ignore case, and no name can leave its parent. Lowercase letters, digits, `_` and `-` stay; every other UTF-8 byte
 * becomes `%XX` (uppercase hex), so `.`, `/`, `%` and capitals are encoded. A result over 120 characters is cut and
 * followed by `~` and a SHA-256 prefix of the name; `~` never appears otherwise.
 *
 * @example Reversible and collision-free
 * ```ts
 * import { encodeWorkspaceSegment } from "./virtual_sandbox.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeWorkspaceSegment("x:y_z"), "x%3Ay_z");
 * assert.equal(encodeWorkspaceSegment(".."), "%2E%2E");
 * assert.equal(encodeWorkspaceSegment("Ab"), "%41b");
 * ```
 *
 * @param name A non-empty name.
 * @returns The directory name.
 * @throws {TypeError} When `name` is empty or not a string.
 */
export function encodeWorkspaceSegment(name: string): string {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`Workspace name part ${JSON.stringify(name)} must be a non-empty string`);
  }
  let encoded = "";
  for (const character of name) {
    if (PLAIN_CHARACTER.test(character)) {
      encoded += character;
      continue;
    }
    for (const byte of encoder.encode(character)) encoded += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (encoded.length <= MAX_PLAIN_SEGMENT) return encoded;
  const digest = createHash("sha256").update(name).digest("hex").slice(0, 32);
  return `${encoded.slice(0, 80).replace(/%[0-9A-F]?$/, "")}~${digest}`;
}

async function ensureWorkspace(workspace: string, context: SandboxContext): Promise<void> {
  if (isDirectorySync(workspace)) return;
  const parent = workspace.slice(0, workspace.lastIndexOf("/"));
  Deno.mkdirSync(parent, { recursive: true });
  if (context.seedFrom === undefined) {
    Deno.mkdirSync(workspace, { recursive: true });
    return;
  }
  const seed = await seedDirectory(context.seedFrom);
  // Copied beside the workspace and renamed into place, so that no one sees a half-seeded workspace.
  const staging = `${parent}/~seeding-${crypto.randomUUID()}`;
  try {
    const skipped = new Set([await realPathOrSelf(context.stateDir), await realPathOrSelf(parent)]);
    await copyTree(seed, staging, seed, skipped);
    await Deno.rename(staging, workspace);
  } catch (error) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    // Another process created it meanwhile: theirs stands, seeded or not.
    if (await isDirectory(workspace)) return;
    throw error;
  }
}

async function seedDirectory(seedFrom: string): Promise<string> {
  if (typeof seedFrom !== "string" || !seedFrom.startsWith("/")) {
    throw new TypeError(`Sandbox context "seedFrom" must be an absolute path, got ${JSON.stringify(seedFrom)}`);
  }
  if (!(await isDirectory(seedFrom))) {
    throw new TypeError(`Seed directory "${seedFrom}" does not exist or is not a directory: fix "seedFrom"`);
  }
  return await Deno.realPath(seedFrom);
}

// Copies files and directories; recreates a symlink only when its target stays inside the seed, so that a seed cannot
// smuggle a link to the host into the workspace. `.git` and the state directory are left out.
async function copyTree(source: string, target: string, seedRoot: string, skipped: Set<string>): Promise<void> {
  await Deno.mkdir(target);
  for await (const entry of Deno.readDir(source)) {
    const from = `${source}/${entry.name}`;
    const to = `${target}/${entry.name}`;
    if (entry.isDirectory) {
      if (entry.name === ".git" || skipped.has(from)) continue;
      await copyTree(from, to, seedRoot, skipped);
    } else if (entry.isFile) {
      await Deno.copyFile(from, to);
    } else if (entry.isSymlink) {
      const link = await Deno.readLink(from);
      const pointsAt = normalizePath(link.startsWith("/") ? link : `${source}/${link}`);
      if (!link.startsWith("/") && isInsideOrEqual(seedRoot, pointsAt)) await Deno.symlink(link, to);
    }
  }
}

function isDirectorySync(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function realPathOrSelf(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    return normalizePath(path);
  }
}
