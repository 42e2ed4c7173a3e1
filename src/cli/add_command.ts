/**
 * `flue add <name>`: installs a connector guide (a remote sandbox, a chat channel, a store, telemetry, a tool source
 * or a deployment target) into the project as a skill, and applies what can be applied mechanically.
 *
 * @module
 */

import { resolve } from "node:path";
import { SKILLS_DIR } from "../project/skills.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { type Guide, GUIDE_CATEGORIES, loadGuides, nearestName } from "./_guide_catalog.ts";
import { genericGuide } from "./_generic_guide.ts";
import { applyPlan, type GuideChanges, planGuideInstall } from "./_project_edits.ts";
import type { CliIo } from "./terminal.ts";
import { UsageError } from "./usage_error.ts";

/** The help text of `flue add`. */
export const ADD_HELP: string = `Usage:
  flue add <name> [--print] [--force] [--project <dir>]
  flue add <url> --category <${GUIDE_CATEGORIES.join("|")}> [--print] [--force] [--project <dir>]
  flue add --list

Writes the guide for a connector to ${SKILLS_DIR}/add-<name>/SKILL.md in the project (default: the current
directory), so you or a coding agent can follow it, and applies what is mechanical: import-map entries and the "flue"
configuration key in deno.json (the rest of the file is kept), and the variables it needs in .env.example. It refuses,
changing nothing, when a value it would set is already set to something else; --force replaces such values.

  --print      print the guide instead of changing the project
  --list       list the guides
  --category   the kind of connector, for a provider Flue has no guide for: give its documentation URL instead of a
               name, and a generic guide is written
`;

const FLAGS = ["--category", "--force", "--help", "--list", "--print", "--project"];

/**
 * Runs `flue add`.
 *
 * @param args The arguments after `add`.
 * @param io Where to write.
 * @returns The exit status.
 */
export async function addCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {
    category: { type: "string" },
    force: { type: "boolean" },
    list: { type: "boolean" },
    print: { type: "boolean" },
    project: { type: "string" },
    help: { type: "boolean", short: "h" },
  }, FLAGS);
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(ADD_HELP);
    return 0;
  }
  const guides = await loadGuides();
  if (values.list) {
    if (positionals.length) throw new UsageError("flue add --list takes no name");
    io.stdout(guideList(guides));
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'flue add needs a connector name, such as "flue add e2b"; "flue add --list" lists them'
        : `flue add takes one name or URL, got ${positionals.length}`,
    );
  }
  const target = positionals[0];
  const changes = /^[a-z][a-z0-9+.-]*:/i.test(target)
    ? urlChanges(target, values.category)
    : namedChanges(target, values.category, guides);
  if (values.print) {
    io.stdout(changes.text);
    return 0;
  }
  const projectDir = resolve(values.project ?? ".");
  const plan = await planGuideInstall(projectDir, changes, values.force ?? false);
  if (plan.conflicts.length) {
    throw new UsageError(
      `Not adding "${target}" to "${projectDir}", nothing was changed:\n  ${plan.conflicts.join("\n  ")}`,
    );
  }
  await applyPlan(plan);
  const file = `${SKILLS_DIR}/${changes.skillName}/SKILL.md`;
  const secrets = Object.keys(changes.env);
  io.stdout(
    `Added ${changes.skillName} to ${projectDir}\n  ${plan.changes.join("\n  ")}\n\nNext: ` +
      (secrets.length ? `set ${secrets.join(", ")} (see .env.example), then ` : "") +
      `follow ${file}, or ask your coding agent to.\n`,
  );
  return 0;
}

function namedChanges(name: string, category: string | undefined, guides: ReadonlyMap<string, Guide>): GuideChanges {
  if (category !== undefined) {
    throw new UsageError(
      `--category is for a provider's documentation URL, such as "flue add https://example.com --category ` +
        `${category}"; "${name}" is a name`,
    );
  }
  const guide = guides.get(name.replace(/^add-/, ""));
  if (!guide) {
    const suggestion = nearestName(name, guides.keys());
    throw new UsageError(
      `Unknown connector "${name}": ${suggestion ? `did you mean "${suggestion}"? ` : ""}known ones are ` +
        `${[...guides.keys()].join(", ")}; for another provider give its documentation URL and --category`,
    );
  }
  return guide;
}

function urlChanges(url: string, category: string | undefined): GuideChanges {
  if (category === undefined) {
    throw new UsageError(
      `flue add <url> needs --category, one of ${GUIDE_CATEGORIES.join(", ")}, such as ` +
        `"flue add ${url} --category sandbox"`,
    );
  }
  if (!GUIDE_CATEGORIES.includes(category)) {
    const suggestion = nearestName(category, GUIDE_CATEGORIES);
    throw new UsageError(
      `Unknown category "${category}": ${suggestion ? `did you mean "${suggestion}"? ` : ""}categories are ` +
        GUIDE_CATEGORIES.join(", "),
    );
  }
  const { name, text } = genericGuide(url, category);
  return { skillName: `add-${name}`, text, config: {}, env: {}, imports: {}, unstable: [] };
}

function guideList(guides: ReadonlyMap<string, Guide>): string {
  const width = Math.max(...[...guides.keys()].map((name) => name.length));
  let text = "";
  for (const category of GUIDE_CATEGORIES) {
    const inCategory = [...guides.values()].filter((guide) => guide.category === category);
    if (!inCategory.length) continue;
    text += `${category}:\n`;
    for (const guide of inCategory) text += `  ${guide.name.padEnd(width)}  ${guide.description}\n`;
  }
  return `${text}\nInstall one with "flue add <name>", or read it with "flue add <name> --print".\n`;
}
