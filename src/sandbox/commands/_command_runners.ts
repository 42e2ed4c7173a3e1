/**
 * Per-program rules for commands that could run programs the allowlist does not name. Each program Flue knows gets
 * one of four rules:
 *
 * - an interpreter (`sh`, `python3`, `node`, `vim`, `make`, an awk program that calls `system()` ...) runs code, so
 *   anything: it needs the `allowInterpreters` policy option on top of being listed;
 * - a runner (`env`, `xargs`, `timeout`, `ssh` ...) exists to run another program: `allowedCommands` must list it
 *   itself, and then it can run anything;
 * - a program with an option allowlist (`sort`) may use only the options listed here;
 * - a program whose manual names a closed set of program-running options (`find -exec`, `tar --to-command`,
 *   `zip -TT`, `rsync -e`, git's) has those refused, and some run with features switched off besides (`sed --sandbox`,
 *   git's drivers, `tar --force-local`, see `_command_environment.ts`).
 *
 * A refused form is allowed by listing it exactly in `allowedCommands` (`"find -exec"`, `"sort --compress-program"`).
 * A program without a rule runs with whatever plain arguments it is given.
 *
 * @module
 */

import { findGitRunnerForm } from "../shell/_git_commands.ts";

/** A form of a command that can run other programs, and why. */
export interface RunnerForm {
  /**
   * What kind of refusal: `interpreter` needs the `allowInterpreters` option; `runner` needs `form` listed in
   * `allowedCommands`.
   */
  kind: "interpreter" | "runner";
  /** What to list in `allowedCommands` to allow it, such as `find -exec`. */
  form: string;
  /** Why it is refused, completing "`<form>` ...". */
  reason: string;
}

/**
 * Programs that run code given to them, or code in files the model could write: shells, language runtimes, editors
 * with command modes, build tools and package managers (scripts, recipes, build files), compilers (`-wrapper`, `-B`,
 * `-specs` and linker options run programs), database shells with a shell escape, debuggers, and multi-call binaries
 * that hold a shell.
 */
const INTERPRETERS =
  /^(sh|bash|rbash|zsh|dash|ksh|ksh93|mksh|yash|posh|fish|csh|tcsh|busybox|toybox|python[0-9.]*|pypy[0-9.]*|node|nodejs|bun|perl[0-9.]*|ruby[0-9.]*|irb|php[0-9.]*|lua[0-9.]*|luajit|tclsh[0-9.]*|wish[0-9.]*|expect|gdb|lldb|vim|vi|ex|view|vimdiff|nvim|rvim|gvim|emacs|emacs-nox|make|gmake|bmake|cmake|m4|dc|ed|R|Rscript|julia|java|jshell|groovy|scala|pwsh|osascript|sqlite3|guile|racket|ocaml|ghci|runghc|erl|escript|elixir|iex|swipl|gawk|mawk|nawk|awk|npm|npx|pnpm|yarn|cargo|go|gradle|mvn|ant|rake|bundle|pip[0-9.]*|pipx|poetry|composer|pytest|tox|gcc|cc|g\+\+|c\+\+|clang|clang\+\+|tcc|rustc|psql|mysql|nmap)$/;

/** Programs whose whole purpose is running another program. */
const RUNNERS: ReadonlySet<string> = new Set(
  (
    "env xargs parallel nice ionice nohup timeout stdbuf setsid sudo su doas runuser pkexec chroot unshare nsenter " +
    "strace ltrace watch flock script time command exec eval source . builtin taskset chrt prlimit setpriv capsh " +
    "firejail bwrap systemd-run at batch ssh scp sftp fakeroot proot sg newgrp valgrind perf socat tmux screen"
  ).split(" "),
);

const DENO_SAFE_SUBCOMMANDS: ReadonlySet<string> = new Set(
  (
    "fmt lint check info doc types completions coverage help add remove outdated clean init publish " +
    "upgrade uninstall cache"
  ).split(" "),
);

/** An option allowlist: short letters with and without a value, and long options (written in full). */
interface OptionAllowlist {
  flags: string;
  valued: string;
  long: ReadonlySet<string>;
  longValued: ReadonlySet<string>;
}

/** GNU sort's options without `--compress-program`, which runs the given program on temporary files. */
const SORT_OPTIONS: OptionAllowlist = {
  flags: "bdfgiMhnRrVcCmsuz",
  valued: "kotST",
  long: new Set(
    (
      "ignore-leading-blanks dictionary-order ignore-case general-numeric-sort ignore-nonprinting month-sort " +
      "human-numeric-sort numeric-sort random-sort reverse version-sort check merge stable unique zero-terminated " +
      "debug help version"
    ).split(" "),
  ),
  longValued: new Set(
    (
      "sort check key output field-separator temporary-directory buffer-size parallel batch-size files0-from " +
      "random-source"
    ).split(" "),
  ),
};

/** Program-running options from each program's manual; a long option is also refused by any prefix of it. */
const PROGRAM_OPTIONS: Readonly<Record<string, { long: readonly string[]; short: RegExp }>> = {
  tar: {
    long: [
      "--to-command",
      "--checkpoint-action",
      "--use-compress-program",
      "--info-script",
      "--new-volume-script",
      "--rsh-command",
      "--rmt-command",
    ],
    short: /[IF]/,
  },
  rsync: { long: ["--rsh", "--rsync-path", "--remote-option", "--daemon", "--config", "--dparam"], short: /[eM]/ },
  zip: { long: ["--unzip-command"], short: /TT/ },
  sdiff: { long: ["--diff-program"], short: /$^/ },
  diff3: { long: ["--diff-program"], short: /$^/ },
  curl: { long: ["--engine", "--config"], short: /K/ },
  wget: { long: ["--use-askpass", "--execute", "--config"], short: /e/ },
  man: { long: ["--pager", "--html", "--gxditview", "--browser"], short: /[PHX]/ },
  split: { long: ["--filter"], short: /$^/ },
  install: { long: ["--strip-program"], short: /$^/ },
  nc: { long: ["--exec", "--sh-exec", "--lua-exec"], short: /[ec]/ },
  ncat: { long: ["--exec", "--sh-exec", "--lua-exec"], short: /[ec]/ },
  netcat: { long: ["--exec", "--sh-exec", "--lua-exec"], short: /[ec]/ },
};

/**
 * Whether the program's arguments are inspected here, so a script may not hand it arguments known only at run time.
 *
 * @param program The program as written.
 * @returns True for the programs with a rule.
 */
export function inspectsArguments(program: string): boolean {
  const name = programName(program);
  return INTERPRETERS.test(name) || name === "deno" || name === "find" || name === "git" || name === "sort" ||
    Object.hasOwn(PROGRAM_OPTIONS, name);
}

/**
 * The program's file name without a directory.
 *
 * @param program The program as written, maybe a path.
 * @returns The last path segment.
 */
export function programName(program: string): string {
  return program.slice(program.lastIndexOf("/") + 1);
}

/**
 * Finds a form of the command that runs other programs or code.
 *
 * @param argv The command, program first.
 * @returns The form and the reason; undefined when the command runs only itself.
 */
export function findRunnerForm(argv: readonly string[]): RunnerForm | undefined {
  const name = programName(argv[0]);
  if (RUNNERS.has(name)) return { kind: "runner", form: argv[0], reason: "runs other programs" };
  if (name === "git") return findGitRunnerForm(argv);
  if (/^(awk|gawk|mawk|nawk)$/.test(name)) return findAwkForm(argv, name);
  if (INTERPRETERS.test(name)) return { kind: "interpreter", form: argv[0], reason: "interprets code" };
  if (name === "deno") return findDenoForm(argv);
  if (name === "find") {
    const action = argv.find((arg) => ["-exec", "-execdir", "-ok", "-okdir"].includes(arg));
    return action === undefined ? undefined : { kind: "runner", form: `find ${action}`, reason: "runs other programs" };
  }
  if (name === "sort") return findUnlistedOption(argv, SORT_OPTIONS);
  if (!Object.hasOwn(PROGRAM_OPTIONS, name)) return undefined;
  const options = PROGRAM_OPTIONS[name];
  return findProgramOption(argv, options.long, options.short);
}

function findDenoForm(argv: readonly string[]): RunnerForm | undefined {
  const subcommand = argv.slice(1).find((arg) => !arg.startsWith("-"));
  if (subcommand === undefined || DENO_SAFE_SUBCOMMANDS.has(subcommand)) return undefined;
  if (/[/.:]/.test(subcommand)) return { kind: "interpreter", form: "deno run", reason: "runs a script" };
  return { kind: "interpreter", form: `deno ${subcommand}`, reason: "runs code" };
}

/**
 * awk is an interpreter, but one whose program is usually a literal argument: such a program may run without
 * `allowInterpreters` when it cannot start a program (no `system`, no pipe, no gawk `@` indirect call or directive).
 * Options other than `-F` and `-v` could read a program from a file or load an extension, so they need the opt-in.
 */
function findAwkForm(argv: readonly string[], name: string): RunnerForm | undefined {
  const refusal = (form: string, reason: string): RunnerForm => ({
    kind: "interpreter",
    form: `${name} ${form}`,
    reason,
  });
  for (let index = 1; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === "-F" || arg === "-v") index++;
    else if (/^-[Fv]./.test(arg)) continue;
    else if (arg === "--" || !arg.startsWith("-") || arg === "-") {
      const program = arg === "--" ? argv[index + 1] : arg;
      const code = (program ?? "").replaceAll("||", "");
      return /system|\||@/.test(code)
        ? refusal("system()", "runs other programs through system() or pipes")
        : undefined;
    } else return refusal(arg, "can load a program that cannot be checked");
  }
  return undefined;
}

/** Checks every option (up to `--`) against an allowlist; the first one not in it is the refused form. */
function findUnlistedOption(argv: readonly string[], allowed: OptionAllowlist): RunnerForm | undefined {
  const name = programName(argv[0]);
  const refuse = (option: string): RunnerForm => ({
    kind: "runner",
    form: `${name} ${option}`,
    reason: `is not an option Flue knows to be safe for "${name}" (options are written in full)`,
  });
  for (let index = 1; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === "--") return undefined;
    if (arg === "-" || !arg.startsWith("-")) continue;
    if (arg.startsWith("--")) {
      const [option, value] = [arg.slice(2).split("=")[0], arg.includes("=")];
      if (allowed.longValued.has(option)) {
        if (!value && option !== "check") index++;
      } else if (!allowed.long.has(option) || value) return refuse(`--${option}`);
      continue;
    }
    for (let letter = 1; letter < arg.length; letter++) {
      if (allowed.valued.includes(arg[letter])) {
        if (letter === arg.length - 1) index++;
        break;
      }
      if (!allowed.flags.includes(arg[letter])) return refuse(`-${arg[letter]}`);
    }
  }
  return undefined;
}

/** Finds a long option (or a prefix of it, as getopt accepts) or a short-option cluster naming a program. */
function findProgramOption(
  argv: readonly string[],
  longOptions: readonly string[],
  shortPattern: RegExp,
): RunnerForm | undefined {
  const name = programName(argv[0]);
  for (const [index, arg] of argv.entries()) {
    if (index === 0) continue;
    if (arg === "--") return undefined;
    const option = arg.split("=")[0];
    const long = option.startsWith("--") && option.length >= 4
      ? longOptions.find((candidate) => candidate.startsWith(option))
      : undefined;
    if (long !== undefined) return { kind: "runner", form: `${name} ${long}`, reason: "runs other programs" };
    // tar's first argument may be a cluster without a dash ("tar cIf ...").
    const isCluster = /^-[^-]/.test(arg) || (index === 1 && name === "tar" && !arg.startsWith("-"));
    const letter = isCluster ? arg.match(shortPattern)?.[0] : undefined;
    if (letter !== undefined) return { kind: "runner", form: `${name} -${letter}`, reason: "runs other programs" };
  }
  return undefined;
}
