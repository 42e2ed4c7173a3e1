/**
 * `flue build --target <target>`: writes the files that take the project to production (see docs/deploy.md).
 *
 * @module
 */

import { delimiter, join, relative, resolve } from "node:path";
import { type BuildContext, openBuildContext } from "../deploy/build_context.ts";
import { BUILD_TARGETS, type BuildTarget, REFUSED_TARGETS } from "../deploy/build_targets.ts";
import { COMPILE_TRIPLES } from "../deploy/binary_target.ts";
import { parseCommandArgs } from "./_command_args.ts";
import { denoExecutable } from "./_deno_executable.ts";
import type { CliIo } from "./terminal.ts";
import { UsageError } from "./usage_error.ts";

const TARGET_LINES = Object.entries(BUILD_TARGETS).map(([name, target]) => `  ${name.padEnd(16)}${target.summary}`)
  .join("\n");

/** The help text of `flue build`. */
export const BUILD_HELP: string = `Usage:
  flue build --target <target> [--project <dir>] [--out <dir>] [--dry-run] [--json]

Writes the files a target needs into the project (or --out), prints them and the next command.

Targets:
${TARGET_LINES}

Options:
  -t, --target <name>         the target; for binary, a second --target <triple> (or --compile-target) cross-compiles:
                              ${COMPILE_TRIPLES.join(", ")}
      --project <dir>         project directory (default: current directory)
      --out <dir>             where to write (default: the project directory)
      --dry-run               binary: write the entry and print the deno compile command without running it
      --json                  print what was written as JSON

vercel, netlify and cloudflare are refused with exit status 2 and the nearest target that works (docs/deploy.md).
`;

const OPTIONS = {
  target: { type: "string", short: "t", multiple: true },
  "compile-target": { type: "string" },
  project: { type: "string" },
  out: { type: "string" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const FLAGS = ["--target", "--compile-target", "--project", "--out", "--dry-run", "--json", "--help"];

/** A finished build: the context, the target and the command it leaves to run (binary: `deno compile`). */
export interface BuildOutcome {
  /** The build's context, with the files written and notes. */
  context: BuildContext;
  /** The target's name. */
  targetName: string;
  /** The target. */
  target: BuildTarget;
  /** A command to run next (binary: `deno compile ...`), if any. */
  command?: string[];
}

/**
 * Parses the arguments shared by `flue build` and `flue deploy` and runs the build.
 *
 * @param values The parsed flags.
 * @returns The outcome.
 * @throws {UsageError} For a missing, unknown or refused target.
 */
export async function runBuild(
  values: { target?: string[]; "compile-target"?: string; project?: string; out?: string },
): Promise<BuildOutcome> {
  const given = values.target ?? [];
  const triples = given.filter((value) => COMPILE_TRIPLES.includes(value));
  const names = given.filter((value) => !COMPILE_TRIPLES.includes(value));
  const known = [...Object.keys(BUILD_TARGETS)].join(", ");
  if (names.length !== 1) {
    throw new UsageError(
      names.length
        ? `Choose one target, got ${names.map((name) => `"${name}"`).join(", ")}`
        : `--target is required: ${known}`,
    );
  }
  const [targetName] = names;
  const refused = REFUSED_TARGETS[targetName];
  if (refused) {
    throw new UsageError(`Flue does not build for "${targetName}": ${refused.reason}; use ${refused.instead}`);
  }
  const target = BUILD_TARGETS[targetName];
  if (!target) throw new UsageError(`Unknown target "${targetName}": targets are ${known}`);
  const triple = values["compile-target"] ?? triples[0];
  if (triple !== undefined && targetName !== "binary") {
    throw new UsageError(`A compile target ("${triple}") applies to --target binary only`);
  }
  const context = await openBuildContext(values.project ?? Deno.cwd(), values.out);
  const command = await target.build(context, { triple }) ?? undefined;
  return { context, targetName, target, command };
}

/**
 * Runs `flue build`.
 *
 * @param args The arguments after `build`.
 * @param io Where to write.
 * @returns The exit status.
 */
export async function buildCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, FLAGS);
  if (values.help) {
    io.stdout(BUILD_HELP);
    return 0;
  }
  if (positionals.length) throw new UsageError(`flue build takes no positional arguments, got "${positionals[0]}"`);
  const outcome = await runBuild(values);
  const { context, command } = outcome;
  let compiled = false;
  if (command && !values["dry-run"]) {
    const status = await new Deno.Command(denoExecutable(), {
      args: command.slice(1),
      cwd: context.projectDir,
      stdout: values.json ? "null" : "inherit",
      stderr: "inherit",
    }).output();
    if (!status.success) {
      io.stderr(
        `deno compile failed (exit status ${status.code}); the entry is ${
          join(context.projectDir, command.at(-1)!)
        }. ` +
          `Offline, deno compile cannot download its runtime: set DENORT_BIN to a denort binary, or pass --dry-run ` +
          `and run the printed command where it can\n`,
      );
      return 1;
    }
    compiled = true;
  }
  if (values.json) {
    io.stdout(
      `${
        JSON.stringify({
          target: outcome.targetName,
          written: context.written,
          command,
          compiled,
          notes: context.notes,
        })
      }\n`,
    );
    return 0;
  }
  io.stdout(printBuild(outcome, compiled, relative(Deno.cwd(), context.projectDir) || "."));
  return 0;
}

function printBuild(outcome: BuildOutcome, compiled: boolean, projectPath: string): string {
  const { context, command, target, targetName } = outcome;
  const lines = [`Built ${targetName} for ${context.name}:`, ...context.written.map((path) => `  wrote ${path}`)];
  if (command && compiled) lines.push(`  compiled ${command[command.indexOf("--output") + 1]}`);
  for (const note of context.notes) lines.push(`note: ${note}`);
  lines.push("", "Next:");
  if (command && !compiled) lines.push(`  (cd ${shellQuote(projectPath)} && ${command.map(shellQuote).join(" ")})`);
  else if (target.cli) {
    lines.push(
      `  flue deploy --target ${targetName}   (runs ${target.cli.executables[0]} ${
        target.cli.args(context).join(" ")
      })`,
    );
  } else if (target.manual) lines.push(`  ${target.manual.replaceAll("<name>", context.name)}`);
  return `${lines.join("\n")}\n`;
}

/**
 * Finds an executable on `PATH`.
 *
 * @param names The names to look for, preferred first.
 * @returns The first one found, as a path, or `undefined`.
 */
export async function findOnPath(names: string[]): Promise<string | undefined> {
  const dirs = (Deno.env.get("PATH") ?? "").split(delimiter).filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      const path = resolve(dir, name);
      try {
        const info = await Deno.stat(path);
        if (info.isFile && (info.mode === null || (info.mode & 0o111) !== 0)) return path;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
