/**
 * Programs that run other programs. Allowing one would let a command run anything past the allowlist, so they are
 * refused even when allowlisted, unless `allowedCommands` lists the exact form (`"find -exec"`, `"python3 -c"`, `"env"`).
 *
 * @module
 */

import { findGitRunnerForm } from "../shell/_git_commands.ts";

/** A form of a command that runs other programs, and why. */
export interface RunnerForm {
  /** What to list in `allowedCommands` to allow it, such as `find -exec`. */
  form: string;
  /** Why it is refused, completing "`<form>` ...". */
  reason: string;
}

/** Programs whose whole purpose is running another program or code given to them. */
const UNCONDITIONAL_RUNNERS: ReadonlySet<string> = new Set(
  (
    "env sh bash zsh dash ksh mksh fish csh tcsh xargs parallel nice ionice nohup timeout stdbuf setsid " +
    "sudo su doas runuser pkexec chroot unshare nsenter busybox toybox strace ltrace gdb watch flock " +
    "script time command exec eval source . builtin taskset chrt prlimit setpriv capsh firejail bwrap " +
    "expect systemd-run at batch ssh scp sftp"
  ).split(" "),
);

const DENO_SAFE_SUBCOMMANDS: ReadonlySet<string> = new Set(
  (
    "fmt lint check info doc types completions coverage help add remove outdated clean init publish " +
    "upgrade uninstall cache"
  ).split(" "),
);

const NODE_VALUE_OPTIONS = new Set(
  (
    "-r --require --import --loader --experimental-loader -C --conditions --input-type --title --env-file " +
    "--inspect-port"
  ).split(" "),
);

/** tar options that name a program to run (compressor, per-file command, volume script, remote shell). */
const TAR_PROGRAM_OPTIONS = [
  "--to-command",
  "--checkpoint-action",
  "--use-compress-program",
  "--info-script",
  "--new-volume-script",
  "--rsh-command",
  "--rmt-command",
];

/**
 * Whether the program's arguments are inspected here, so a script may not hand it arguments known only at run time.
 *
 * @param program The program as written.
 * @returns True for git, find, tar, rsync, awk and the interpreters.
 */
export function inspectsArguments(program: string): boolean {
  const name = programName(program);
  return /^(python[0-9.]*|node|nodejs|deno|perl|ruby|php|awk|gawk|mawk|nawk|find|tar|rsync|git)$/.test(name);
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
 * Finds a form of the command that runs other programs.
 *
 * @param argv The command, program first.
 * @returns The form and the reason; undefined when the command runs only itself.
 */
export function findRunnerForm(argv: readonly string[]): RunnerForm | undefined {
  const name = programName(argv[0]);
  if (UNCONDITIONAL_RUNNERS.has(name)) return { form: argv[0], reason: "runs other programs" };
  if (name === "git") return findGitRunnerForm(argv);
  if (/^python[0-9.]*$/.test(name)) {
    return scanShortOptions(argv, "c", "mWXQ", `${argv[0]} -c`, "runs code given to it");
  }
  if (name === "perl") return scanShortOptions(argv, "eE", "IMmxiCdD", "perl -e", "runs code given to it");
  if (name === "ruby") return scanShortOptions(argv, "e", "IrCxEFiKTW0", "ruby -e", "runs code given to it");
  if (name === "php") return findPhpForm(argv);
  if (name === "node" || name === "nodejs") return findNodeForm(argv);
  if (name === "deno") return findDenoForm(argv);
  if (/^(awk|gawk|mawk|nawk)$/.test(name)) return findAwkForm(argv, name);
  if (name === "find") {
    const action = argv.find((arg) => ["-exec", "-execdir", "-ok", "-okdir"].includes(arg));
    return action === undefined ? undefined : { form: `find ${action}`, reason: "runs other programs" };
  }
  if (name === "tar") return findLongOrShort(argv, TAR_PROGRAM_OPTIONS, /[IF]/, "tar -I");
  if (name === "rsync") return findLongOrShort(argv, ["--rsh", "--rsync-path", "--remote-option"], /[eM]/, "rsync -e");
  return undefined;
}

/** Scans short-option clusters before the first operand for a letter that takes code. */
function scanShortOptions(
  argv: readonly string[],
  codeLetters: string,
  valueLetters: string,
  form: string,
  reason: string,
): RunnerForm | undefined {
  for (let index = 1; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === "--" || arg === "-" || !arg.startsWith("-")) return undefined;
    if (arg.startsWith("--")) continue;
    for (let letter = 1; letter < arg.length; letter++) {
      if (codeLetters.includes(arg[letter])) return { form, reason };
      if (valueLetters.includes(arg[letter])) {
        if (letter === arg.length - 1) index++;
        break;
      }
    }
  }
  return undefined;
}

function findPhpForm(argv: readonly string[]): RunnerForm | undefined {
  const runsCode = argv.some((arg) =>
    /^-[^-]*[rRBE]/.test(arg) || /^--(run|process-code|process-begin|process-end)(=|$)/.test(arg)
  );
  return runsCode ? { form: "php -r", reason: "runs code given to it" } : undefined;
}

function findNodeForm(argv: readonly string[]): RunnerForm | undefined {
  for (let index = 1; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === "--" || !arg.startsWith("-")) return undefined;
    if (/^-(e|p|pe|ep)$/.test(arg) || /^--(eval|print)(=|$)/.test(arg)) {
      return { form: "node -e", reason: "runs code given to it" };
    }
    if (NODE_VALUE_OPTIONS.has(arg)) index++;
  }
  return undefined;
}

function findDenoForm(argv: readonly string[]): RunnerForm | undefined {
  const subcommand = argv.slice(1).find((arg) => !arg.startsWith("-"));
  if (subcommand === undefined || DENO_SAFE_SUBCOMMANDS.has(subcommand)) return undefined;
  if (/[/.:]/.test(subcommand)) return { form: "deno run", reason: "runs a script" };
  return { form: `deno ${subcommand}`, reason: "runs code" };
}

function findAwkForm(argv: readonly string[], name: string): RunnerForm | undefined {
  for (let index = 1; index < argv.length; index++) {
    const arg = argv[index];
    if (/^(-[fEil]|--(file|exec|include|load)(=|$))/.test(arg)) {
      return { form: `${name} -f`, reason: "reads its program from a file, which cannot be checked" };
    }
    if (arg === "--") return checkAwkProgram(argv[index + 1], name);
    if (arg === "-e" || arg === "--source" || arg.startsWith("--source=")) {
      const found = checkAwkProgram(arg.startsWith("--source=") ? arg.slice(9) : argv[++index], name);
      if (found !== undefined) return found;
    } else if (arg === "-v" || arg === "-F" || arg === "--assign" || arg === "--field-separator") index++;
    else if (!arg.startsWith("-") || arg === "-") return checkAwkProgram(arg, name);
  }
  return undefined;
}

function checkAwkProgram(program: string | undefined, name: string): RunnerForm | undefined {
  const code = (program ?? "").replaceAll("||", "");
  if (!/system|\||@load|@include/.test(code)) return undefined;
  return { form: `${name} system`, reason: "runs other programs through system() or pipes" };
}

/** Finds a long option (or a unique prefix of it, as getopt accepts) or a short-option cluster naming a program. */
function findLongOrShort(
  argv: readonly string[],
  longOptions: readonly string[],
  shortPattern: RegExp,
  shortForm: string,
): RunnerForm | undefined {
  for (const [index, arg] of argv.entries()) {
    if (index === 0) continue;
    const name = arg.split("=")[0];
    const long = name.length >= 4 ? longOptions.find((option) => option.startsWith(name)) : undefined;
    if (long !== undefined) return { form: `${programName(argv[0])} ${long}`, reason: "runs other programs" };
    const isCluster = /^-[^-]/.test(arg) || (index === 1 && shortForm === "tar -I" && !arg.startsWith("-"));
    if (isCluster && shortPattern.test(arg)) return { form: shortForm, reason: "runs other programs" };
  }
  return undefined;
}
