/**
 * `flue init [dir]`: writes a new project that runs offline with the key-less test model.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import denoJson from "../../deno.json" with { type: "json" };
import { type FlueSource, projectFiles } from "./_templates.ts";
import type { CliIo } from "./terminal.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { UsageError } from "./usage_error.ts";

/** The help text of `flue init`. */
export const INIT_HELP: string = `Usage:
  flue init [dir] [--force]

Writes AGENTS.md, deno.json, an example skill (.agents/skills/review-text/SKILL.md), src/agents/assistant.ts
src/workflows/summarize.ts (with a test), server.ts (deno serve) and main.ts (Deno Deploy) into dir (default:
the current directory). Refuses to overwrite files unless --force.
`;

/**
 * Where a generated project imports Flue from: this checkout when the CLI runs from local files (so the project works
 * offline and in tests), JSR otherwise.
 *
 * @param moduleUrl The URL of this module.
 * @returns The import map entries and the CLI specifier.
 */
export function flueSource(moduleUrl: string = import.meta.url): FlueSource {
  if (moduleUrl.startsWith("file:")) {
    const root = resolve(dirname(fileURLToPath(moduleUrl)), "../..");
    return {
      imports: {
        ...denoJson.imports,
        flue: join(root, "mod.ts"),
        "flue/testing": join(root, "testing.ts"),
      },
      cli: join(root, "cli.ts"),
    };
  }
  const spec = `jsr:@flue/cli@^${denoJson.version}`;
  return {
    imports: { flue: spec, "flue/testing": `${spec}/testing`, zod: denoJson.imports.zod },
    cli: `${spec}/cli`,
  };
}

/**
 * Runs `flue init`.
 *
 * @param args The arguments after `init`.
 * @param io Where to write.
 * @returns The exit status.
 */
export async function initCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, { force: { type: "boolean" }, help: { type: "boolean", short: "h" } }, [
    "--force",
    "--help",
  ]);
  if (parsed.values.help) {
    io.stdout(INIT_HELP);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    throw new UsageError(`flue init takes one directory, got ${parsed.positionals.length}`);
  }
  const dir = resolve(parsed.positionals[0] ?? ".");
  const files = projectFiles(flueSource());
  if (!parsed.values.force) {
    const existing = [];
    for (const path of Object.keys(files)) {
      try {
        await Deno.lstat(join(dir, path));
        existing.push(path);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    if (existing.length) {
      throw new UsageError(`Not overwriting ${existing.join(", ")} in "${dir}": pass --force to replace them`);
    }
  }
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.writeTextFile(target, content);
  }
  io.stdout(
    `Created a Flue project in ${dir}\n\nNext:\n  cd ${dir}\n  deno task run --prompt "Hello"\n` +
      `  deno task run summarize --payload '{"text":"Deno is a runtime."}'\n  deno task test\n`,
  );
  return 0;
}
