/**
 * `flue init [dir]`: writes a new project that runs offline with the key-less test model, or adds Flue to an existing
 * Deno project by merging into its `deno.json` or `deno.jsonc`.
 *
 * @module
 */

import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import denoJson from "../../deno.json" with { type: "json" };
import { findDenoConfig, parseDenoConfig } from "../project/deno_config.ts";
import { denoExecutable } from "./_deno_executable.ts";
import { mergeDenoConfig } from "./_init_merge.ts";
import { projectConfig, projectFiles } from "./_templates.ts";
import type { CliIo } from "./terminal.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { UsageError } from "./usage_error.ts";

/** The help text of `flue init`. */
export const INIT_HELP: string = `Usage:
  flue init [dir] [--force]

Writes AGENTS.md, an example skill (.agents/skills/review-text/SKILL.md), src/agents/assistant.ts,
src/workflows/summarize.ts (with a test), server.ts (deno serve) and main.ts (Deno Deploy) into dir (default: the
current directory), and adds to its deno.json (or deno.jsonc): the imports "flue" (jsr:@flue/cli@^${denoJson.version}),
"flue/testing" and "zod", the tasks dev, run, flue, test and serve, and the "flue" configuration key.

An existing Deno project keeps its configuration, comments and files: init only adds. It refuses, naming them, files
that already exist with other contents and configuration entries that hold another value (a "dev" task, say); --force
replaces exactly those and nothing else. Run from a Flue checkout rather than from JSR, init also adds "links" with the
relative path to the checkout, so the project resolves Flue to it offline.
`;

/** A generated project before it is written: the configuration entries and the files. */
export interface GeneratedProject {
  /** The `deno.json` entries, with the `links` entry when Flue runs from a checkout. */
  config: ReturnType<typeof projectConfig> & { links: string[] };
  /** The other files, by relative path. */
  files: Record<string, string>;
}

/**
 * The project `flue init` writes into a directory: `links` names the checkout this CLI runs from (relative to the
 * directory), when it runs from local files rather than from JSR.
 *
 * @param dir The project directory.
 * @param moduleUrl The URL of this module; a `file:` URL means a checkout.
 * @returns The configuration entries and files.
 */
export function generateProject(dir: string, moduleUrl: string = import.meta.url): GeneratedProject {
  const links: string[] = [];
  if (moduleUrl.startsWith("file:")) {
    const checkout = resolve(dirname(fileURLToPath(moduleUrl)), "../..");
    links.push(relative(resolve(dir), checkout).split(sep).join("/") || ".");
  }
  return { config: { ...projectConfig(denoJson.version), links }, files: projectFiles() };
}

/**
 * Writes a generated project into a new directory, as `flue init` does there (a helper for tests and examples).
 *
 * @param dir The directory, created when missing; it should hold no Deno configuration.
 * @returns The written paths, relative to `dir`.
 */
export async function writeNewProject(dir: string): Promise<string[]> {
  const project = generateProject(dir);
  const files: Record<string, string> = {
    ...project.files,
    "deno.json": mergeDenoConfig("", project.config, { existing: {}, force: false }).text,
    ".gitignore": ".flue/\n",
  };
  for (const [path, content] of Object.entries(files)) {
    await Deno.mkdir(dirname(join(dir, path)), { recursive: true });
    await Deno.writeTextFile(join(dir, path), content);
  }
  return Object.keys(files);
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
  const force = parsed.values.force ?? false;
  const project = generateProject(dir);
  if (project.config.links.includes(".")) {
    throw new UsageError(
      `"${dir}" is Flue's own checkout: create the project beside it, such as flue init ../my-agent`,
    );
  }
  const configPath = await findDenoConfig(dir) ?? join(dir, "deno.json");
  const configText = await readOptional(configPath);
  const merge = mergeDenoConfig(configText ?? "", project.config, {
    existing: configText === undefined ? {} : parseDenoConfig(configText, configPath),
    force,
  });
  const writes: Record<string, string> = {};
  const conflicts = merge.conflicts.map((entry) => `${relative(dir, configPath)} ${entry}`);
  const files = await formatWithProjectSettings(project.files, configText === undefined ? undefined : configPath);
  for (const [path, content] of Object.entries(files)) {
    const current = await readOptional(join(dir, path));
    if (current === content) continue;
    if (current !== undefined && !force) conflicts.push(path);
    else writes[path] = content;
  }
  if (conflicts.length) {
    throw new UsageError(
      `Not changing "${dir}": ${conflicts.join(", ")} already exist with other contents; ` +
        `rename or remove them, or pass --force to replace exactly these`,
    );
  }
  if (merge.text !== configText) writes[relative(dir, configPath)] = merge.text;
  const gitignore = await readOptional(join(dir, ".gitignore"));
  if (!gitignore?.split("\n").some((line) => /^\/?\.flue\/?$/.test(line.trim()))) {
    writes[".gitignore"] = `${gitignore ? `${gitignore.replace(/\n?$/, "\n")}` : ""}.flue/\n`;
  }
  for (const [path, content] of Object.entries(writes)) {
    const target = join(dir, path);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.writeTextFile(target, content);
  }
  const configName = relative(dir, configPath);
  const formatted = !(configName in writes) || await formatInPlace(dir, configName);
  const verb = configText === undefined ? "Created a Flue project in" : "Added Flue to";
  io.stdout(
    `${verb} ${dir}\n${Object.keys(writes).map((path) => `  wrote ${path}\n`).join("")}` +
      (formatted ? "" : "  (deno fmt was not available: format the files with your settings)\n") +
      `\nNext:\n  cd ${relative(Deno.cwd(), dir) || "."}\n  deno task run --prompt "Hello"\n` +
      `  deno task run summarize --payload '{"text":"Deno is a runtime."}'\n  deno task test\n  deno task dev\n`,
  );
  return 0;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * The generated files as `deno fmt` formats them under the project's own settings (a line width of 80, single
 * quotes, ...), so the project passes `deno fmt --check` and a second `init` finds them unchanged. They are formatted
 * in a temporary directory with the project's configuration; without a `deno` to run (a compiled `flue`), as written.
 */
async function formatWithProjectSettings(
  files: Record<string, string>,
  configPath: string | undefined,
): Promise<Record<string, string>> {
  const scratch = await Deno.makeTempDir({ prefix: "flue-init-" });
  try {
    for (const [path, content] of Object.entries(files)) {
      await Deno.mkdir(dirname(join(scratch, path)), { recursive: true });
      await Deno.writeTextFile(join(scratch, path), content);
    }
    const config = configPath ? ["--config", configPath] : ["--no-config"];
    if (!await runDenoFmt(scratch, [...config, "."])) return files;
    const formatted: Record<string, string> = {};
    for (const path of Object.keys(files)) formatted[path] = await Deno.readTextFile(join(scratch, path));
    return formatted;
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

/** Formats one file of the project in place with its settings; `false` when `deno fmt` could not run. */
function formatInPlace(dir: string, path: string): Promise<boolean> {
  return runDenoFmt(dir, [path]);
}

async function runDenoFmt(cwd: string, args: string[]): Promise<boolean> {
  try {
    const output = await new Deno.Command(denoExecutable(), {
      args: ["fmt", "--quiet", ...args],
      cwd,
      stdout: "null",
      stderr: "null",
    }).output();
    return output.success;
  } catch {
    return false;
  }
}
