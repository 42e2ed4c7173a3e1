/**
 * What `flue add` changes in a project, planned in full before anything is written: the guide's skill file, import-map
 * entries and `"flue"` keys in `deno.json` (edited as JSONC, so comments, formatting and every other key stay as they
 * are), `"unstable"` entries, `.env.example` and `.gitignore`. A conflict stops the whole plan, so a refused `flue add`
 * changes nothing.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { applyEdits, modify, parse, type ParseError, printParseErrorCode } from "jsonc-parser";
import { SKILLS_DIR } from "../project/skills.ts";
import { UsageError } from "./usage_error.ts";

/** What a guide asks to apply. */
export interface GuideChanges {
  /** The skill's name, its directory under `.agents/skills/`. */
  skillName: string;
  /** The skill file's text. */
  text: string;
  /** Keys set under `"flue"`. */
  config: Readonly<Record<string, unknown>>;
  /** Variables for `.env.example`, with example values. */
  env: Readonly<Record<string, string>>;
  /** Import-map entries. */
  imports: Readonly<Record<string, string>>;
  /** Entries of `"unstable"`. */
  unstable: readonly string[];
}

/** The files to write and what changes, or the conflicts that stop it. */
export interface EditPlan {
  /** New file contents by absolute path. */
  writes: Map<string, string>;
  /** One line per change, for the user. */
  changes: string[];
  /** One line per conflict; when any, nothing may be written. */
  conflicts: string[];
}

// Values `flue init` writes that a connector may replace without --force: they are the defaults, not a choice.
const REPLACEABLE: Readonly<Record<string, readonly unknown[]>> = { sandbox: ["virtual"], store: ["sqlite"] };

const FORMATTING = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: "\n" } };

/**
 * Plans installing a guide into a project.
 *
 * @param projectDir The absolute project directory.
 * @param changes What the guide applies.
 * @param force Replace conflicting values and an edited skill file instead of refusing.
 * @returns The plan.
 * @throws {UsageError} When the project has no `deno.json` but the guide must edit one, or the file is not valid JSONC.
 */
export async function planGuideInstall(
  projectDir: string,
  changes: GuideChanges,
  force: boolean,
): Promise<EditPlan> {
  const plan: EditPlan = { writes: new Map(), changes: [], conflicts: [] };
  await planSkillFile(projectDir, changes, force, plan);
  const needsConfig = Object.keys(changes.config).length + Object.keys(changes.imports).length +
      changes.unstable.length > 0;
  if (needsConfig) await planDenoJson(projectDir, changes, force, plan);
  if (Object.keys(changes.env).length) {
    await planEnvExample(projectDir, changes.env, plan);
    await planGitignore(projectDir, plan);
  }
  return plan;
}

/**
 * Writes a plan's files.
 *
 * @param plan A plan without conflicts.
 */
export async function applyPlan(plan: EditPlan): Promise<void> {
  for (const [path, text] of plan.writes) {
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, text);
  }
}

async function planSkillFile(projectDir: string, changes: GuideChanges, force: boolean, plan: EditPlan) {
  const file = `${SKILLS_DIR}/${changes.skillName}/SKILL.md`;
  const flat = `${SKILLS_DIR}/${changes.skillName}.md`;
  if (await readIfExists(join(projectDir, flat)) !== undefined) {
    plan.conflicts.push(`"${flat}" already defines skill "${changes.skillName}": remove it or rename it`);
    return;
  }
  const existing = await readIfExists(join(projectDir, file));
  if (existing === changes.text) {
    plan.changes.push(`${file}: unchanged`);
    return;
  }
  if (existing !== undefined && !force) {
    plan.conflicts.push(`"${file}" exists and differs from the guide: pass --force to replace it`);
    return;
  }
  plan.writes.set(join(projectDir, file), changes.text);
  plan.changes.push(`${file}: ${existing === undefined ? "written" : "replaced"}`);
}

async function planDenoJson(projectDir: string, changes: GuideChanges, force: boolean, plan: EditPlan) {
  const name = await configFileName(projectDir);
  const path = join(projectDir, name);
  const original = (await readIfExists(path))!;
  let text = original;
  const errors: ParseError[] = [];
  const root = parse(original, errors, { allowTrailingComma: true });
  if (errors.length || root === null || typeof root !== "object" || Array.isArray(root)) {
    const problem = errors.length ? printParseErrorCode(errors[0].error) : "it is not a JSON object";
    throw new UsageError(`Cannot edit "${path}": ${problem}; fix the file and run flue add again`);
  }
  const edit = (keys: (string | number)[], value: unknown) => {
    text = applyEdits(text, modify(text, keys, value, FORMATTING));
  };
  const imports = objectAt(root, "imports", name, plan);
  for (const [specifier, target] of Object.entries(changes.imports)) {
    const current = imports?.[specifier];
    if (current === target) continue;
    if (current !== undefined && !force) {
      plan.conflicts.push(
        `${name}: import "${specifier}" maps to ${JSON.stringify(current)}, the guide needs ${
          JSON.stringify(target)
        }; ` +
          `change it or pass --force`,
      );
      continue;
    }
    edit(["imports", specifier], target);
    plan.changes.push(`${name}: import "${specifier}" → ${target}`);
  }
  const flue = objectAt(root, "flue", name, plan);
  for (const [key, value] of Object.entries(changes.config)) {
    const current = flue?.[key];
    if (JSON.stringify(current) === JSON.stringify(value)) continue;
    const replaceable = current === undefined || REPLACEABLE[key]?.includes(current);
    if (!replaceable && !force) {
      plan.conflicts.push(
        `${name}: "flue.${key}" is ${JSON.stringify(current)}, the guide sets ${JSON.stringify(value)}; ` +
          `change it or pass --force`,
      );
      continue;
    }
    edit(["flue", key], value);
    const was = current === undefined ? "" : ` (was ${JSON.stringify(current)})`;
    plan.changes.push(`${name}: "flue.${key}" set to ${JSON.stringify(value)}${was}`);
  }
  const unstable = (root as Record<string, unknown>).unstable ?? [];
  if (!Array.isArray(unstable)) {
    plan.conflicts.push(`${name}: "unstable" is not a list; make it one, such as ["kv"]`);
  } else {
    for (const entry of changes.unstable) {
      if (unstable.includes(entry)) continue;
      edit(["unstable", unstable.length], entry);
      unstable.push(entry);
      plan.changes.push(`${name}: "unstable" gains "${entry}"`);
    }
  }
  if (text !== original) plan.writes.set(path, text);
}

async function configFileName(projectDir: string): Promise<string> {
  for (const name of ["deno.json", "deno.jsonc"]) {
    if (await readIfExists(join(projectDir, name)) !== undefined) return name;
  }
  throw new UsageError(
    `No deno.json in "${projectDir}": run "flue add" in a Flue project (create one with "flue init"), or pass --project`,
  );
}

function objectAt(
  root: Record<string, unknown>,
  key: string,
  file: string,
  plan: EditPlan,
): Record<string, unknown> | undefined {
  const value = root[key];
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    plan.conflicts.push(`${file}: "${key}" is not an object; make it one`);
    return undefined;
  }
  return value as Record<string, unknown>;
}

async function planEnvExample(projectDir: string, env: Readonly<Record<string, string>>, plan: EditPlan) {
  const path = join(projectDir, ".env.example");
  const existing = await readIfExists(path) ?? "";
  const defined = new Set(
    existing.split(/\r?\n/).map((line) => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1]),
  );
  const missing = Object.entries(env).filter(([name]) => !defined.has(name));
  if (!missing.length) return;
  const separator = existing === "" || existing.endsWith("\n") ? "" : "\n";
  const lines = missing.map(([name, value]) => `${name}=${value}`).join("\n");
  plan.writes.set(path, `${existing}${separator}${lines}\n`);
  plan.changes.push(`.env.example: ${missing.map(([name]) => name).join(", ")}`);
}

// Keeps the file the user copies .env.example to out of version control.
async function planGitignore(projectDir: string, plan: EditPlan) {
  const path = join(projectDir, ".gitignore");
  const existing = await readIfExists(path) ?? "";
  if (existing.split(/\r?\n/).some((line) => /^\/?\.env\*?$/.test(line.trim()))) return;
  const separator = existing === "" || existing.endsWith("\n") ? "" : "\n";
  plan.writes.set(path, `${existing}${separator}.env\n`);
  plan.changes.push(".gitignore: .env");
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
