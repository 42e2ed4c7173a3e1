/**
 * What a build target knows about the project it builds, and how it writes files.
 *
 * @module
 */

import { basename, dirname, join, relative, resolve } from "node:path";
import { type FlueConfig, loadConfig } from "../project/config.ts";
import { readDenoConfig } from "../project/deno_config.ts";
import { discoverProject, type ProjectModules } from "../project/discover.ts";

/** The project a target builds, and where its files go. */
export interface BuildContext {
  /** The absolute project directory. */
  projectDir: string;
  /** The absolute output directory (the project directory unless `--out`). */
  outDir: string;
  /** The project's name: the configuration's `name` without its scope, else the directory's name, made file-safe. */
  name: string;
  /** The project's `"flue"` configuration. */
  config: FlueConfig;
  /** The Deno configuration file's path and contents, when the project has one. */
  denoConfig?: { path: string; config: Record<string, unknown> };
  /** The discovered agent and workflow modules. */
  modules: ProjectModules;
  /** The relative paths written so far, in order. */
  written: string[];
  /** Notes printed after the list of files (what the user must still do). */
  notes: string[];
}

/**
 * Reads a project for a build.
 *
 * @param projectDir The project directory.
 * @param outDir Where files go; the project directory by default.
 * @returns The context.
 */
export async function openBuildContext(projectDir: string, outDir?: string): Promise<BuildContext> {
  const dir = resolve(projectDir);
  const denoConfig = await readDenoConfig(dir);
  const configured = typeof denoConfig?.config.name === "string" ? denoConfig.config.name.split("/").pop() : undefined;
  const name = (configured || basename(dir)).toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") ||
    "flue-app";
  return {
    projectDir: dir,
    outDir: resolve(outDir ?? dir),
    name,
    config: await loadConfig(dir),
    denoConfig,
    modules: await discoverProject(dir),
    written: [],
    notes: [],
  };
}

/**
 * Writes a file under the output directory and records it.
 *
 * @param context The build.
 * @param path The path relative to the output directory.
 * @param content The text.
 * @returns The absolute path.
 */
export async function writeBuildFile(context: BuildContext, path: string, content: string): Promise<string> {
  const target = join(context.outDir, path);
  await Deno.mkdir(dirname(target), { recursive: true });
  await Deno.writeTextFile(target, content);
  context.written.push(relative(context.projectDir, target) || path);
  return target;
}

/**
 * The `links` entries of the project's configuration: a project that resolves Flue from a local checkout cannot be
 * built where that checkout is not (a container image, a CI runner, Deno Deploy).
 *
 * @param context The build.
 * @returns The links.
 */
export function projectLinks(context: BuildContext): string[] {
  const links = context.denoConfig?.config.links;
  return Array.isArray(links) ? links.filter((link): link is string => typeof link === "string") : [];
}

/**
 * Adds a note when the project links a local checkout, which the target's environment will not have.
 *
 * @param context The build.
 * @param where The environment, for the note ("the image", "CI").
 */
export function warnAboutLinks(context: BuildContext, where: string): void {
  const links = projectLinks(context);
  if (!links.length) return;
  context.notes.push(
    `deno.json "links" (${links.join(", ")}) points outside what ${where} sees: remove it to use Flue from JSR ` +
      `there, or copy the linked checkout in`,
  );
}
