/**
 * Uploads a host directory into a new remote machine's workspace (`seedFrom`).
 *
 * @module
 */

import { join } from "node:path";
import type { RemoteMachine } from "./remote_machine.ts";

/** What seeding skips and how much it uploads. */
export interface RemoteSeedOptions {
  /** Most files uploaded; more is an error rather than a silently partial workspace. */
  maxFiles: number;
  /** Absolute host directories left out, such as the state directory. */
  skipDirectories: readonly string[];
}

/**
 * Uploads the regular files under `hostDir` to `root` on the machine, without `.git` and without following symlinks,
 * so a link in the seed cannot pull in other host files. Requires `--allow-read` for `hostDir`.
 *
 * @param machine The machine.
 * @param hostDir The absolute host directory to upload.
 * @param root The workspace directory on the machine.
 * @param options Limits and skipped directories.
 * @returns Resolves when every file is uploaded.
 * @throws {TypeError} When `hostDir` is not a directory.
 * @throws {RangeError} When it holds more files than `maxFiles`.
 */
export async function seedRemoteMachine(
  machine: RemoteMachine,
  hostDir: string,
  root: string,
  options: RemoteSeedOptions,
): Promise<void> {
  const info = await Deno.stat(hostDir).catch(() => undefined);
  if (!info?.isDirectory) throw new TypeError(`Seed directory "${hostDir}" does not exist or is not a directory`);
  const skipped = new Set(options.skipDirectories);
  let uploaded = 0;
  const pending: { host: string; remote: string }[] = [{ host: hostDir, remote: root }];
  while (pending.length > 0) {
    const { host, remote } = pending.pop()!;
    for await (const entry of Deno.readDir(host)) {
      const hostPath = join(host, entry.name);
      const remotePath = `${remote}/${entry.name}`;
      if (entry.isDirectory) {
        if (entry.name === ".git" || skipped.has(hostPath)) continue;
        await machine.mkdir(remotePath);
        pending.push({ host: hostPath, remote: remotePath });
      } else if (entry.isFile) {
        uploaded += 1;
        if (uploaded > options.maxFiles) {
          throw new RangeError(
            `Seed directory "${hostDir}" holds more than ${options.maxFiles} files: raise maxSeedFiles or seed less`,
          );
        }
        await machine.writeFile(remotePath, await Deno.readFile(hostPath));
      }
    }
  }
}
