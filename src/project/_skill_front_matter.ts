/**
 * The front matter of a skill file, checked with zod: which fields exist, what each must hold, and error messages that
 * name the file, the field and what is expected.
 *
 * @module
 */

import { z } from "zod";

/** Skill names: lower-case letters and digits in words joined by `-`, at most 64 characters. */
export const SKILL_NAME: RegExp = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** The longest skill name. */
export const MAX_SKILL_NAME_LENGTH: number = 64;
/** The longest description: it goes into every system prompt. */
export const MAX_SKILL_DESCRIPTION_LENGTH: number = 1024;

const jsonSchemaField = (field: string) =>
  z.record(z.string(), z.unknown(), {
    error:
      `must be a JSON Schema object, such as { type: object, properties: { ... } }, written as YAML under "${field}"`,
  });

const FRONT_MATTER = z.strictObject({
  name: z.string({ error: "is required: the skill's name, the same as its file or directory name" })
    .max(MAX_SKILL_NAME_LENGTH, { error: `must be at most ${MAX_SKILL_NAME_LENGTH} characters` })
    .regex(SKILL_NAME, { error: 'must be lower-case letters and digits in words joined by "-", such as "fix-issue"' }),
  description: z.string({ error: "is required: one line saying what the skill does and when to use it" })
    .trim()
    .min(1, { error: "is required: one line saying what the skill does and when to use it" })
    .max(MAX_SKILL_DESCRIPTION_LENGTH, { error: `must be at most ${MAX_SKILL_DESCRIPTION_LENGTH} characters` }),
  input_schema: jsonSchemaField("input_schema").optional(),
  output_schema: jsonSchemaField("output_schema").optional(),
  "allowed-tools": z.union([z.string(), z.array(z.string())], {
    error: 'must be a list of tool names, such as [read, grep], or the names separated by spaces, such as "read grep"',
  }).optional(),
  license: z.string({ error: "must be text, such as MIT" }).optional(),
  compatibility: z.string({ error: "must be text" }).optional(),
  metadata: z.record(z.string(), z.unknown(), { error: "must be a mapping of keys to values" }).optional(),
});

/** The known front matter fields, in the order documented. */
export const SKILL_FIELDS: readonly string[] = Object.freeze(Object.keys(FRONT_MATTER.shape));

/** A skill's front matter once checked. */
export type SkillFrontMatter = z.output<typeof FRONT_MATTER>;

/**
 * Checks a skill's front matter.
 *
 * @param data The parsed front matter.
 * @param file The file's path, named in errors.
 * @returns The checked fields.
 * @throws {TypeError} On the first invalid field: the message names the file, the field and what is expected.
 */
export function checkSkillFrontMatter(data: Record<string, unknown>, file: string): SkillFrontMatter {
  const parsed = FRONT_MATTER.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === "unrecognized_keys") {
    throw new TypeError(
      `Invalid skill "${file}": unknown field ${issue.keys.map((key) => `"${key}"`).join(", ")}; ` +
        `known fields are ${SKILL_FIELDS.join(", ")}`,
    );
  }
  const field = issue.path.map(String).join(".");
  const got = issue.path.length ? valueAt(data, issue.path) : data;
  const shown = got === undefined ? "" : `, got ${JSON.stringify(got)?.slice(0, 80)}`;
  throw new TypeError(`Invalid skill "${file}": field "${field}" ${issue.message}${shown}`);
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
  return value;
}
