/**
 * `flue skill new <name>`: writes `.agents/skills/<name>/SKILL.md`, a skill template with valid front matter.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { MAX_SKILL_NAME_LENGTH, SKILL_NAME } from "../project/_skill_front_matter.ts";
import { SKILLS_DIR } from "../project/skills.ts";
import { skillTemplate } from "./_templates.ts";
import type { CliIo } from "./terminal.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { UsageError } from "./usage_error.ts";

/** The help text of `flue skill`. */
export const SKILL_HELP: string = `Usage:
  flue skill new <name> [--description <text>] [--project <dir>]

Writes ${SKILLS_DIR}/<name>/SKILL.md in the project (default: the current directory): front matter with the name and
description, commented examples of input_schema, output_schema and allowed-tools, and a body to fill in. The name is
lower-case letters and digits in words joined by "-", at most ${MAX_SKILL_NAME_LENGTH} characters. An existing skill of
that name (<name>.md or <name>/SKILL.md) is never overwritten.
`;

const FLAGS = ["--description", "--help", "--project"];

/**
 * Runs `flue skill`.
 *
 * @param args The arguments after `skill`.
 * @param io Where to write.
 * @returns The exit status.
 */
export async function skillCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {
    description: { type: "string" },
    project: { type: "string" },
    help: { type: "boolean", short: "h" },
  }, FLAGS);
  if (parsed.values.help) {
    io.stdout(SKILL_HELP);
    return 0;
  }
  const [action, name, ...extra] = parsed.positionals;
  if (action !== "new") {
    throw new UsageError(
      action === undefined
        ? 'flue skill needs a subcommand: "flue skill new <name>"'
        : `Unknown skill subcommand "${action}": use "flue skill new <name>"`,
    );
  }
  if (name === undefined) throw new UsageError('flue skill new needs a name, such as "flue skill new fix-issue"');
  if (extra.length) throw new UsageError(`flue skill new takes one name, got ${1 + extra.length}`);
  if (!SKILL_NAME.test(name) || name.length > MAX_SKILL_NAME_LENGTH) {
    throw new UsageError(
      `Invalid skill name "${name}": use lower-case letters and digits in words joined by "-", at most ` +
        `${MAX_SKILL_NAME_LENGTH} characters, such as "fix-issue"`,
    );
  }
  const description = parsed.values.description ?? `Say what "${name}" does and when to use it`;
  if (description.trim() === "" || /[\r\n]/.test(description)) {
    throw new UsageError("The --description must be one non-empty line");
  }
  const projectDir = resolve(parsed.values.project ?? ".");
  for (const existing of [`${SKILLS_DIR}/${name}.md`, `${SKILLS_DIR}/${name}/SKILL.md`]) {
    if (await exists(join(projectDir, existing))) {
      throw new UsageError(
        `Skill "${name}" already exists at "${existing}" in "${projectDir}": edit it or pick another name`,
      );
    }
  }
  const file = `${SKILLS_DIR}/${name}/SKILL.md`;
  const target = join(projectDir, file);
  await Deno.mkdir(dirname(target), { recursive: true });
  await Deno.writeTextFile(target, skillTemplate(name, description), { createNew: true });
  io.stdout(`Created ${file}\n\nRun it with: session.skill("${name}", { args: { ... } })\n`);
  return 0;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
