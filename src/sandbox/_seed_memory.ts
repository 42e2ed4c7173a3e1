/**
 * Copies a host directory into the memory sandbox's in-memory file system when the sandbox is created.
 *
 * @module
 */

import { join } from "node:path";
import type { InMemoryFs } from "just-bash";

/** What seeding skips and how much it copies. */
export interface SeedOptions {
  /** Most files copied; more is an error rather than a silently partial workspace. */
  maxFiles: number;
  /** Absolute host directories left out, such as the state directory. */
  skipDirectories: readonly string[];
}

/** Directories never copied: history the simulated shell cannot use, and large. */
const SKIPPED_NAMES: ReadonlySet<string> = new Set([".git"]);

/**
 * Copies the regular files and directories under `hostDir` to `root` in `files`. Symlinks are skipped, never followed,
 * so a link in the seed cannot pull in host files from elsewhere.
 *
 * Requires `--allow-read` for `hostDir`.
 *
 * @param files The in-memory file system to fill.
 * @param hostDir The absolute host directory to copy.
 * @param root Where the copy goes inside `files`.
 * @param options Limits and skipped directories.
 * @returns Resolves when every file is copied.
 * @throws {RangeError} When `hostDir` holds more files or bytes than the limits allow.
 */
export async function seedMemoryFileSystem(
  files: InMemoryFs,
  hostDir: string,
  root: string,
  options: SeedOptions,
): Promise<void> {
  const skipped = new Set(options.skipDirectories);
  let copied = 0;
  const pending: { host: string; virtual: string }[] = [{ host: hostDir, virtual: root }];
  while (pending.length > 0) {
    const { host, virtual } = pending.pop()!;
    for await (const entry of Deno.readDir(host)) {
      const hostPath = join(host, entry.name);
      const virtualPath = `${virtual}/${entry.name}`;
      if (entry.isDirectory) {
        if (SKIPPED_NAMES.has(entry.name) || skipped.has(hostPath)) continue;
        await files.mkdir(virtualPath, { recursive: true });
        pending.push({ host: hostPath, virtual: virtualPath });
      } else if (entry.isFile) {
        copied += 1;
        if (copied > options.maxFiles) {
          throw new RangeError(
            `Seed directory "${hostDir}" holds more than ${options.maxFiles} files: raise maxSeedFiles or seed less`,
          );
        }
        const content = await Deno.readFile(hostPath);
        try {
          await files.writeFile(virtualPath, content);
        } catch (error) {
          if (!(error instanceof Error) || !error.message.startsWith("ENOSPC")) throw error;
          throw new RangeError(
            `Seed directory "${hostDir}" does not fit the memory sandbox (at "${hostPath}"): raise maxFileSystemBytes or seed less`,
            { cause: error },
          );
        }
      }
    }
  }
}
