/**
 * What Flue knows about git's command line: where the subcommand is, which subcommands are built in, and which
 * options make git run other programs.
 *
 * @module
 */

import type { RunnerForm } from "../commands/_command_runners.ts";

/**
 * git 2.39's built-in commands minus those that run configurable or given programs (`difftool`, `mergetool`, `help`,
 * `hook`, `for-each-repo`, `maintenance`, `merge-index`, `imap-send`, `instaweb`, `send-email`, the transport
 * helpers). Anything else is an alias or an external `git-*` program, which a repository's config could make run
 * anything.
 */
export const GIT_BUILTIN_COMMANDS: ReadonlySet<string> = new Set(
  (
    "add am annotate apply archive bisect blame branch bundle cat-file check-attr check-ignore " +
    "check-mailmap check-ref-format checkout checkout-index cherry cherry-pick clean clone column commit " +
    "commit-graph commit-tree config count-objects describe diff diff-files diff-index diff-tree " +
    "fast-export fast-import fetch fetch-pack fmt-merge-msg for-each-ref format-patch fsck fsck-objects " +
    "gc get-tar-commit-id grep hash-object index-pack init init-db interpret-trailers log ls-files " +
    "ls-remote ls-tree mailinfo mailsplit merge merge-base merge-file merge-tree mktag mktree " +
    "multi-pack-index mv name-rev notes pack-objects pack-redundant pack-refs patch-id prune prune-packed " +
    "pull push range-diff read-tree rebase reflog remote repack replace rerere reset restore rev-list " +
    "rev-parse revert rm send-pack shortlog show show-branch show-index show-ref sparse-checkout stage " +
    "stash status stripspace submodule switch symbolic-ref tag unpack-file unpack-objects update-index " +
    "update-ref update-server-info var verify-commit verify-pack verify-tag version whatchanged worktree " +
    "write-tree"
  ).split(" "),
);

/** Subcommands whose output goes through diff drivers, which `--no-ext-diff`/`--no-textconv` switch off. */
export const GIT_DIFF_COMMANDS: ReadonlySet<string> = new Set(["diff", "show", "log", "whatchanged"]);

/** Global options that take the next argument as their value. */
const VALUE_OPTIONS = new Set([
  "-C",
  "-c",
  "--git-dir",
  "--work-tree",
  "--namespace",
  "--super-prefix",
  "--config-env",
]);

/** Long options that name a program for git to run, or switch on one; git accepts unique prefixes of them. */
const PROGRAM_OPTIONS: ReadonlyArray<readonly [option: string, form: string, reason: string]> = [
  ["--upload-pack", "git --upload-pack", "runs the given program"],
  ["--receive-pack", "git --receive-pack", "runs the given program"],
  ["--exec", "git --exec", "runs the given program"],
  ["--ext-diff", "git --ext-diff", "runs diff programs from the repository's config"],
  ["--textconv", "git --textconv", "runs conversion programs from the repository's config"],
  ["--open-files-in-pager", "git grep -O", "runs the given pager"],
  ["--config", "git -c", "sets config that can run programs"],
  ["--config-env", "git --config-env", "sets config that can run programs"],
  ["--exec-path", "git --exec-path", "runs git commands from another directory"],
  ["--help", "git help", "runs a viewer from the repository's config"],
  ["--recurse-submodules", "git --recurse-submodules", "runs git in submodules, whose own config can run programs"],
  ["--ignore-submodules", "git --ignore-submodules", "lets git run in submodules, whose own config can run programs"],
  ["--template", "git --template", "copies in config that can run programs"],
];

/**
 * Finds git's subcommand after the global options (`-C dir`, `--git-dir=...`).
 *
 * @param argv The command, `git` first.
 * @returns The subcommand's index in argv, or undefined when there is none.
 */
export function gitSubcommandIndex(argv: readonly string[]): number | undefined {
  for (let index = 1; index < argv.length; index++) {
    const arg = argv[index];
    if (!arg.startsWith("-")) return index;
    if (VALUE_OPTIONS.has(arg)) index++;
  }
  return undefined;
}

/**
 * Finds a git invocation that can run other programs: config on the command line, an alias or external command, an
 * upload/receive-pack or exec program, `ext::` transports, and subcommands that run given commands.
 *
 * @param argv The command, program first.
 * @returns The form found, such as `git -c`, and why it is refused; undefined when there is none.
 */
export function findGitRunnerForm(argv: readonly string[]): RunnerForm | undefined {
  const subcommandIndex = gitSubcommandIndex(argv);
  const globalEnd = subcommandIndex ?? argv.length;
  for (let index = 1; index < globalEnd; index++) {
    const arg = argv[index];
    if (/^-c/.test(arg)) return { kind: "runner", form: "git -c", reason: "sets config that can run programs" };
    if (arg === "-h") return { kind: "runner", form: "git help", reason: "runs a viewer from the repository's config" };
    const found = findProgramOption(arg);
    if (found !== undefined) return found;
    if (VALUE_OPTIONS.has(arg)) index++;
  }
  if (argv.some((arg) => arg.includes("ext::"))) {
    return { kind: "runner", form: "git ext::", reason: "ext:: URLs run programs" };
  }
  if (subcommandIndex === undefined) return undefined;
  const subcommand = argv[subcommandIndex];
  if (subcommand === "help") {
    return { kind: "runner", form: "git help", reason: "runs a viewer from the repository's config" };
  }
  if (!GIT_BUILTIN_COMMANDS.has(subcommand)) {
    return {
      kind: "runner",
      form: `git ${subcommand}`,
      reason: "is not a built-in git command; aliases and external git commands could run anything",
    };
  }
  const args = argv.slice(subcommandIndex + 1);
  const end = args.indexOf("--") === -1 ? args.length : args.indexOf("--");
  for (const arg of args.slice(0, end)) {
    const found = findProgramOption(arg);
    if (found !== undefined) return found;
    const isShortCluster = /^-[^-]/.test(arg);
    if (isShortCluster && (subcommand === "clone" || subcommand === "ls-remote") && /[uc]/.test(arg)) {
      return {
        kind: "runner",
        form: arg.includes("u") ? "git -u" : "git -c",
        reason: "names a program or config for git to run",
      };
    }
    if (isShortCluster && subcommand === "rebase" && arg.includes("x")) {
      return { kind: "runner", form: "git rebase --exec", reason: "runs the given command after each commit" };
    }
    if (subcommand === "clone" && arg.startsWith("--recurs")) {
      return {
        kind: "runner",
        form: "git --recurse-submodules",
        reason: "runs git in submodules, whose own config can run programs",
      };
    }
    if (isShortCluster && subcommand === "grep" && arg.includes("O")) {
      return { kind: "runner", form: "git grep -O", reason: "runs the given pager" };
    }
  }
  if (subcommand === "bisect" && args[0] === "run") {
    return { kind: "runner", form: "git bisect run", reason: "runs the given command" };
  }
  if (subcommand === "submodule") {
    return {
      kind: "runner",
      form: "git submodule",
      reason: "runs git in submodules, whose own config can run programs",
    };
  }
  return undefined;
}

/** Real options that happen to be prefixes of a program option; git matches them exactly. */
const EXACT_OPTIONS = new Set(["--text"]);

function findProgramOption(arg: string): RunnerForm | undefined {
  const name = arg.split("=")[0];
  if (!name.startsWith("--") || name.length < 3 || EXACT_OPTIONS.has(name)) return undefined;
  const found = PROGRAM_OPTIONS.find(([option]) => option.startsWith(name));
  return found === undefined ? undefined : { kind: "runner", form: found[1], reason: found[2] };
}
