/**
 * Skills: Markdown files of instructions the model can load on demand, or a program can run with `session.skill()`.
 * They come from the project directory only (`.agents/skills/<name>.md` or `.agents/skills/<name>/SKILL.md`), the
 * code the developer ships, and never from a session's workspace, so a model that can write files cannot add a skill
 * or change one. A skill's `allowed-tools` only narrows the tools its call sees.
 *
 * @module
 */

import { join } from "node:path";
import { z } from "zod";
import { parseFrontMatter } from "./front_matter.ts";
import { assertAgentsDirInsideProject } from "./_agents_dir.ts";
import type { RunnableSkill } from "../session/skill_call.ts";
import { checkSkillFrontMatter, SKILL_NAME } from "./_skill_front_matter.ts";

/** Where skills live, relative to the project directory. */
export const SKILLS_DIR: string = ".agents/skills";

/** A skill, loaded and checked. */
export interface Skill extends RunnableSkill {
  /** The license the skill is shared under. */
  readonly license?: string;
  /** Free-form data about the skill. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** The options of {@linkcode loadSkills}. */
export interface LoadSkillsOptions {
  /** Which skills to keep: every skill found when omitted, none with `false`, or these names (each must exist). */
  select?: readonly string[] | false;
  /** The tool names `allowed-tools` may name (the built-in ones and the agent's own). */
  toolNames: readonly string[];
}

/**
 * Loads and checks the skills of a project.
 *
 * Needs `--allow-read` for the project directory.
 *
 * @param projectDir The absolute project directory.
 * @param options Which skills to keep and which tool names exist.
 * @returns The skills, sorted by name.
 * @throws {TypeError} When a skill file is invalid (the message names the file, the field and what is expected), a
 * name is found twice, or `select` names a skill that does not exist.
 */
export async function loadSkills(projectDir: string, options: LoadSkillsOptions): Promise<Skill[]> {
  if (options.select === false || (Array.isArray(options.select) && options.select.length === 0)) return [];
  const files = await findSkillFiles(projectDir);
  const wanted = options.select ? new Set(options.select) : undefined;
  if (wanted) {
    const missing = [...wanted].filter((name) => !files.has(name));
    if (missing.length) {
      const found = [...files.keys()].sort();
      throw new TypeError(
        `Skill "${missing[0]}" given in "skills" does not exist in "${SKILLS_DIR}": ${
          found.length ? `found ${found.join(", ")}` : `add it with "flue skill new ${missing[0]}"`
        }`,
      );
    }
  }
  const skills: Skill[] = [];
  for (const [name, file] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (wanted && !wanted.has(name)) continue;
    const text = await Deno.readTextFile(join(projectDir, file));
    skills.push(parseSkill(text, file, name, options.toolNames));
  }
  return skills;
}

/**
 * Parses and checks one skill file.
 *
 * @param text The file's text.
 * @param file Its path, named in errors.
 * @param expectedName The name its file or directory gives it.
 * @param toolNames The tool names `allowed-tools` may name.
 * @returns The skill.
 * @throws {TypeError} When a field is invalid; the message names the file, the field and what is expected.
 */
export function parseSkill(text: string, file: string, expectedName: string, toolNames: readonly string[]): Skill {
  const { data, body } = parseFrontMatter(text, file);
  if (Object.keys(data).length === 0) {
    throw new TypeError(
      `Invalid skill "${file}": it has no front matter; start it with "---", "name: ${expectedName}", ` +
        `"description: ...", "---"`,
    );
  }
  const fields = checkSkillFrontMatter(data, file);
  if (fields.name !== expectedName) {
    throw new TypeError(
      `Invalid skill "${file}": field "name" must equal the ${
        file.endsWith("/SKILL.md") ? "directory" : "file"
      } name "${expectedName}", got "${fields.name}"`,
    );
  }
  const instructions = body.trim();
  if (instructions === "") {
    throw new TypeError(`Invalid skill "${file}": the body is empty; write the skill's instructions after the "---"`);
  }
  return Object.freeze({
    name: fields.name,
    description: fields.description,
    instructions,
    file,
    input: fields.input_schema && toZod(fields.input_schema, file, "input_schema"),
    output: fields.output_schema && toZod(fields.output_schema, file, "output_schema"),
    allowedTools: fields["allowed-tools"] === undefined
      ? undefined
      : checkAllowedTools(fields["allowed-tools"], file, toolNames),
    license: fields.license,
    metadata: fields.metadata,
  });
}

/** Finds `<name>.md` files and `<name>/SKILL.md` directories; returns project-relative paths by skill name. */
async function findSkillFiles(projectDir: string): Promise<Map<string, string>> {
  await assertAgentsDirInsideProject(projectDir, SKILLS_DIR);
  const files = new Map<string, string>();
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(join(projectDir, SKILLS_DIR))) entries.push(entry);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return files;
    throw error;
  }
  for (const entry of entries) {
    let name: string;
    let file: string;
    if (entry.isFile && entry.name.endsWith(".md")) {
      name = entry.name.slice(0, -3);
      file = `${SKILLS_DIR}/${entry.name}`;
    } else if (entry.isDirectory && await isFile(join(projectDir, SKILLS_DIR, entry.name, "SKILL.md"))) {
      name = entry.name;
      file = `${SKILLS_DIR}/${entry.name}/SKILL.md`;
    } else {
      continue;
    }
    if (!SKILL_NAME.test(name)) {
      throw new TypeError(
        `Invalid skill "${file}": the name "${name}" must be lower-case letters and digits in words joined by "-"; ` +
          `rename the ${file.endsWith("/SKILL.md") ? "directory" : "file"}`,
      );
    }
    const other = files.get(name);
    if (other) {
      throw new TypeError(`Skill "${name}" is defined twice, in "${other}" and "${file}": keep one`);
    }
    files.set(name, file);
  }
  return files;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function toZod(schema: Record<string, unknown>, file: string, field: string): z.ZodType {
  try {
    return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    throw new TypeError(
      `Invalid skill "${file}": field "${field}" is not a JSON Schema Flue can use: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function checkAllowedTools(value: string | string[], file: string, toolNames: readonly string[]): readonly string[] {
  const names = typeof value === "string" ? value.split(/[\s,]+/).filter(Boolean) : value;
  for (const name of names) {
    if (!toolNames.includes(name)) {
      throw new TypeError(
        `Invalid skill "${file}": field "allowed-tools" names "${name}", which is not a tool of this agent; ` +
          `known tools are ${toolNames.join(", ")}`,
      );
    }
  }
  return Object.freeze([...new Set(names)]);
}
