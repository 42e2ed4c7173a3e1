/**
 * `flue build --target deno-deploy`: the entry (`main.ts`) and the `deploy` key of `deno.json` that `deployctl`
 * reads. On Deploy, `platform: "auto"` in the entry keeps sessions and dispatches in Deno KV and workspaces in the
 * memory sandbox (Deploy has no writable disk and no subprocesses), unless the configuration names a PostgreSQL store
 * or a remote sandbox.
 *
 * @module
 */

import { join, relative } from "node:path";
import { applyEdits, modify } from "jsonc-parser";
import type { BuildContext } from "./build_context.ts";
import { warnAboutLinks, writeBuildFile } from "./build_context.ts";
import { SERVER_ENTRY_TS } from "./server_entry.ts";

/** The entry Deno Deploy runs. */
export const DENO_DEPLOY_ENTRY = "main.ts";

/**
 * The server entry every container target runs: written when the project has none (`flue init` writes it).
 *
 * @param context The build.
 */
export async function ensureServerEntry(context: BuildContext): Promise<void> {
  try {
    await Deno.stat(join(context.projectDir, DENO_DEPLOY_ENTRY));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await writeBuildFile({ ...context, outDir: context.projectDir }, DENO_DEPLOY_ENTRY, SERVER_ENTRY_TS);
  }
}

/**
 * Writes `main.ts` when missing and the `deploy` key of the project's configuration.
 *
 * @param context The build.
 */
export async function buildDenoDeploy(context: BuildContext): Promise<void> {
  await ensureServerEntry(context);
  const path = context.denoConfig?.path ?? join(context.projectDir, "deno.json");
  const text = context.denoConfig ? await Deno.readTextFile(path) : "{}\n";
  const existing = context.denoConfig?.config.deploy as Record<string, unknown> | undefined;
  const deploy = {
    project: existing?.project ?? context.name,
    entrypoint: DENO_DEPLOY_ENTRY,
    include: existing?.include ?? [],
    exclude: existing?.exclude ?? [".flue/", "dist/", "**/*_test.ts"],
  };
  const edited = applyEdits(
    text,
    modify(text, ["deploy"], deploy, { formattingOptions: { insertSpaces: true, tabSize: 2, eol: "\n" } }),
  );
  await Deno.writeTextFile(path, edited);
  context.written.push(relative(context.projectDir, path));
  warnAboutLinks(context, "Deno Deploy");
  context.notes.push(
    `Set FLUE_API_TOKEN and the model's key in the project's environment variables on Deno Deploy (project ` +
      `"${deploy.project}"); the store there is Deno KV and the sandbox the memory one`,
  );
}
