/**
 * Roles: named instructions, with an optional model and reasoning effort, that a session or one call runs as. They
 * come from `.agents/roles/<name>.md` (front matter plus a body) and from the `roles` agent option.
 *
 * @module
 */

import { join, sep as SEP } from "node:path";
import { z } from "zod";
import type { ChatModel, ThinkingLevel } from "../model/chat_model.ts";
import { parseModelString } from "../model/model_string.ts";
import { parseFrontMatter } from "./front_matter.ts";
import { SANDBOX_TOOL_NAMES, validateBuiltinTools } from "../tools/sandbox_tools.ts";
import { assertAgentsDirInsideProject } from "./_agents_dir.ts";

/** A role declared in code, in the `roles` agent option; the key it is stored under is its name. */
export interface RoleDefinition {
  /** What the role is for; shown to the model when it chooses a role for a task. */
  description: string;
  /** The role's instructions, added to the system prompt after the agent's. */
  instructions: string;
  /** The model the role uses unless the call names one. */
  model?: string | ChatModel;
  /** The reasoning effort the role uses unless the call sets one. */
  thinkingLevel?: ThinkingLevel;
  /**
   * Which of the agent's file and shell tools calls in this role offer, or `false` for none; it narrows the agent's
   * selection and the policy, never widens them (see `docs/sandboxes.md`, "Choosing the built-in tools").
   */
  builtinTools?: string[] | false;
}

/** A loaded role. */
export interface Role extends RoleDefinition {
  /** The role's name: lower-kebab-case, at most 64 characters. */
  readonly name: string;
  /** Where it was declared: the file's path, or `the "roles" option`. */
  readonly source: string;
}

/** The directory, relative to the project, that holds role files. */
export const ROLES_DIR: string = ".agents/roles";

const ROLE_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 64;
const THINKING_LEVELS = [
  "off",
  "minimal",
  "low",
  "medium",
  "high",
  "xhigh",
] as const satisfies readonly ThinkingLevel[];
const NAME_RULE = `lower-kebab-case ("code-reviewer"), at most ${MAX_NAME_LENGTH} characters`;

function requiredText(what: string) {
  return (issue: { input?: unknown }) => issue.input === undefined ? `is required: ${what}` : "must be text";
}

const modelString = z.string({ error: "must be a model string" }).refine((value) => {
  try {
    parseModelString(value);
    return true;
  } catch {
    return false;
  }
}, { error: 'must be a model string such as "openai:gpt-5.5", or "test"' });

const roleFrontMatter = z.strictObject({
  name: z.string({ error: requiredText("the role's name, the same as the file name") })
    .max(MAX_NAME_LENGTH, { error: `must be at most ${MAX_NAME_LENGTH} characters` })
    .regex(ROLE_NAME, { error: `must be ${NAME_RULE}` }),
  description: z.string({ error: requiredText("one line saying what the role is for") })
    .trim().min(1, { error: "must not be empty: say what the role is for" }),
  model: modelString.optional(),
  thinkingLevel: z.enum(THINKING_LEVELS, { error: `must be one of ${THINKING_LEVELS.join(", ")}` }).optional(),
  builtinTools: z.union([z.array(z.enum(SANDBOX_TOOL_NAMES as [string, ...string[]])), z.literal(false)], {
    error: `must be a list of ${SANDBOX_TOOL_NAMES.join(", ")}, or false for none`,
  }).optional(),
});

/** The roles an agent knows, by name. */
export class RoleCatalog {
  readonly #roles: ReadonlyMap<string, Role>;
  readonly #models = new Map<string, ChatModel>();

  /**
   * @param roles The roles, each under its name.
   */
  constructor(roles: Iterable<Role> = []) {
    this.#roles = new Map([...roles].map((role) => [role.name, role]));
  }

  /** The role names, sorted. */
  get names(): string[] {
    return [...this.#roles.keys()].sort();
  }

  /** How many roles there are. */
  get size(): number {
    return this.#roles.size;
  }

  /** Every role, sorted by name. */
  list(): Role[] {
    return this.names.map((name) => this.#roles.get(name)!);
  }

  /**
   * Looks a role up.
   *
   * @param name The role's name.
   * @returns The role.
   * @throws {TypeError} When there is no such role; the message lists the known ones.
   */
  get(name: string): Role {
    const role = this.#roles.get(name);
    if (role) return role;
    const known = this.names;
    throw new TypeError(
      known.length
        ? `Unknown role ${JSON.stringify(name)}: known roles are ${known.join(", ")}`
        : `Unknown role ${JSON.stringify(name)}: the agent has no roles; add ${ROLES_DIR}/${name}.md or pass "roles" ` +
          `to the agent`,
    );
  }

  /**
   * The model a role names, made once per role.
   *
   * @param role The role.
   * @param resolve Turns a model string into a model.
   * @returns The model, or `undefined` when the role names none.
   */
  modelOf(role: Role, resolve: (spec: string | ChatModel) => ChatModel): ChatModel | undefined {
    if (role.model === undefined) return undefined;
    let model = this.#models.get(role.name);
    if (!model) {
      model = resolve(role.model);
      this.#models.set(role.name, model);
    }
    return model;
  }
}

/**
 * Loads the roles of a project: every `.agents/roles/<name>.md`, plus those declared in code. A name declared both
 * ways is an error, so it is never unclear which one runs.
 *
 * @example Roles declared in code
 * ```ts
 * import { loadRoles } from "./roles.ts";
 * import assert from "node:assert/strict";
 *
 * const roles = await loadRoles("/nonexistent", {
 *   reviewer: { description: "Reviews code", instructions: "Point out bugs first." },
 * });
 * assert.deepEqual(roles.names, ["reviewer"]);
 * ```
 *
 * Needs `--allow-read` for the project's `.agents/roles` directory.
 *
 * @param projectDir The project directory.
 * @param definitions Roles declared in code, by name.
 * @returns The roles.
 * @throws {TypeError} When a role file or definition is invalid; the message names the file or role, the field and
 * what is expected.
 * @throws {SyntaxError} When a role file's front matter is not valid YAML.
 */
export async function loadRoles(
  projectDir: string,
  definitions: Readonly<Record<string, RoleDefinition>> = {},
): Promise<RoleCatalog> {
  const roles = new Map<string, Role>();
  for (const role of await readRoleFiles(projectDir)) roles.set(role.name, role);
  for (const [name, definition] of Object.entries(definitions)) {
    const role = roleFromDefinition(name, definition);
    const file = roles.get(name);
    if (file) {
      throw new TypeError(
        `Role ${JSON.stringify(name)} is declared twice, in "${file.source}" and in the "roles" option: remove one`,
      );
    }
    roles.set(name, role);
  }
  return new RoleCatalog(roles.values());
}

/**
 * Parses one role file.
 *
 * @param text The file's text.
 * @param file The file's path; its base name without `.md` must equal the role's `name`.
 * @returns The role.
 * @throws {TypeError} When a field is missing or invalid, or the body is empty.
 */
export function parseRoleFile(text: string, file: string): Role {
  const { data, body } = parseFrontMatter(text, file);
  const parsed = roleFrontMatter.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      if (issue.code === "unrecognized_keys") {
        return `unknown field${issue.keys.length > 1 ? "s" : ""} ${
          issue.keys.map((key) => JSON.stringify(key)).join(", ")
        } (known fields are ` +
          `${Object.keys(roleFrontMatter.shape).join(", ")})`;
      }
      const field = issue.path.join(".");
      const value = field ? data[field] : data;
      const shown = value === undefined ? "" : `, got ${JSON.stringify(value)}`;
      return field ? `field "${field}" ${issue.message}${shown}` : issue.message;
    });
    throw new TypeError(`Invalid role file "${file}": ${problems.join("; ")}`);
  }
  const fileName = file.split(/[\\/]/).at(-1)!.replace(/\.md$/, "");
  if (parsed.data.name !== fileName) {
    throw new TypeError(
      `Invalid role file "${file}": field "name" must equal the file name "${fileName}", got ` +
        `${JSON.stringify(parsed.data.name)}; rename the file or change the name`,
    );
  }
  if (body.trim() === "") {
    throw new TypeError(`Invalid role file "${file}": the role has no instructions; write them below the front matter`);
  }
  return { ...parsed.data, instructions: body.trim(), source: file };
}

/**
 * Checks a role declared in code.
 *
 * @param name The key it is declared under.
 * @param definition The definition.
 * @returns The role.
 * @throws {TypeError} When the name or a field is invalid.
 */
export function roleFromDefinition(name: string, definition: RoleDefinition): Role {
  const where = `Invalid role ${JSON.stringify(name)} in the "roles" option`;
  if (!ROLE_NAME.test(name) || name.length > MAX_NAME_LENGTH) {
    throw new TypeError(`${where}: the name must be ${NAME_RULE}`);
  }
  if (definition === null || typeof definition !== "object") {
    throw new TypeError(`${where}: expected { description, instructions, model?, thinkingLevel?, builtinTools? }`);
  }
  const known = ["description", "instructions", "model", "thinkingLevel", "builtinTools"];
  const unknown = Object.keys(definition).filter((key) => !known.includes(key));
  if (unknown.length) {
    throw new TypeError(`${where}: unknown field "${unknown[0]}" (known fields are ${known.join(", ")})`);
  }
  for (const field of ["description", "instructions"] as const) {
    if (typeof definition[field] !== "string" || definition[field].trim() === "") {
      throw new TypeError(
        `${where}: field "${field}" must be non-empty text, got ${JSON.stringify(definition[field])}`,
      );
    }
  }
  if (typeof definition.model === "string" && !modelString.safeParse(definition.model).success) {
    throw new TypeError(
      `${where}: field "model" must be a model string such as "openai:gpt-5.5", got ` +
        JSON.stringify(definition.model),
    );
  }
  if (definition.model !== undefined && typeof definition.model !== "string" && typeof definition.model !== "object") {
    throw new TypeError(`${where}: field "model" must be a model string or a ChatModel`);
  }
  if (
    definition.thinkingLevel !== undefined && !(THINKING_LEVELS as readonly string[]).includes(definition.thinkingLevel)
  ) {
    throw new TypeError(
      `${where}: field "thinkingLevel" must be one of ${THINKING_LEVELS.join(", ")}, got ` +
        JSON.stringify(definition.thinkingLevel),
    );
  }
  if (definition.builtinTools !== undefined) validateBuiltinTools(definition.builtinTools, `${where}: field`);
  const role: Role = {
    name,
    description: definition.description.trim(),
    instructions: definition.instructions.trim(),
    model: definition.model,
    thinkingLevel: definition.thinkingLevel,
    source: `the "roles" option`,
  };
  if (definition.builtinTools !== undefined) role.builtinTools = definition.builtinTools;
  return role;
}

async function readRoleFiles(projectDir: string): Promise<Role[]> {
  await assertAgentsDirInsideProject(projectDir, ROLES_DIR);
  const dir = join(projectDir, ROLES_DIR);
  const names: string[] = [];
  const links = new Set<string>();
  try {
    for await (const entry of Deno.readDir(dir)) {
      if ((entry.isFile || entry.isSymlink) && entry.name.endsWith(".md")) names.push(entry.name);
      if (entry.isSymlink) links.add(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new Error(`Could not read the roles directory "${dir}": ${(error as Error).message}`, { cause: error });
  }
  const roles: Role[] = [];
  for (const name of names.sort()) {
    const file = join(dir, name);
    if (links.has(name)) await assertLinkInsideProject(file, projectDir);
    roles.push(parseRoleFile(await Deno.readTextFile(file), file));
  }
  return roles;
}

// A role's body goes into the system prompt: a link planted by a repository must not bring in a file from elsewhere.
async function assertLinkInsideProject(file: string, projectDir: string): Promise<void> {
  const root = await Deno.realPath(projectDir);
  const target = await Deno.realPath(file).catch(() => undefined);
  if (target !== undefined && !target.startsWith(`${root}${SEP}`)) {
    throw new TypeError(
      `Invalid role file "${file}": it is a link to "${target}", outside the project directory; role files must ` +
        `stay inside the project, so copy the file instead of linking to it`,
    );
  }
}
