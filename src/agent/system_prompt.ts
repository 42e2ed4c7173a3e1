/**
 * The system prompt, composed in a fixed order: a preamble for headless work, the agent's instructions, the role's
 * instructions, the project's and the workspace's `AGENTS.md` (or `CLAUDE.md`), the available skills, today's date and
 * the working directory. It is built before each operation, so edits to `AGENTS.md` apply to the next prompt.
 *
 * @module
 */

import { join, sep as SEP } from "node:path";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { WORKSPACE_ALIAS } from "../sandbox/workspace_paths.ts";
import type { Redactor } from "../telemetry/redactor.ts";

/** A role the operation runs as: its instructions follow the agent's. */
export interface SystemPromptRole {
  /** The role's name. */
  name: string;
  /** The role's instructions (the body of its Markdown file). */
  instructions: string;
}

/** A skill as the system prompt lists it. */
export interface SystemPromptSkill {
  /** The skill's name. */
  name: string;
  /** What the skill does and when to use it. */
  description: string;
}

/** What {@linkcode buildSystemPrompt} composes. */
export interface SystemPromptOptions {
  /** The agent's instructions. */
  instructions?: string;
  /** The role of this operation, if any. */
  role?: SystemPromptRole;
  /** The project directory: its `AGENTS.md` (or `CLAUDE.md`) is the developer's, read from the host. */
  projectDir: string;
  /**
   * The session's workspace. Its own `AGENTS.md` (or `CLAUDE.md`) is read through the sandbox, so the policy's path
   * checks apply, and added after the project's unless it is the same file or the same text.
   */
  workspace?: Pick<Sandbox, "readFile" | "root" | "kind" | "revision">;
  /** The skills the model may load with `activate_skill`. */
  skills?: readonly SystemPromptSkill[];
  /** Removes secret values; applied to the whole prompt. */
  redactor?: Pick<Redactor, "redactText">;
  /** The current time; `new Date()` when omitted. Only its UTC day is used, so the prompt is stable within a day. */
  now?: Date;
}

/** The instruction file names, in the order looked for; the first found in a directory is used. */
export const INSTRUCTION_FILES: readonly string[] = Object.freeze(["AGENTS.md", "CLAUDE.md"]);

/** The most characters of one instruction file put into the prompt; the rest is cut with a note. */
export const MAX_INSTRUCTION_FILE_CHARS: number = 64 * 1024;

const PREAMBLE = "You are an agent running inside Flue, a headless agent harness. No human watches each step: " +
  "use the tools you are given, and finish with a clear answer.";

const WORKSPACE_KINDS: ReadonlySet<string> = new Set(["virtual", "local", "memory"]);

/**
 * Builds the system prompt.
 *
 * @example Usage
 * ```ts
 * import { buildSystemPrompt } from "./system_prompt.ts";
 *
 * const prompt = await buildSystemPrompt({
 *   instructions: "You review code.",
 *   projectDir: "/nonexistent",
 *   now: new Date("2025-01-02T03:04:05Z"),
 * });
 * if (!prompt.includes("You review code.") || !prompt.includes("2025-01-02")) throw new Error("unexpected");
 * ```
 *
 * Needs `--allow-read` for the project directory.
 *
 * @param options The instructions, role, directories, skills and redactor.
 * @returns The prompt text.
 * @throws {Error} When an instruction file exists but cannot be read (it is a directory, or a link leaving the
 * workspace); the message names the file.
 */
export async function buildSystemPrompt(options: SystemPromptOptions): Promise<string> {
  const parts = [PREAMBLE];
  if (options.instructions?.trim()) parts.push(options.instructions.trim());
  if (options.role?.instructions.trim()) {
    parts.push(`## Role: ${options.role.name}\n\n${options.role.instructions.trim()}`);
  }
  const workspaceFile = options.workspace ? await readWorkspaceInstructions(options.workspace) : undefined;
  // A local sandbox's workspace is the project directory: its file is then read once, through the sandbox.
  const isProjectWorkspace = options.workspace?.kind === "local";
  const projectFile = isProjectWorkspace ? undefined : readProjectInstructions(options.projectDir);
  if (projectFile) parts.push(`## Project instructions (${projectFile.name})\n\n${projectFile.text}`);
  if (workspaceFile && workspaceFile.text !== projectFile?.text) {
    const heading = isProjectWorkspace ? "Project instructions" : "Workspace instructions";
    parts.push(`## ${heading} (${workspaceFile.name})\n\n${workspaceFile.text}`);
  }
  if (options.skills?.length) parts.push(skillsSection(options.skills));
  parts.push(
    `## Environment\n\nToday's date: ${(options.now ?? new Date()).toISOString().slice(0, 10)} (UTC)\n` +
      `Working directory: ${workingDirectory(options.workspace)}`,
  );
  const prompt = parts.join("\n\n");
  return options.redactor ? options.redactor.redactText(prompt) : prompt;
}

function skillsSection(skills: readonly SystemPromptSkill[]): string {
  const lines = skills.map((skill) => `- ${skill.name}: ${skill.description.replace(/\s+/g, " ").trim()}`);
  return "## Skills\n\nCall the `activate_skill` tool with a skill's name to load its instructions before doing " +
    `work it covers.\n\n${lines.join("\n")}`;
}

function workingDirectory(workspace: SystemPromptOptions["workspace"]): string {
  // File tools and commands of the built-in sandboxes all see the workspace at this path, whatever its host path is.
  if (!workspace || WORKSPACE_KINDS.has(workspace.kind) || !workspace.root) return WORKSPACE_ALIAS;
  return workspace.root;
}

interface InstructionFile {
  name: string;
  text: string;
}

// Synchronous on purpose: this runs before every operation, and for a small local file the synchronous read costs
// about a tenth of the asynchronous one (measured under server load: 6 µs against 50 µs).
function readProjectInstructions(projectDir: string): InstructionFile | undefined {
  if (isKnownAbsent(projectDir)) return undefined;
  for (const name of INSTRUCTION_FILES) {
    const path = join(projectDir, name);
    try {
      const info = Deno.lstatSync(path);
      if (info.isSymlink) {
        assertInsideProject(path, projectDir);
        return toInstructionFile(name, Deno.readTextFileSync(path));
      }
      return readUnchangedOrNew(path, name, info);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw new Error(`Could not read "${path}": ${(error as Error).message}`, { cause: error });
    }
  }
  rememberAbsent(projectDir);
  return undefined;
}

// The text of a project's instruction file as of its last read, reused while the file's size, inode and
// modification time stay the same. Like the absence below, it is only kept when the file was last modified a few
// milliseconds before it was read, so an edit in the same millisecond cannot go unnoticed.
const presentInstructions = new Map<string, { stamp: string; file: InstructionFile | undefined }>();

function readUnchangedOrNew(path: string, name: string, info: Deno.FileInfo): InstructionFile | undefined {
  const mtime = info.mtime?.getTime();
  const stamp = `${info.size}:${info.ino}:${mtime}`;
  const cached = presentInstructions.get(path);
  if (cached?.stamp === stamp) return cached.file;
  const file = toInstructionFile(name, Deno.readTextFileSync(path));
  if (mtime !== undefined && Date.now() - mtime > MTIME_GRACE_MS) presentInstructions.set(path, { stamp, file });
  else presentInstructions.delete(path);
  return file;
}

// Most projects have no AGENTS.md, and looking for one costs two failed reads, each building an error, before every
// operation. Its absence is remembered with the directory's modification time: creating, renaming or linking a file
// in the directory changes that time, so the next lookup reads again. A time within a few milliseconds of the check
// is not trusted, since a file created in the same millisecond would not move it.
const absentInstructions = new Map<string, number>();
const MTIME_GRACE_MS = 5;

function isKnownAbsent(projectDir: string): boolean {
  const remembered = absentInstructions.get(projectDir);
  if (remembered === undefined) return false;
  const mtime = directoryMtime(projectDir);
  if (mtime === remembered) return true;
  absentInstructions.delete(projectDir);
  return false;
}

function rememberAbsent(projectDir: string): void {
  const mtime = directoryMtime(projectDir);
  if (mtime !== undefined && Date.now() - mtime > MTIME_GRACE_MS) absentInstructions.set(projectDir, mtime);
}

function directoryMtime(directory: string): number | undefined {
  try {
    return Deno.statSync(directory).mtime?.getTime();
  } catch {
    return undefined;
  }
}

// A repository the agent is pointed at can plant `AGENTS.md -> ~/.ssh/id_rsa`: the file would go to the model provider.
function assertInsideProject(path: string, projectDir: string): void {
  const target = Deno.realPathSync(path);
  const root = Deno.realPathSync(projectDir);
  if (target !== root && !target.startsWith(`${root}${SEP}`)) {
    throw new Error(
      `it is a link to "${target}", outside the project directory; instruction files must stay inside the project, ` +
        `so copy the file instead of linking to it`,
    );
  }
}

// What a workspace's instruction files held at a revision of its sandbox: a sandbox that counts its changes (the
// memory sandbox) is not searched again until something in it may have changed.
const workspaceInstructions = new WeakMap<object, { revision: number; file: InstructionFile | undefined }>();

async function readWorkspaceInstructions(
  workspace: Pick<Sandbox, "readFile" | "revision">,
): Promise<InstructionFile | undefined> {
  const before = workspace.revision;
  const cached = workspaceInstructions.get(workspace);
  if (before !== undefined && cached?.revision === before) return cached.file;
  const file = await searchWorkspaceInstructions(workspace);
  // Kept only when nothing changed during the search (a sandbox not yet opened has no revision before it).
  if (before !== undefined && workspace.revision === before) {
    workspaceInstructions.set(workspace, { revision: before, file });
  }
  return file;
}

async function searchWorkspaceInstructions(
  workspace: Pick<Sandbox, "readFile">,
): Promise<InstructionFile | undefined> {
  for (const name of INSTRUCTION_FILES) {
    try {
      return toInstructionFile(name, await workspace.readFile(name));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || (error as Error)?.name === "NotFound") continue;
      throw new Error(`Could not read "${name}" in the workspace: ${(error as Error).message}`, { cause: error });
    }
  }
  return undefined;
}

function toInstructionFile(name: string, raw: string): InstructionFile | undefined {
  let text = raw.trim();
  if (text === "") return undefined;
  if (text.length > MAX_INSTRUCTION_FILE_CHARS) {
    text = `${
      text.slice(0, MAX_INSTRUCTION_FILE_CHARS)
    }\n\n(${name} was cut at ${MAX_INSTRUCTION_FILE_CHARS} characters)`;
  }
  return { name, text };
}
