/**
 * Merges what `flue init` adds to a Deno configuration into an existing one, editing the text in place (with
 * `jsonc-parser`) so its comments, order and other keys stay as they were.
 *
 * @module
 */

import { applyEdits, type FormattingOptions, modify } from "jsonc-parser";

/** What `flue init` adds to `deno.json`. */
export interface ConfigAdditions {
  /** Import-map entries. */
  imports: Record<string, string>;
  /** Tasks. */
  tasks: Record<string, string>;
  /** Unstable features to enable. */
  unstable: string[];
  /** `links` entries (a relative path to a Flue checkout). */
  links: string[];
  /** npm packages whose build scripts are denied (added to `allowScripts.deny` unless `allowScripts` is a list). */
  allowScripts: { deny: string[] };
  /** The `flue` key, written when the configuration has none. */
  flue: Record<string, unknown>;
}

/** The result of a merge. */
export interface ConfigMerge {
  /** The new text. */
  text: string;
  /** Entries that hold another value than Flue needs, such as `imports."flue"`; empty when the merge is clean. */
  conflicts: string[];
}

const FORMATTING: FormattingOptions = { insertSpaces: true, tabSize: 2, eol: "\n" };

/**
 * Adds Flue's entries to a configuration. An entry already holding the same value is left alone; one holding another
 * value is a conflict, and is replaced only with `force`. A `test` task the project has is kept (`deno test` finds
 * the generated test too), as is a zod 4 import and an existing `flue` key.
 *
 * @example Comments survive
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeDenoConfig } from "./_init_merge.ts";
 *
 * const merged = mergeDenoConfig('{\n  // mine\n  "tasks": { "lint": "deno lint" }\n}\n', {
 *   imports: { flue: "jsr:@flue/cli@^0.1.0" },
 *   tasks: { run: "deno run -A jsr:@flue/cli/cli run" },
 *   unstable: ["kv"],
 *   allowScripts: { deny: [] },
 *   links: [],
 *   flue: { model: "test" },
 * }, { existing: { tasks: { lint: "deno lint" } }, force: false });
 * assert.deepEqual(merged.conflicts, []);
 * assert.match(merged.text, /\/\/ mine/);
 * assert.match(merged.text, /"lint": "deno lint"/);
 * ```
 *
 * @param text The configuration's text (JSON or JSONC).
 * @param additions What Flue adds.
 * @param options The parsed configuration, and whether conflicting entries are replaced.
 * @returns The new text and the conflicts found.
 */
export function mergeDenoConfig(
  text: string,
  additions: ConfigAdditions,
  options: { existing: Record<string, unknown>; force: boolean },
): ConfigMerge {
  const { existing, force } = options;
  const conflicts: string[] = [];
  let result = text;
  const set = (path: (string | number)[], value: unknown) => {
    result = applyEdits(result, modify(result, path, value, { formattingOptions: FORMATTING }));
  };
  const imports = objectAt(existing, "imports");
  for (const [name, value] of Object.entries(additions.imports)) {
    const current = imports[name];
    if (current === value || (name === "zod" && isZod4(current))) continue;
    if (name === "flue" && typeof current === "string" && /^jsr:@flue\/cli(@|$)/.test(current) && !force) continue;
    if (current !== undefined) conflicts.push(`imports."${name}" (${JSON.stringify(current)})`);
    if (current === undefined || force) set(["imports", name], value);
  }
  const tasks = objectAt(existing, "tasks");
  for (const [name, value] of Object.entries(additions.tasks)) {
    const current = tasks[name];
    if (current === value || (name === "test" && current !== undefined)) continue;
    if (current !== undefined) conflicts.push(`tasks."${name}" (${JSON.stringify(current)})`);
    if (current === undefined || force) set(["tasks", name], value);
  }
  const links = Array.isArray(existing.links) ? existing.links : [];
  // Index -1 appends to the array, creating it when absent.
  for (const link of additions.links) if (!links.includes(link)) set(["links", -1], link);
  const unstable = Array.isArray(existing.unstable) ? existing.unstable : [];
  for (const feature of additions.unstable) if (!unstable.includes(feature)) set(["unstable", -1], feature);
  const allowScripts = existing.allowScripts;
  if (allowScripts === undefined) set(["allowScripts"], additions.allowScripts);
  else if (allowScripts !== null && typeof allowScripts === "object" && !Array.isArray(allowScripts)) {
    const denied = (allowScripts as { deny?: unknown }).deny;
    const list = Array.isArray(denied) ? denied : [];
    const allowed = (allowScripts as { allow?: unknown }).allow;
    for (const name of additions.allowScripts.deny) {
      // A package the project allows keeps its scripts.
      if (list.includes(name) || (Array.isArray(allowed) && allowed.includes(name))) continue;
      set(["allowScripts", "deny", -1], name);
    }
  }
  if (existing.flue === undefined) set(["flue"], additions.flue);
  return { text: result.endsWith("\n") ? result : `${result}\n`, conflicts: force ? [] : conflicts };
}

function objectAt(config: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = config[key];
  return value !== null && typeof value === "object" && !Array.isArray(value) ? value as Record<string, unknown> : {};
}

function isZod4(value: unknown): boolean {
  return typeof value === "string" && /^npm:zod@\^?~?4(\.|$)/.test(value);
}
