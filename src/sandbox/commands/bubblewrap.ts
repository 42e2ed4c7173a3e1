/**
 * Builds the `bwrap` command line that confines one command: its own namespaces, only the system directories a program
 * needs (read-only), a minimal `/etc`, a private `/tmp`, and the workspace at `/workspace`.
 *
 * @module
 */

import type { SandboxPolicy } from "../sandbox.ts";
import type { CommandPlan } from "../shell/shell_policy.ts";
import { commandEnvironment, type CommandLimits, planArgv, resolveLimits, withLimits } from "./_command_environment.ts";
import { detectSystemDirs, type SystemDir } from "./_bubblewrap_host.ts";
import { isInsideOrEqual, normalizePath, resolveInsideWorkspace, WORKSPACE_ALIAS } from "../workspace_paths.ts";

export type { CommandLimits } from "./_command_environment.ts";
export { DEFAULT_COMMAND_LIMITS } from "./_command_environment.ts";
export type { SystemDir } from "./_bubblewrap_host.ts";

/** What {@linkcode bubblewrapArgs} needs. */
export interface BubblewrapOptions {
  /** What to run, from `planCommand()`. */
  plan: CommandPlan;
  /** The workspace's absolute host path, symlinks resolved. */
  workspace: string;
  /** `allowWrite` binds the workspace writable; `allowNet` keeps the host network. */
  policy: Pick<SandboxPolicy, "allowWrite" | "allowNet">;
  /** Working directory: relative to the workspace, absolute inside it, or under `/workspace`. Default: the root. */
  cwd?: string;
  /** Granted values added to the cleared environment. */
  env?: Readonly<Record<string, string>>;
  /** Host paths inside the workspace bound read-only over themselves, such as its `.git` (from `resolveProtectedMounts()`). */
  readOnlyPaths?: readonly string[];
  /** Host directories inside the workspace covered by an empty, read-only tmpfs, such as the state directory. */
  hiddenPaths?: readonly string[];
  /** Resource limits; defaults from `DEFAULT_COMMAND_LIMITS`. */
  limits?: Partial<CommandLimits>;
  /** Path of `prlimit` on the host (and so in the sandbox, as `/usr` is shared). Default `/usr/bin/prlimit`. */
  prlimitPath?: string;
  /**
   * Whether `bwrap` is started with the per-process limits already set (by the control group's join script), so the
   * command inherits them and runs without `prlimit`. Default false.
   */
  inheritsLimits?: boolean;
  /** How the host lays out `/bin`, `/lib` and the like; read from the host when omitted. */
  systemDirs?: readonly SystemDir[];
  /** Files shown as `/etc/passwd` and `/etc/group`; without them the sandbox has neither. */
  identityFiles?: { passwd: string; group: string };
  /** Pass `--disable-userns` (bubblewrap 0.8+). Default true. */
  disableNestedUserNamespaces?: boolean;
  /** Pass `--size` for `/tmp` (bubblewrap 0.7+). Default true. */
  sizeTmp?: boolean;
}

/** What a program needs from `/etc` to start, find libraries and users, and verify TLS certificates. */
const ETC_ALWAYS = [
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/nsswitch.conf",
  "/etc/localtime",
  "/etc/alternatives",
  "/etc/ssl",
  "/etc/ca-certificates",
  "/etc/pki",
  "/etc/crypto-policies",
];
const ETC_NETWORK = ["/etc/resolv.conf", "/etc/hosts", "/etc/gai.conf", "/etc/services", "/etc/protocols"];

/**
 * Builds the arguments for `bwrap` (without the `bwrap` program itself).
 *
 * Every namespace is unshared (`--unshare-all`; `--share-net` only with `allowNet`), every capability is dropped (as
 * root, bwrap would otherwise keep most of them inside the user namespace), the sandbox dies with its parent
 * and gets a new session (so it cannot push keystrokes into the caller's terminal), and the environment is cleared
 * and set to `PATH=/usr/local/bin:/usr/bin:/bin`, `HOME=/tmp`, `LANG=C.UTF-8`, git hardening and the granted values.
 * Visible: `/usr` and the `/bin`, `/sbin`, `/lib*` links or directories, read-only; a minimal `/etc` (`resolv.conf`
 * and `hosts` only with `allowNet`); fresh `/proc` and `/dev`; a private `/tmp`; the workspace at `/workspace`,
 * writable only with `allowWrite`, with `readOnlyPaths` bound read-only and `hiddenPaths` covered by an empty
 * read-only tmpfs. The root is then made read-only. The command runs under `prlimit` with the limits, unless
 * `inheritsLimits` says they are set already.
 *
 * @example Building the arguments
 * ```ts
 * import { bubblewrapArgs } from "./bubblewrap.ts";
 * import assert from "node:assert/strict";
 *
 * const args = bubblewrapArgs({
 *   plan: { kind: "argv", argv: ["git", "status"] },
 *   workspace: "/srv/ws",
 *   policy: { allowWrite: false, allowNet: false },
 *   systemDirs: [{ path: "/bin", symlinkTarget: "usr/bin" }],
 * });
 * assert.ok(args.includes("--unshare-all"));
 * assert.ok(!args.includes("--share-net"));
 * assert.equal(args[args.indexOf("/srv/ws") - 1], "--ro-bind");
 * ```
 *
 * @param options The plan, workspace, policy and environment.
 * @returns The arguments.
 * @throws {PolicyDeniedError} When `cwd` leaves the workspace.
 * @throws {TypeError} When `workspace` is not absolute, a protected path is not inside it, or on an invalid or
 *   reserved environment variable.
 */
export function bubblewrapArgs(options: BubblewrapOptions): string[] {
  const { plan, policy } = options;
  if (!options.workspace.startsWith("/")) {
    throw new TypeError(`Workspace "${options.workspace}" is not an absolute path: pass the workspace's host path`);
  }
  const workspace = normalizePath(options.workspace);
  const cwdOnHost = resolveInsideWorkspace(workspace, options.cwd ?? ".");
  const cwd = WORKSPACE_ALIAS + cwdOnHost.slice(workspace === "/" ? 0 : workspace.length);
  const limits = resolveLimits(options.limits);
  const env = commandEnvironment(WORKSPACE_ALIAS, policy.allowNet, options.env);
  const planned = planArgv(plan, WORKSPACE_ALIAS, policy.allowNet);
  const argv = options.inheritsLimits
    ? planned
    : withLimits(options.prlimitPath ?? "/usr/bin/prlimit", limits, planned, true);

  const args = ["--unshare-all", "--unshare-user"];
  if (policy.allowNet) args.push("--share-net");
  if (options.disableNestedUserNamespaces ?? true) args.push("--disable-userns");
  // Run as root, bwrap leaves the command nearly every capability inside its user namespace (CAP_SYS_ADMIN among
  // them); none is needed, and without them root in the sandbox cannot mount, unshare or trace.
  args.push("--cap-drop", "ALL");
  args.push("--die-with-parent", "--new-session", "--clearenv", "--hostname", "sandbox");
  args.push("--ro-bind", "/usr", "/usr");
  for (const dir of options.systemDirs ?? detectSystemDirs()) {
    if (dir.symlinkTarget === undefined) args.push("--ro-bind", dir.path, dir.path);
    else args.push("--symlink", dir.symlinkTarget, dir.path);
  }
  for (const path of policy.allowNet ? [...ETC_ALWAYS, ...ETC_NETWORK] : ETC_ALWAYS) {
    args.push("--ro-bind-try", path, path);
  }
  if (options.identityFiles !== undefined) {
    args.push("--ro-bind", options.identityFiles.passwd, "/etc/passwd");
    args.push("--ro-bind", options.identityFiles.group, "/etc/group");
  }
  args.push("--proc", "/proc", "--dev", "/dev");
  if (options.sizeTmp ?? true) args.push("--size", String(limits.maxTmpBytes));
  args.push("--tmpfs", "/tmp");
  args.push(policy.allowWrite ? "--bind" : "--ro-bind", workspace, WORKSPACE_ALIAS);
  for (const path of options.readOnlyPaths ?? []) {
    args.push("--ro-bind", normalizePath(path), inSandbox(workspace, path));
  }
  for (const path of options.hiddenPaths ?? []) {
    const target = inSandbox(workspace, path);
    args.push("--tmpfs", target, "--remount-ro", target);
  }
  args.push("--remount-ro", "/");
  args.push("--chdir", cwd);
  for (const [name, value] of Object.entries(env)) args.push("--setenv", name, value);
  args.push("--", ...argv);
  return args;
}

/** Where a host path inside the workspace appears in the sandbox. */
function inSandbox(workspace: string, path: string): string {
  const normal = normalizePath(path);
  if (!path.startsWith("/") || normal === workspace || !isInsideOrEqual(workspace, normal)) {
    throw new TypeError(
      `Protected path "${path}" is not inside the workspace "${workspace}": pass a host path below it`,
    );
  }
  return WORKSPACE_ALIAS + normal.slice(workspace === "/" ? 0 : workspace.length);
}
