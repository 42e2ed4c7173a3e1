/**
 * How the file runner runs under bubblewrap: in its own namespaces, where the only host directories that exist are the
 * system directories (read-only), the deno binary, and the one directory whose workspaces it serves. A link in a
 * workspace can then name any path, and a swap can race any check, but the kernel resolves it inside that view.
 *
 * @module
 */

import type { BubblewrapFeatures } from "../commands/_bubblewrap_host.ts";
import { detectSystemDirs } from "../commands/_bubblewrap_host.ts";

/** What {@linkcode runnerBubblewrapArgs} needs. */
export interface RunnerBubblewrapOptions {
  /** The real path of the deno binary, mounted read-only at the same path. */
  denoPath: string;
  /** The real path of the directory the runner serves, mounted at the same path so that paths need no translation. */
  servedRoot: string;
  /** Mount the served directory writable; read-only otherwise, so even a bug cannot write. */
  allowWrite: boolean;
  /** What this bubblewrap supports. */
  features: BubblewrapFeatures;
  /** The deno arguments (`run`, flags, program, configuration). */
  denoArgs: string[];
}

/**
 * The `bwrap` arguments that run deno with `denoArgs` confined to the served directory. No network, no other
 * processes, no capabilities, an empty environment but `DENO_DIR` in a private `/tmp`, and it dies with its parent.
 *
 * @param options The binary, served directory, write access, features and deno arguments.
 * @returns The arguments after `bwrap`.
 */
export function runnerBubblewrapArgs(options: RunnerBubblewrapOptions): string[] {
  const args = ["--unshare-all", "--unshare-user"];
  if (options.features.supportsDisableUserns) args.push("--disable-userns");
  // No --new-session: with the kernel's scheduler autogroups, a new session is a scheduling group of its own, and
  // on a loaded machine that multiplied the runner's round trip by five. It would only keep a terminal from being
  // driven (TIOCSTI), and the runner holds none: its streams are pipes and its flags refuse /dev/tty.
  args.push("--cap-drop", "ALL", "--die-with-parent", "--clearenv");
  args.push("--ro-bind", "/usr", "/usr");
  for (const dir of detectSystemDirs()) {
    if (dir.symlinkTarget === undefined) args.push("--ro-bind", dir.path, dir.path);
    else args.push("--symlink", dir.symlinkTarget, dir.path);
  }
  if (!options.denoPath.startsWith("/usr/")) args.push("--ro-bind", options.denoPath, options.denoPath);
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
  args.push(options.allowWrite ? "--bind" : "--ro-bind", options.servedRoot, options.servedRoot);
  args.push("--remount-ro", "/");
  args.push("--setenv", "DENO_DIR", "/tmp/deno", "--chdir", options.servedRoot);
  args.push("--", options.denoPath, ...options.denoArgs);
  return args;
}
