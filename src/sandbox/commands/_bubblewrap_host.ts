/**
 * Facts about the host that the bubblewrap sandbox depends on: where `bwrap` and `prlimit` are, which options this
 * `bwrap` supports, whether it can create namespaces here, and how `/bin` and `/lib` are laid out.
 *
 * @module
 */

/** A top-level system directory as the host has it: a real directory, or a symlink into `/usr` (merged /usr). */
export interface SystemDir {
  /** Absolute path, such as `/bin`. */
  path: string;
  /** The symlink's target as written (`usr/bin`) when the path is a symlink. */
  symlinkTarget?: string;
}

/** What a working bubblewrap offers. */
export interface BubblewrapFeatures {
  /** `--disable-userns` (bubblewrap 0.8+). */
  supportsDisableUserns: boolean;
  /** `--size` for tmpfs mounts (bubblewrap 0.7+). */
  supportsTmpfsSize: boolean;
}

/** Whether bubblewrap can run sandboxes here, and if not, why. */
export type BubblewrapStatus =
  | { available: true; path: string; features: BubblewrapFeatures }
  | { available: false; path: string | undefined; reason: string };

const SYSTEM_DIR_PATHS = ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"];
const STANDARD_BIN_DIRS = ["/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin", "/sbin"];

let systemDirs: SystemDir[] | undefined;
const statuses = new Map<string, Promise<BubblewrapStatus>>();
let identityFiles: Promise<{ passwd: string; group: string }> | undefined;

/**
 * Reads how the host lays out `/bin`, `/sbin`, `/lib*`, once per process.
 *
 * @returns The directories that exist.
 */
export function detectSystemDirs(): SystemDir[] {
  systemDirs ??= SYSTEM_DIR_PATHS.flatMap((path): SystemDir[] => {
    try {
      const info = Deno.lstatSync(path);
      if (info.isSymlink) return [{ path, symlinkTarget: Deno.readLinkSync(path) }];
      return info.isDirectory ? [{ path }] : [];
    } catch {
      return [];
    }
  });
  return systemDirs;
}

/**
 * Finds an executable on PATH, then in the standard directories.
 *
 * @param name The program's name.
 * @returns Its absolute path, or undefined.
 */
export function findExecutable(name: string): string | undefined {
  let pathDirs: string[] = [];
  try {
    pathDirs = (Deno.env.get("PATH") ?? "").split(":").filter((dir) => dir.startsWith("/"));
  } catch {
    // Without env permission the standard directories still apply.
  }
  for (const dir of [...pathDirs, ...STANDARD_BIN_DIRS]) {
    const candidate = `${dir}/${name}`;
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Checks, once per path and process, that bubblewrap exists and can create a sandbox here (user, network and pid
 * namespaces), and which options it supports.
 *
 * @param path Path of `bwrap`; found on PATH when omitted.
 * @returns Whether it works, and why not.
 */
export function detectBubblewrap(path?: string): Promise<BubblewrapStatus> {
  const resolved = path ?? findExecutable("bwrap");
  if (resolved === undefined) {
    return Promise.resolve({ available: false, path: undefined, reason: "bwrap was not found on PATH" });
  }
  let status = statuses.get(resolved);
  if (status === undefined) {
    status = probe(resolved);
    statuses.set(resolved, status);
  }
  return status;
}

async function probe(path: string): Promise<BubblewrapStatus> {
  if (!isExecutableFile(path)) return { available: false, path, reason: `"${path}" is not an executable file` };
  try {
    const help = await new Deno.Command(path, { args: ["--help"], clearEnv: true, stdin: "null" }).output();
    const options = new TextDecoder().decode(help.stdout);
    const features = {
      supportsDisableUserns: options.includes("--disable-userns"),
      supportsTmpfsSize: options.includes("--size"),
    };
    const systemArgs = detectSystemDirs().flatMap((dir) =>
      dir.symlinkTarget === undefined ? ["--ro-bind", dir.path, dir.path] : ["--symlink", dir.symlinkTarget, dir.path]
    );
    const run = await new Deno.Command(path, {
      args: [
        "--unshare-all",
        "--unshare-user",
        ...(features.supportsDisableUserns ? ["--disable-userns"] : []),
        "--die-with-parent",
        "--new-session",
        "--ro-bind",
        "/usr",
        "/usr",
        ...systemArgs,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--",
        "true",
      ],
      clearEnv: true,
      env: { PATH: "/usr/bin:/bin" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (run.success) return { available: true, path, features };
    const stderr = new TextDecoder().decode(run.stderr).trim();
    return { available: false, path, reason: `a test sandbox failed (${stderr || `exit code ${run.code}`})` };
  } catch (error) {
    return { available: false, path, reason: `running "${path}" failed (${(error as Error).message})` };
  }
}

/**
 * Writes, once per process, the `/etc/passwd` and `/etc/group` the sandbox shows: only root, nobody and the sandbox's
 * own user, so host accounts stay hidden while programs that look up the current user still work. They are written
 * again when something (a temp cleaner) removed them.
 *
 * @returns Paths of the two files.
 */
export async function sandboxIdentityFiles(): Promise<{ passwd: string; group: string }> {
  if (identityFiles !== undefined) {
    const files = await identityFiles;
    try {
      await Deno.stat(files.passwd);
      await Deno.stat(files.group);
      return files;
    } catch {
      identityFiles = undefined;
    }
  }
  identityFiles ??= writeIdentityFiles();
  return await identityFiles;
}

async function writeIdentityFiles(): Promise<{ passwd: string; group: string }> {
  const dir = await Deno.makeTempDir({ prefix: "flue-sandbox-etc-" });
  const uid = Deno.uid() ?? 0;
  const gid = Deno.gid() ?? 0;
  const passwd = [
    "root:x:0:0:root:/tmp:/bin/sh",
    ...(uid === 0 || uid === 65534 ? [] : [`sandbox:x:${uid}:${gid}:sandbox:/tmp:/bin/sh`]),
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
  ];
  const group = ["root:x:0:", ...(gid === 0 || gid === 65534 ? [] : [`sandbox:x:${gid}:`]), "nogroup:x:65534:"];
  await Deno.writeTextFile(`${dir}/passwd`, passwd.join("\n") + "\n", { mode: 0o644 });
  await Deno.writeTextFile(`${dir}/group`, group.join("\n") + "\n", { mode: 0o644 });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // Already gone; nothing to clean.
    }
  });
  return { passwd: `${dir}/passwd`, group: `${dir}/group` };
}
