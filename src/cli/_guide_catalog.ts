/**
 * The connector guides `flue add` installs: the Markdown skills of the module's top-level `skills/` folder (embedded in
 * `_guides.ts`, so they travel with the CLI from a checkout, from JSR and inside a compiled binary), each with what
 * `flue add` applies mechanically in its front matter's `metadata`.
 *
 * @module
 */

import { z } from "zod";
import { parseFrontMatter } from "../project/front_matter.ts";
import { checkSkillFrontMatter } from "../project/_skill_front_matter.ts";

/** The kinds of connector, in the order `flue add --list` shows them. */
export const GUIDE_CATEGORIES: readonly string[] = Object.freeze([
  "sandbox",
  "channel",
  "store",
  "telemetry",
  "tool",
  "deploy",
]);

/** An environment variable name as `.env` files write them. */
export const ENV_NAME: RegExp = /^[A-Za-z_][A-Za-z0-9_]*$/;

const GUIDE_METADATA = z.strictObject({
  category: z.enum(GUIDE_CATEGORIES as [string, ...string[]]),
  config: z.record(z.string(), z.unknown()).optional(),
  env: z.record(z.string().regex(ENV_NAME), z.string()).optional(),
  imports: z.record(z.string(), z.string()).optional(),
  unstable: z.array(z.string()).optional(),
});

/** One guide and what `flue add` applies from it. */
export interface Guide {
  /** The connector's name, as `flue add <name>` takes it. */
  readonly name: string;
  /** The skill's name: `add-<name>`, also its directory under `.agents/skills/`. */
  readonly skillName: string;
  /** The kind of connector. */
  readonly category: string;
  /** The skill's one-line description. */
  readonly description: string;
  /** The whole `SKILL.md`, front matter included. */
  readonly text: string;
  /** Keys set under `"flue"` in `deno.json`. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Variables for `.env.example`, with an example value (empty for secrets). */
  readonly env: Readonly<Record<string, string>>;
  /** Import-map entries added to `deno.json`. */
  readonly imports: Readonly<Record<string, string>>;
  /** Names added to `deno.json`'s `"unstable"` list. */
  readonly unstable: readonly string[];
}

/**
 * Parses one guide: its front matter must be a valid skill named `add-<name>` (checked by the project's own skill
 * checks) whose `metadata` says what to apply.
 *
 * @param name The connector's name.
 * @param text The guide's `SKILL.md`.
 * @returns The guide.
 * @throws {TypeError} When the front matter is not a valid skill or its metadata is malformed.
 */
export function parseGuide(name: string, text: string): Guide {
  const skillName = `add-${name}`;
  const file = `skills/${skillName}/SKILL.md`;
  const { data } = parseFrontMatter(text, file);
  const fields = checkSkillFrontMatter(data, file);
  if (fields.name !== skillName) {
    throw new TypeError(`Invalid guide "${file}": field "name" must be "${skillName}", got "${fields.name}"`);
  }
  const metadata = GUIDE_METADATA.safeParse(fields.metadata ?? {});
  if (!metadata.success) {
    const issue = metadata.error.issues[0];
    throw new TypeError(
      `Invalid guide "${file}": field "metadata.${issue.path.map(String).join(".")}" ${issue.message}`,
    );
  }
  return Object.freeze({
    name,
    skillName,
    category: metadata.data.category,
    description: fields.description,
    text,
    config: Object.freeze(metadata.data.config ?? {}),
    env: Object.freeze(metadata.data.env ?? {}),
    imports: Object.freeze(metadata.data.imports ?? {}),
    unstable: Object.freeze(metadata.data.unstable ?? []),
  });
}

/**
 * Loads the embedded guides. The Markdown module is imported only here, so other commands never pay for it.
 *
 * @returns The guides by name, sorted by category then name.
 */
export async function loadGuides(): Promise<ReadonlyMap<string, Guide>> {
  const { GUIDES } = await import("./_guides.ts");
  const guides = Object.entries(GUIDES).map(([name, text]) => parseGuide(name, text));
  guides.sort((a, b) =>
    GUIDE_CATEGORIES.indexOf(a.category) - GUIDE_CATEGORIES.indexOf(b.category) || a.name.localeCompare(b.name)
  );
  return new Map(guides.map((guide) => [guide.name, guide]));
}

/**
 * The known name closest to a mistyped one, when one is close enough to be a likely typo.
 *
 * @param name The name given.
 * @param known The names that exist.
 * @returns The suggestion, or `undefined`.
 */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = candidate.startsWith(name) || name.startsWith(candidate) ? 1 : editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
