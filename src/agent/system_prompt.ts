/**
 * The system prompt: a short preamble, the agent's instructions, and the project's `AGENTS.md`, read before each
 * operation so edits apply at once.
 *
 * @module
 */

import { join } from "node:path";

const PREAMBLE = "You are an agent running inside Flue, a headless agent harness. No human watches each step: " +
  "use the tools you are given, and finish with a clear answer.";

/**
 * Builds the system prompt.
 *
 * @param options The agent's instructions and the project directory holding `AGENTS.md`.
 * @returns The prompt text.
 */
export async function buildSystemPrompt(options: { instructions?: string; projectDir: string }): Promise<string> {
  const parts = [PREAMBLE];
  if (options.instructions?.trim()) parts.push(options.instructions.trim());
  const agentsMd = await readOptional(join(options.projectDir, "AGENTS.md"));
  if (agentsMd?.trim()) parts.push(`## Project instructions (AGENTS.md)\n\n${agentsMd.trim()}`);
  return parts.join("\n\n");
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`Could not read "${path}": ${(error as Error).message}`, { cause: error });
  }
}
