/**
 * The check that keeps `.agents/` inside the project: its skills and roles go into the system prompt, so a linked
 * `.agents`, `.agents/skills` or `.agents/roles` planted by a repository (or by a model that could write the project)
 * must not bring in instructions from elsewhere on the machine.
 *
 * @module
 */

import { join, sep as SEP } from "node:path";

/**
 * Refuses a `.agents` directory (or one below it) that resolves outside the project through a link at any level.
 * A link that stays inside the project is accepted, as linked role files are.
 *
 * @param projectDir The project directory.
 * @param dir The directory relative to the project, such as `.agents/skills`.
 * @returns Resolves when the directory is missing or inside the project.
 * @throws {TypeError} When the directory resolves outside the project; the message names the link and its target.
 */
export async function assertAgentsDirInsideProject(projectDir: string, dir: string): Promise<void> {
  const path = join(projectDir, dir);
  let target: string;
  try {
    target = await Deno.realPath(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  const root = await Deno.realPath(projectDir);
  if (target === root || target.startsWith(`${root}${SEP}`)) return;
  throw new TypeError(
    `Invalid "${dir}" directory "${path}": it is a link to "${target}", outside the project directory; skills and ` +
      `roles must stay inside the project, so copy the directory instead of linking to it`,
  );
}
