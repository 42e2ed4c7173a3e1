/**
 * Watches the files that define a project (its modules, skills, roles, configuration and instructions) for
 * `flue dev`, and yields debounced batches of changed paths. Local state under `.flue/` (the database, sandboxes)
 * never triggers a reload, except the modules discovery reads from `.flue/agents/` and `.flue/workflows/`.
 *
 * @module
 */

import { basename, join, relative, sep } from "node:path";

/** The folders watched recursively, relative to the project. */
export const WATCHED_DIRS: readonly string[] = [
  "src",
  "agents",
  "workflows",
  ".agents",
  ".flue/agents",
  ".flue/workflows",
];
/** The files at the project's root that are watched. */
export const WATCHED_FILES: readonly string[] = ["deno.json", "deno.jsonc", "AGENTS.md"];

/** Options of {@linkcode watchProject}. */
export interface WatchProjectOptions {
  /** How long to wait for more changes after one, in milliseconds; a batch is yielded once it is quiet. */
  debounceMs: number;
  /** Stops watching; the iteration then ends. */
  signal: AbortSignal;
  /** Called once the watchers are open: changes from then on are seen. */
  onReady?: () => void;
}

/**
 * Whether a changed path should reload the project.
 *
 * @param projectDir The absolute project directory.
 * @param path The absolute path that changed.
 * @returns Whether it is one of the watched files or lies in a watched folder, and is not an editor's temporary file.
 */
export function isReloadTrigger(projectDir: string, path: string): boolean {
  const rel = relative(projectDir, path).split(sep).join("/");
  if (rel === "" || rel.startsWith("../")) return false;
  if (WATCHED_FILES.includes(rel)) return true;
  if (!WATCHED_DIRS.some((dir) => rel === dir || rel.startsWith(`${dir}/`))) return false;
  const name = basename(rel);
  return !isEditorTemporary(name);
}

/**
 * Whether a file name is one editors write next to the file being edited (swap, backup, probe and atomic-save files:
 * vim, emacs, JetBrains, Kate, VS Code, Chrome's file system access); the real save follows, so these never reload.
 *
 * @param name The base name.
 * @returns Whether it is an editor's temporary file.
 */
export function isEditorTemporary(name: string): boolean {
  return /\.(swp|swx|swo|swn|tmp|bak|orig|crswap|kate-swp)$/i.test(name) || /\.tmp[.\d-]*$/i.test(name) ||
    /___jb_(tmp|old|bak)___$/.test(name) || name.endsWith("~") || name.startsWith(".#") ||
    (name.startsWith("#") && name.endsWith("#")) || name === "4913" || name === ".DS_Store";
}

/**
 * Yields batches of changed project paths (relative, `/`-separated) until the signal aborts.
 *
 * @param projectDir The absolute project directory.
 * @param options The debounce and the stop signal.
 * @returns The batches.
 */
export async function* watchProject(projectDir: string, options: WatchProjectOptions): AsyncGenerator<string[]> {
  const { signal } = options;
  const changed = new Set<string>();
  let changes = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const watchers = new Set<Deno.FsWatcher>();
  const pump = async (watcher: Deno.FsWatcher, isRoot: boolean) => {
    watchers.add(watcher);
    try {
      for await (const event of watcher) {
        if (event.kind === "access" || event.kind === "other") continue;
        for (const path of event.paths) {
          if (!isReloadTrigger(projectDir, path)) continue;
          const rel = relative(projectDir, path).split(sep).join("/");
          changed.add(rel);
          changes++;
          // A watched folder created at the root is not covered by the folder watcher yet.
          if (isRoot && WATCHED_DIRS.includes(rel)) void watchFolders();
        }
        if (changed.size) notify();
      }
    } catch (error) {
      // Reported by the generator, which the caller awaits; a floating rejection would end the process.
      if (!signal.aborted) failure ??= error;
      notify();
    } finally {
      watchers.delete(watcher);
    }
  };
  let folderWatcher: Deno.FsWatcher | undefined;
  const watchFolders = async () => {
    folderWatcher?.close();
    folderWatcher = undefined;
    const existing: string[] = [];
    for (const dir of WATCHED_DIRS) {
      const path = join(projectDir, dir);
      if (await isDirectory(path)) existing.push(path);
    }
    if (existing.length && !signal.aborted) {
      try {
        folderWatcher = Deno.watchFs(existing, { recursive: true });
      } catch (error) {
        failure ??= error; // a folder removed since the check above; reported by the generator
        notify();
        return;
      }
      void pump(folderWatcher, false);
    }
  };
  const onAbort = () => {
    for (const watcher of watchers) watcher.close();
    folderWatcher?.close();
    notify();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  // The root itself, not recursively: the watched files, and watched folders created later.
  void pump(Deno.watchFs(projectDir, { recursive: false }), true);
  await watchFolders();
  options.onReady?.();
  try {
    while (!signal.aborted) {
      if (changed.size === 0 && failure === undefined) await new Promise<void>((resolve) => wake = resolve);
      if (failure !== undefined) throw failure;
      if (signal.aborted) return;
      // Quiet period: an editor's save, a formatter and a git checkout each write several files in a burst.
      let seen = -1;
      while (seen !== changes && !signal.aborted) {
        seen = changes;
        await sleep(options.debounceMs, signal);
      }
      if (signal.aborted) return;
      const batch = [...changed].sort();
      changed.clear();
      yield batch;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    onAbort();
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
