/**
 * `defineCommand`: reusable, structured commands offered to the model as tools. A command is either an argv template
 * run in the sandbox, where each argument becomes exactly one literal argv element, or a function.
 *
 * @module
 */

import { z } from "zod";
import type { Schema } from "../output/schema.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { defineTool, type FlueTool, type ToolContext } from "./tool.ts";
import { assertCustomToolName } from "./sandbox_tools.ts";
import { formatShellResult, runToolCommand } from "./builtin/bash_tool.ts";
import { DEFAULT_MAX_OUTPUT_BYTES } from "./builtin/_truncate.ts";

/** What a function command's `run` receives besides its arguments. */
export interface CommandContext extends ToolContext {
  /** The sandbox of the agent that called it. */
  sandbox: Sandbox;
}

/**
 * An argv template: the program, then elements in which `{name}` stands for the argument `name`. An element that is
 * only a placeholder is left out when its (optional) argument is missing.
 */
export type ArgvTemplate = readonly string[];

/** The options of {@linkcode defineCommand}. */
export interface CommandDefinition<Args> {
  /** The tool name the model calls it by: a letter, then letters, digits, `_` or `-`, at most 64, not a built-in. */
  name: string;
  /** What it does, for the model. */
  description: string;
  /** The zod schema of its arguments. */
  args: Schema<Args>;
  /** The argv to run in the sandbox: a template, or a function from the arguments. Give this or `run`. */
  argv?: ArgvTemplate | ((args: Args) => readonly string[]);
  /** Runs the command in process. Give this or `argv`. */
  run?: (args: Args, context: CommandContext) => unknown | Promise<unknown>;
  /** Kills an argv command after this long. Default 120,000 ms. */
  timeoutMs?: number;
  /** Bytes kept of an argv command's stdout and of its stderr. Default 50,000. */
  maxOutputBytes?: number;
}

/** A command made by {@linkcode defineCommand}; {@linkcode commandToTool} offers it to the model. */
export interface FlueCommand<Args = unknown> {
  /** The tool name. */
  readonly name: string;
  /** What it does, for the model. */
  readonly description: string;
  /** The zod schema of its arguments. */
  readonly args: Schema<Args>;
  /** The argv template or function, for sandbox commands. */
  readonly argv?: ArgvTemplate | ((args: Args) => readonly string[]);
  /** The function, for in-process commands. */
  readonly run?: (args: Args, context: CommandContext) => unknown | Promise<unknown>;
  /** The timeout of sandbox commands, in milliseconds. */
  readonly timeoutMs: number;
  /** The output cap of sandbox commands, in bytes. */
  readonly maxOutputBytes: number;
}

const COMMAND_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE_PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/**
 * Defines a structured command. With `argv`, the model's arguments are validated by `args`, put into the template (or
 * passed to the function), and each resulting element is quoted so the sandbox runs exactly that argv: an argument
 * such as `"; rm -rf /"` stays one literal argument. A template argument standing alone may not start with `-`
 * unless a literal `--` comes before it, so the model cannot smuggle in options. The command still runs under the
 * sandbox policy: its program must be in `allowedCommands`.
 *
 * @example A git log command
 * ```ts
 * import { defineCommand } from "./define_command.ts";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const log = defineCommand({
 *   name: "git_log",
 *   description: "Recent commits touching a path",
 *   args: z.object({ count: z.number().int().min(1).max(50), path: z.string() }),
 *   argv: ["git", "log", "--oneline", "-n", "{count}", "--", "{path}"],
 * });
 * assert.equal(log.name, "git_log");
 * ```
 *
 * @param definition Name, description, argument schema, and `argv` or `run`.
 * @returns The command.
 * @throws {TypeError} When the name is invalid or reserved, or the definition is incomplete or inconsistent.
 */
export function defineCommand<Args>(definition: CommandDefinition<Args>): FlueCommand<Args> {
  const { name, description, args, argv, run } = definition;
  if (typeof name !== "string" || !COMMAND_NAME.test(name)) {
    throw new TypeError(`Invalid command name "${name}": use a letter, then letters, digits, "_" or "-" (at most 64)`);
  }
  assertCustomToolName(name);
  if (typeof description !== "string" || description.trim() === "") {
    throw new TypeError(`Command "${name}" needs a description for the model`);
  }
  if (!(args instanceof z.ZodType)) throw new TypeError(`Command "${name}" needs a zod schema as args`);
  if ((argv === undefined) === (run === undefined)) {
    throw new TypeError(`Command "${name}" needs exactly one of argv (run in the sandbox) or run (a function)`);
  }
  if (run !== undefined && typeof run !== "function") throw new TypeError(`Command "${name}": run must be a function`);
  if (argv !== undefined && typeof argv !== "function") checkTemplate(name, argv, args);
  return Object.freeze({
    name,
    description,
    args,
    argv: Array.isArray(argv) ? Object.freeze([...argv]) : argv,
    run,
    timeoutMs: positive(definition.timeoutMs, 120_000, name, "timeoutMs"),
    maxOutputBytes: positive(definition.maxOutputBytes, DEFAULT_MAX_OUTPUT_BYTES, name, "maxOutputBytes"),
  });
}

/**
 * Offers a command to the model as a tool working on `sandbox`. An argv command runs through `sandbox.exec`, so the
 * policy applies; its result reads like the `bash` tool's. A function command gets the sandbox in its context.
 *
 * @example Offering a command over a sandbox
 * ```ts
 * import { commandToTool, defineCommand } from "./define_command.ts";
 * import { createMemorySandbox } from "../sandbox/memory_sandbox.ts";
 * import { DENY_ALL_POLICY } from "../sandbox/sandbox.ts";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const sandbox = await createMemorySandbox({
 *   projectDir: "/p", stateDir: "/p/.flue", agent: "a", instanceId: "1", session: "s", policy: DENY_ALL_POLICY,
 * });
 * const count = defineCommand({
 *   name: "count_files",
 *   description: "How many entries a directory holds",
 *   args: z.object({ path: z.string() }),
 *   run: async ({ path }, { sandbox }) => (await sandbox.readdir(path)).length,
 * });
 * const tool = commandToTool(count, sandbox);
 * const context = { signal: new AbortController().signal, toolCallId: "1", emit: () => {} };
 * assert.equal(await tool.run({ path: "." }, context), 0);
 * ```
 *
 * @param command The command.
 * @param sandbox The sandbox it works on.
 * @returns The tool.
 */
export function commandToTool<Args>(command: FlueCommand<Args>, sandbox: Sandbox): FlueTool<Args> {
  return defineTool({
    name: command.name,
    description: command.description,
    input: command.args,
    run: async (args, context) => {
      if (command.run) return await command.run(args, { ...context, sandbox });
      const argv = typeof command.argv === "function" ? checkArgv(command.name, command.argv(args)) : fillTemplate(
        command.name,
        command.argv!,
        args,
      );
      const timeoutMs = Math.min(command.timeoutMs, context.timeoutMs ?? Infinity);
      const limits = { timeoutMs, maxOutputBytes: command.maxOutputBytes };
      return formatShellResult(await runToolCommand(sandbox, quoteArgv(argv), context, limits), timeoutMs);
    },
  });
}

/**
 * Quotes an argv for a sandbox's `exec`: every element single-quoted, so the shell tokenizer reads exactly these
 * elements and no element is ever syntax.
 *
 * @example Quoting an injection attempt
 * ```ts
 * import { quoteArgv } from "./define_command.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(quoteArgv(["echo", "it's; rm -rf /"]), `'echo' 'it'\\''s; rm -rf /'`);
 * ```
 *
 * @param argv The program and its arguments.
 * @returns One command line.
 */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map((element) => `'${element.replaceAll("'", `'\\''`)}'`).join(" ");
}

function checkTemplate<Args>(name: string, template: ArgvTemplate, args: Schema<Args>): void {
  if (!Array.isArray(template) || template.length === 0 || !template.every((part) => typeof part === "string")) {
    throw new TypeError(`Command "${name}": argv must be a non-empty array of strings, or a function`);
  }
  if (template[0].includes("{") || template[0] === "") {
    throw new TypeError(`Command "${name}": the program "${template[0]}" must be a fixed name, not a placeholder`);
  }
  const known = args instanceof z.ZodObject ? new Set(Object.keys(args.shape)) : undefined;
  for (const part of template) {
    for (const [, key] of part.matchAll(PLACEHOLDER)) {
      if (known && !known.has(key)) {
        throw new TypeError(
          `Command "${name}": placeholder "{${key}}" names no argument; the arguments are ${
            [...known].map((item) => `"${item}"`).join(", ") || "none"
          }`,
        );
      }
    }
  }
}

function fillTemplate(name: string, template: ArgvTemplate, args: unknown): string[] {
  const values = (args ?? {}) as Record<string, unknown>;
  const argv: string[] = [];
  let optionsEnded = false;
  for (const part of template) {
    const whole = WHOLE_PLACEHOLDER.exec(part);
    if (whole) {
      const value = values[whole[1]];
      if (value === undefined) continue;
      const text = argumentText(name, whole[1], value);
      if (text.startsWith("-") && !optionsEnded) {
        throw new TypeError(
          `Argument "${whole[1]}" of "${name}" may not start with "-", since the program would read it as an option`,
        );
      }
      argv.push(text);
      continue;
    }
    if (part === "--") optionsEnded = true;
    argv.push(part.replace(PLACEHOLDER, (_match, key: string) => {
      if (values[key] === undefined) throw new TypeError(`Command "${name}" needs the argument "${key}"`);
      return argumentText(name, key, values[key]);
    }));
  }
  return checkArgv(name, argv);
}

function argumentText(name: string, key: string, value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  throw new TypeError(
    `Argument "${key}" of "${name}" is ${
      Array.isArray(value) ? "an array" : typeof value
    }: a template takes strings, ` +
      "numbers and booleans; use a function as argv for anything else",
  );
}

function checkArgv(name: string, argv: readonly string[]): string[] {
  if (!Array.isArray(argv) || argv.length === 0 || typeof argv[0] !== "string" || argv[0] === "") {
    throw new TypeError(`Command "${name}": argv must start with a program name`);
  }
  for (const element of argv) {
    if (typeof element !== "string") throw new TypeError(`Command "${name}": every argv element must be a string`);
    if (element.includes("\0")) throw new TypeError(`Command "${name}": an argv element contains a NUL byte`);
  }
  return [...argv];
}

function positive(value: number | undefined, fallback: number, name: string, option: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`Command "${name}": ${option} must be a positive whole number, got ${JSON.stringify(value)}`);
  }
  return value;
}
