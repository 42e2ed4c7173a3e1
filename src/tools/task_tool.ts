/**
 * The `task` tool: lets the model delegate a piece of work to a subagent (a child session with its own history) and
 * read its answer.
 *
 * @module
 */

import { z } from "zod";
import type { FlueTool, ToolContext } from "./tool.ts";

/** What the model passes to the `task` tool. */
export interface TaskToolInput {
  /** The work to delegate, self-contained: the subagent does not see this conversation. */
  prompt: string;
  /** The subagent profile to run. */
  agent?: string;
  /** The role the subagent runs as. */
  role?: string;
}

/** A subagent profile or a role, as the model chooses among them. */
export interface TaskChoice {
  /** Its name. */
  name: string;
  /** What it is for. */
  description: string;
}

/** The options of {@linkcode createTaskTool}. */
export interface TaskToolOptions {
  /** The subagent profiles the model may choose. */
  subagents: readonly TaskChoice[];
  /** The roles the model may choose. */
  roles: readonly TaskChoice[];
  /**
   * Runs the task.
   *
   * @param input The model's arguments.
   * @param context The tool call's signal and id.
   * @returns The subagent's answer.
   */
  run(input: TaskToolInput, context: ToolContext): Promise<string>;
}

interface TaskToolSpec {
  description: string;
  input: z.ZodType<TaskToolInput>;
}

// One spec per set of choices: its JSON Schema is then computed once, although a tool object is made per operation.
const specs = new Map<string, TaskToolSpec>();
const MAX_CACHED_SPECS = 64;

/**
 * Builds the `task` tool. The subagent and role choices are listed in its description and limited by its schema.
 *
 * @example A tool that delegates to a reviewer
 * ```ts
 * import { createTaskTool } from "./task_tool.ts";
 * import assert from "node:assert/strict";
 *
 * const tool = createTaskTool({
 *   subagents: [{ name: "reviewer", description: "Reviews code" }],
 *   roles: [],
 *   run: (input) => Promise.resolve(`reviewed: ${input.prompt}`),
 * });
 * assert.equal(tool.name, "task");
 * assert.ok(tool.description.includes("reviewer: Reviews code"));
 * ```
 *
 * @param options The choices and how to run a task.
 * @returns The tool.
 */
export function createTaskTool(options: TaskToolOptions): FlueTool<TaskToolInput> {
  const spec = taskToolSpec(options.subagents, options.roles);
  return {
    name: "task",
    description: spec.description,
    input: spec.input,
    run: (input, context) => options.run(input, context),
  };
}

function taskToolSpec(subagents: readonly TaskChoice[], roles: readonly TaskChoice[]): TaskToolSpec {
  const key = JSON.stringify([subagents, roles]);
  let spec = specs.get(key);
  if (!spec) {
    if (specs.size >= MAX_CACHED_SPECS) specs.clear();
    spec = buildSpec(subagents, roles);
    specs.set(key, spec);
  }
  return spec;
}

function buildSpec(subagents: readonly TaskChoice[], roles: readonly TaskChoice[]): TaskToolSpec {
  const lines = [
    "Delegate a self-contained piece of work to a subagent: a separate session with its own history that works in " +
    "the same workspace and returns its final answer. It does not see this conversation, so put everything it needs " +
    "in the prompt.",
  ];
  if (subagents.length) lines.push(`Subagents (agent):\n${list(subagents)}`);
  if (roles.length) lines.push(`Roles (role):\n${list(roles)}`);
  const shape: Record<string, z.ZodType> = {
    prompt: z.string().trim().min(1).describe("The work to do, with all the context the subagent needs"),
  };
  if (subagents.length) {
    shape.agent = enumOf(subagents).optional().describe("The subagent to run; this agent's own settings if omitted");
  }
  if (roles.length) shape.role = enumOf(roles).optional().describe("The role the subagent runs as");
  return { description: lines.join("\n\n"), input: z.strictObject(shape) as unknown as z.ZodType<TaskToolInput> };
}

function enumOf(choices: readonly TaskChoice[]): z.ZodEnum {
  return z.enum(choices.map((choice) => choice.name) as [string, ...string[]]);
}

function list(choices: readonly TaskChoice[]): string {
  return choices.map((choice) => `- ${choice.name}: ${choice.description.replace(/\s+/g, " ").trim()}`).join("\n");
}
