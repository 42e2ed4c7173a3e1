import assert from "node:assert/strict";
import { PolicyDeniedError } from "../../errors.ts";
import { bubblewrapArgs, type BubblewrapOptions, DEFAULT_COMMAND_LIMITS } from "./bubblewrap.ts";

const MERGED_USR = [
  { path: "/bin", symlinkTarget: "usr/bin" },
  { path: "/lib", symlinkTarget: "usr/lib" },
  { path: "/lib64", symlinkTarget: "usr/lib64" },
];

function build(overrides: Partial<BubblewrapOptions> = {}): string[] {
  return bubblewrapArgs({
    plan: { kind: "argv", argv: ["ls", "-la"] },
    workspace: "/srv/ws",
    policy: { allowWrite: false, allowNet: false },
    systemDirs: MERGED_USR,
    ...overrides,
  });
}

/** The values that follow each occurrence of an option taking `arity` values. */
function valuesOf(args: string[], option: string, arity: number): string[][] {
  const end = args.indexOf("--");
  return args.slice(0, end).flatMap((arg, index) => arg === option ? [args.slice(index + 1, index + 1 + arity)] : []);
}

function commandOf(args: string[]): string[] {
  return args.slice(args.indexOf("--") + 1);
}

function envOf(args: string[]): Record<string, string> {
  return Object.fromEntries(valuesOf(args, "--setenv", 2));
}

Deno.test("bubblewrapArgs() unshares every namespace, dies with its parent and starts a new session", () => {
  const args = build();
  for (
    const flag of [
      "--unshare-all",
      "--unshare-user",
      "--disable-userns",
      "--die-with-parent",
      "--new-session",
      "--clearenv",
    ]
  ) {
    assert.ok(args.includes(flag), flag);
  }
  assert.ok(!args.includes("--share-net"));
  assert.deepEqual(valuesOf(args, "--cap-drop", 1), [["ALL"]]);
});

Deno.test("bubblewrapArgs() shares the network, resolv.conf and hosts only with allowNet", () => {
  const closed = build();
  const open = build({ policy: { allowWrite: false, allowNet: true } });
  assert.ok(open.includes("--share-net"));
  const closedBinds = valuesOf(closed, "--ro-bind-try", 2).map(([source]) => source);
  const openBinds = valuesOf(open, "--ro-bind-try", 2).map(([source]) => source);
  for (const file of ["/etc/resolv.conf", "/etc/hosts"]) {
    assert.ok(!closedBinds.includes(file), file);
    assert.ok(openBinds.includes(file), file);
  }
});

Deno.test("bubblewrapArgs() binds the workspace at /workspace read-only unless allowWrite", () => {
  assert.deepEqual(valuesOf(build(), "--ro-bind", 2).at(-1), ["/srv/ws", "/workspace"]);
  assert.deepEqual(valuesOf(build(), "--bind", 2), []);
  const writable = build({ policy: { allowWrite: true, allowNet: false } });
  assert.deepEqual(valuesOf(writable, "--bind", 2), [["/srv/ws", "/workspace"]]);
});

Deno.test("bubblewrapArgs() mounts protected paths read-only or hidden after the writable workspace", () => {
  const args = build({
    policy: { allowWrite: true, allowNet: false },
    readOnlyPaths: ["/srv/ws/.git", "/srv/ws/vendor/lib/.git"],
    hiddenPaths: ["/srv/ws/.flue"],
  });
  const workspaceAt = args.indexOf("--bind");
  const gitAt = args.indexOf("/srv/ws/.git");
  assert.ok(workspaceAt < gitAt);
  assert.deepEqual(args.slice(gitAt - 1, gitAt + 2), ["--ro-bind", "/srv/ws/.git", "/workspace/.git"]);
  assert.deepEqual(valuesOf(args, "--ro-bind", 2).slice(-2), [
    ["/srv/ws/.git", "/workspace/.git"],
    ["/srv/ws/vendor/lib/.git", "/workspace/vendor/lib/.git"],
  ]);
  const hiddenAt = args.indexOf("/workspace/.flue");
  assert.ok(workspaceAt < hiddenAt);
  assert.deepEqual(args.slice(hiddenAt - 1, hiddenAt + 3), [
    "--tmpfs",
    "/workspace/.flue",
    "--remount-ro",
    "/workspace/.flue",
  ]);
  assert.ok(args.indexOf("--remount-ro") < args.lastIndexOf("--remount-ro"), "the root is remounted read-only as well");
});

Deno.test("bubblewrapArgs() refuses protected paths that are not below the workspace", () => {
  for (const path of ["/srv/ws", "/srv/other/.git", "/srv/ws/../x", "relative/.git"]) {
    assert.throws(() => build({ readOnlyPaths: [path] }), TypeError, path);
    assert.throws(() => build({ hiddenPaths: [path] }), TypeError, path);
  }
});

Deno.test("bubblewrapArgs() shows only system directories and a minimal /etc, read-only", () => {
  const args = build({ identityFiles: { passwd: "/run/p", group: "/run/g" } });
  const mounted = [
    ...valuesOf(args, "--ro-bind", 2).map(([, target]) => target),
    ...valuesOf(args, "--ro-bind-try", 2).map(([, target]) => target),
    ...valuesOf(args, "--bind", 2).map(([, target]) => target),
  ];
  for (const target of mounted) {
    assert.match(target, /^\/(usr|workspace|etc\/[a-z0-9._-]+)$/, target);
    assert.doesNotMatch(target, /shadow|gshadow|sudoers/);
  }
  assert.deepEqual(valuesOf(args, "--symlink", 2), [["usr/bin", "/bin"], ["usr/lib", "/lib"], ["usr/lib64", "/lib64"]]);
  assert.deepEqual(valuesOf(args, "--ro-bind", 2).slice(1, 3), [["/run/p", "/etc/passwd"], ["/run/g", "/etc/group"]]);
  assert.ok(args.includes("--remount-ro"));
  assert.deepEqual(valuesOf(args, "--tmpfs", 1), [["/tmp"]]);
  assert.deepEqual(valuesOf(args, "--proc", 1), [["/proc"]]);
  assert.deepEqual(valuesOf(args, "--dev", 1), [["/dev"]]);
});

Deno.test("bubblewrapArgs() binds real system directories where /usr is not merged", () => {
  const args = build({ systemDirs: [{ path: "/bin" }, { path: "/lib" }] });
  assert.deepEqual(valuesOf(args, "--ro-bind", 2).slice(1, 3), [["/bin", "/bin"], ["/lib", "/lib"]]);
  assert.deepEqual(valuesOf(args, "--symlink", 2), []);
});

Deno.test("bubblewrapArgs() sets only the fixed environment, git hardening and the granted values", () => {
  const env = envOf(build({ env: { API_TOKEN: "secret", LANG: "de_DE.UTF-8" } }));
  assert.equal(env.PATH, "/usr/local/bin:/usr/bin:/bin");
  assert.equal(env.HOME, "/tmp");
  assert.equal(env.LANG, "de_DE.UTF-8");
  assert.equal(env.API_TOKEN, "secret");
  assert.equal(env.GIT_CONFIG_NOSYSTEM, "1");
  assert.equal(env.GIT_CONFIG_GLOBAL, "/dev/null");
  assert.equal(env.GIT_TERMINAL_PROMPT, "0");
  const names = Object.keys(env).filter((name) => !/^GIT_CONFIG_(KEY|VALUE)_\d+$/.test(name)).sort();
  assert.deepEqual(names, [
    "API_TOKEN",
    "BASH_FUNC_git%%",
    "BASH_FUNC_sed%%",
    "BASH_FUNC_tar%%",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_TERMINAL_PROMPT",
    "HOME",
    "LANG",
    "LESSSECURE",
    "PATH",
  ]);
  assert.equal(envOf(build()).LANG, "C.UTF-8");
});

Deno.test("bubblewrapArgs() refuses granted variables that would change how programs load or are configured", () => {
  for (const name of ["PATH", "HOME", "LD_PRELOAD", "BASH_ENV", "GIT_CONFIG_GLOBAL", "GIT_SSH_COMMAND"]) {
    assert.throws(() => build({ env: { [name]: "x" } }), { name: "TypeError", message: new RegExp(`"${name}"`) });
  }
  assert.throws(() => build({ env: { "A-B": "x" } }), { name: "TypeError", message: /name "A-B" is invalid/ });
  assert.throws(() => build({ env: { A: "x\0y" } }), { name: "TypeError", message: /NUL/ });
  assert.equal(envOf(build({ env: { GIT_AUTHOR_NAME: "Flue" } })).GIT_AUTHOR_NAME, "Flue");
});

Deno.test("bubblewrapArgs() configures git through the environment so scripts get the hardening too", () => {
  const env = envOf(build());
  const count = Number(env.GIT_CONFIG_COUNT);
  const config = Object.fromEntries(
    Array.from({ length: count }, (_, index) => [env[`GIT_CONFIG_KEY_${index}`], env[`GIT_CONFIG_VALUE_${index}`]]),
  );
  assert.equal(config["core.hooksPath"], "/dev/null");
  assert.equal(config["core.fsmonitor"], "false");
  assert.equal(config["protocol.allow"], "never");
  assert.equal(config["protocol.ext.allow"], "never");
  assert.equal(config["protocol.https.allow"], "never");
  assert.equal(config["safe.directory"], "/workspace");
  assert.equal(config["credential.helper"], "");
  const networked = envOf(build({ policy: { allowWrite: false, allowNet: true } }));
  const httpsIndex = Object.entries(networked).find(([, value]) => value === "protocol.https.allow")?.[0].slice(15);
  assert.equal(networked[`GIT_CONFIG_VALUE_${httpsIndex}`], "always");
});

Deno.test("bubblewrapArgs() prepends git's hardening options and turns off diff drivers", () => {
  const command = commandOf(build({ plan: { kind: "argv", argv: ["git", "-C", "sub", "diff", "HEAD"] } }));
  const git = command.indexOf("git");
  const options = command.slice(git + 1).filter((_, index, all) => all[index - 1] === "-c");
  for (
    const option of ["core.hooksPath=/dev/null", "core.fsmonitor=false", "core.pager=cat", "core.sshCommand=false"]
  ) {
    assert.ok(options.includes(option), option);
  }
  assert.ok(options.includes("credential.helper=") && options.includes("safe.directory=/workspace"));
  assert.deepEqual(command.slice(-6), ["-C", "sub", "diff", "--no-ext-diff", "--no-textconv", "HEAD"]);
});

Deno.test("bubblewrapArgs() runs scripts with bash -c under prlimit with the limits", () => {
  const command = commandOf(build({ plan: { kind: "script", script: "ls | wc -l" }, limits: { maxProcesses: 64 } }));
  assert.deepEqual(command, [
    "/usr/bin/prlimit",
    "--nproc=64",
    `--data=${DEFAULT_COMMAND_LIMITS.maxMemoryBytes}`,
    `--fsize=${DEFAULT_COMMAND_LIMITS.maxFileSizeBytes}`,
    "--core=0",
    "--",
    "bash",
    "-c",
    "ls | wc -l",
  ]);
  assert.throws(() => build({ limits: { maxProcesses: 0 } }), { name: "RangeError", message: /maxProcesses/ });
});

Deno.test("bubblewrapArgs() runs the command itself when bwrap starts with the limits set (inheritsLimits)", () => {
  const command = commandOf(build({ plan: { kind: "script", script: "ls | wc -l" }, inheritsLimits: true }));
  assert.deepEqual(command, ["bash", "-c", "ls | wc -l"]);
});

Deno.test("bubblewrapArgs() sizes /tmp, and leaves out options older bubblewrap lacks when told", () => {
  const args = build({ limits: { maxTmpBytes: 1024 } });
  assert.deepEqual(args.slice(args.indexOf("--tmpfs") - 2, args.indexOf("--tmpfs") + 2), [
    "--size",
    "1024",
    "--tmpfs",
    "/tmp",
  ]);
  const old = build({ sizeTmp: false, disableNestedUserNamespaces: false });
  assert.ok(!old.includes("--size") && !old.includes("--disable-userns"));
});

Deno.test("bubblewrapArgs() changes into the working directory inside the workspace", () => {
  assert.deepEqual(valuesOf(build(), "--chdir", 1), [["/workspace"]]);
  assert.deepEqual(valuesOf(build({ cwd: "src/lib" }), "--chdir", 1), [["/workspace/src/lib"]]);
  assert.deepEqual(valuesOf(build({ cwd: "/srv/ws/src" }), "--chdir", 1), [["/workspace/src"]]);
  assert.deepEqual(valuesOf(build({ cwd: "/workspace/src" }), "--chdir", 1), [["/workspace/src"]]);
});

Deno.test("bubblewrapArgs() refuses a working directory outside the workspace", () => {
  for (const cwd of ["..", "../other", "src/../../etc", "/etc", "/srv/wsx"]) {
    assert.throws(() => build({ cwd }), PolicyDeniedError, cwd);
  }
  assert.throws(() => build({ workspace: "relative/ws" }), { name: "TypeError", message: /not an absolute path/ });
});
