/**
 * Subagent tasks: a child session with its own history, run inside the calling operation on the caller's sandbox,
 * with a subagent profile or a role, and bounded in depth by `maxTaskDepth`.
 *
 * @module
 */

import { posix } from "node:path";
import { newId } from "../_id.ts";
import type { EventError, FlueEvent } from "../events/event_types.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { WORKSPACE_ALIAS } from "../sandbox/workspace_paths.ts";
import type { Schema } from "../output/schema.ts";
import type { CallHandle } from "./call_handle.ts";
import type { SessionRuntime } from "./flue_session.ts";
import type { OperationScope } from "./operation_queue.ts";
import type { PromptOptions, PromptResponse, PromptResultResponse, TypedPromptOptions } from "./session_types.ts";
import { findSubagent, type SubagentProfile, validateSubagents } from "./subagent_profile.ts";
import { requireRole } from "./call_settings.ts";
import { normalizeTaskCwd, WorkingDirectorySandbox } from "./_working_directory.ts";

/** How deep tasks may nest unless `maxTaskDepth` says otherwise. */
export const DEFAULT_MAX_TASK_DEPTH = 4;

/** Options of `session.task`. */
export interface TaskOptions extends Omit<PromptOptions, "role"> {
  /** The subagent profile to run, from the `subagents` agent option; the calling session's own settings otherwise. */
  agent?: string;
  /** The role the child session runs as; the profile's role, else none. */
  role?: string;
  /**
   * The child's working directory, relative to the workspace: its file tools resolve paths against it and may not
   * leave it, and its commands start in it. The workspace root when omitted.
   */
  cwd?: string;
}

/** Options of a typed `session.task`: the zod schema the child's result must satisfy. */
export interface TypedTaskOptions<S extends Schema> extends TaskOptions {
  /** The result schema; `data` of the response is typed by it. */
  result: S;
  /** Re-prompts allowed after invalid output; the agent's `typedRetries` (default 3) when omitted. */
  typedRetries?: number;
}

/** What the task adds to a prompt's response. */
export interface TaskInfo {
  /** The task's id, as in `task_start`, `task_end` and the `taskId` of the child's events. */
  taskId: string;
  /** The child session's name, under which its history is stored. */
  session: string;
}

/** What `session.task` resolves to. `operationId` is the calling operation's. */
export interface TaskResponse extends PromptResponse, TaskInfo {}

/** What a typed `session.task` resolves to. */
export interface TaskResultResponse<T> extends PromptResultResponse<T>, TaskInfo {}

/** A session's place in the task tree, and what its tasks may use. */
export interface TaskRuntime {
  /** The agent's subagent profiles. */
  subagents: Readonly<Record<string, SubagentProfile>>;
  /** How deep tasks may nest. */
  maxTaskDepth: number;
  /** 0 for a session opened with `agent.session`; a task's session is one deeper than its caller. */
  depth: number;
  /** The task this session runs, for a task's session. */
  taskId?: string;
  /** Whether the caller's tools (its profile's `tools`) include `task`. */
  allowsTaskTool: boolean;
  /** The instructions a task's session runs with instead of the agent's (from its profile or its caller's). */
  instructions?: string;
  /** A task's working directory relative to the workspace, from its own `cwd` and its callers'. */
  cwd?: string;
  /** The agent's system prompt builder, which a task's session wraps. */
  baseSystemPrompt?: SessionRuntime["systemPrompt"];
}

/** What a task needs from the session that starts it. */
export interface TaskParent {
  /** The calling session's runtime. */
  runtime: SessionRuntime;
  /** The calling session's sandbox, shared with the child. */
  sandbox: Sandbox;
  /** The calling session's name. */
  session: string;
  /**
   * Opens the child session and starts its prompt.
   *
   * @param name The child session's name.
   * @param runtime The child's runtime.
   * @param sandbox The child's sandbox view.
   * @param role The child session's role.
   * @param text The task's prompt.
   * @param options The prompt's options.
   * @param listener Receives each of the child's events.
   * @returns The child's call.
   */
  startChild(
    name: string,
    runtime: SessionRuntime,
    sandbox: Sandbox,
    role: string | undefined,
    text: string,
    options: PromptOptions | TypedPromptOptions<Schema>,
    listener: (event: FlueEvent) => void,
  ): CallHandle<PromptResponse | PromptResultResponse<unknown>>;
}

/**
 * Whether a session's model gets the `task` tool: when the agent declares subagents or roles to delegate to, tasks
 * may nest at all, and the session's own profile allows it. At the depth limit the tool stays offered, and calling it
 * fails with an error naming `maxTaskDepth`, so the model learns why it must do the work itself.
 *
 * @param runtime The session's runtime.
 * @returns Whether to offer the tool.
 */
export function offersTaskTool(runtime: SessionRuntime): boolean {
  const tasks = runtime.tasks;
  if (!tasks || !tasks.allowsTaskTool || tasks.maxTaskDepth < 1) return false;
  return Object.keys(tasks.subagents).length > 0 || (runtime.roles?.size ?? 0) > 0;
}

/**
 * Runs one task inside the calling operation: emits `task_start`, runs the child's prompt (aborted with the caller),
 * passes the child's events to the caller's listeners, and emits `task_end`.
 *
 * @param parent The calling session.
 * @param scope The calling operation.
 * @param prompt The task's prompt.
 * @param options The profile, role, working directory, result schema and prompt options.
 * @returns The child's response, with the task's id and the child session's name.
 * @throws {RangeError} When the task would nest deeper than `maxTaskDepth`.
 * @throws {TypeError} When the prompt is empty or the profile or role is unknown.
 */
export async function runTask(
  parent: TaskParent,
  scope: OperationScope,
  prompt: string,
  options: TaskOptions | TypedTaskOptions<Schema>,
): Promise<TaskResponse | TaskResultResponse<unknown>> {
  const runtime = parent.runtime;
  const tasks = runtime.tasks ??
    { subagents: {}, maxTaskDepth: DEFAULT_MAX_TASK_DEPTH, depth: 0, allowsTaskTool: true };
  if (typeof prompt !== "string" || prompt.trim() === "") {
    throw new TypeError("The task prompt is empty: pass the work to delegate");
  }
  const depth = tasks.depth + 1;
  if (depth > tasks.maxTaskDepth) {
    throw new RangeError(
      `Task depth limit reached: this task would run at depth ${depth}, over "maxTaskDepth" (${tasks.maxTaskDepth}); ` +
        `do the work in this session, or raise "maxTaskDepth" in the agent's options`,
    );
  }
  const profile = options.agent === undefined ? undefined : findSubagent(tasks.subagents, options.agent);
  const role = options.role ?? profile?.role;
  if (role !== undefined) requireRole(runtime.roles, role);
  const cwd = options.cwd === undefined ? undefined : normalizeTaskCwd(options.cwd);

  const taskId = newId("task");
  // The task id is unique across processes, so the child's key never meets another session's.
  const childSession = `${parent.session}/tasks/${taskId}`;
  const started = performance.now();
  const parentTaskId = tasks.taskId;
  scope.emit({ type: "task_start", taskId, prompt, role, subagent: options.agent, depth, childSession, parentTaskId });
  try {
    const sandbox = cwd === undefined || cwd === "." ? parent.sandbox : await workingDirectory(parent.sandbox, cwd);
    const child = childRuntime(runtime, tasks, profile, { taskId, depth, cwd });
    const { agent: _agent, role: _role, cwd: _cwd, ...promptOptions } = options;
    const response = await parent.startChild(childSession, child, sandbox, role, prompt, {
      ...promptOptions,
      maxTurns: options.maxTurns ?? profile?.maxTurns,
      // The caller's signal: aborting the calling operation aborts the child.
      signal: scope.signal,
    }, (event) => scope.forward(event));
    const result = "data" in response ? response.data : response.text;
    scope.emit({
      type: "task_end",
      taskId,
      isError: false,
      result,
      durationMs: performance.now() - started,
      parentTaskId,
    });
    return { ...response, operationId: scope.operationId, taskId, session: childSession };
  } catch (error) {
    scope.emit({
      type: "task_end",
      taskId,
      isError: true,
      error: toEventError(error),
      durationMs: performance.now() - started,
      parentTaskId,
    });
    throw error;
  }
}

function childRuntime(
  runtime: SessionRuntime,
  tasks: TaskRuntime,
  profile: SubagentProfile | undefined,
  task: { taskId: string; depth: number; cwd?: string },
): SessionRuntime {
  const allowed = profile?.tools ? new Set(profile.tools) : undefined;
  // The agent's own prompt builder, never a task's wrapper, so a nested task's note on its directory is not doubled.
  const basePrompt = tasks.baseSystemPrompt ?? runtime.systemPrompt;
  const instructions = profile?.instructions ?? tasks.instructions;
  const cwd = task.cwd === undefined ? tasks.cwd : posix.join(tasks.cwd ?? ".", task.cwd);
  const cwdNote = cwd && cwd !== "."
    ? `## Task working directory\n\nThis task works in ${WORKSPACE_ALIAS}/${cwd}: file paths are relative to it and ` +
      `may not leave it, and commands start in it.`
    : undefined;
  const parentTools = runtime.tools;
  return {
    ...runtime,
    model: profile?.model === undefined ? runtime.model : runtime.resolveModel(profile.model),
    thinkingLevel: profile?.thinkingLevel ?? runtime.thinkingLevel,
    systemPrompt: async (role, override) => {
      const prompt = await basePrompt(role, override ?? instructions);
      return cwdNote ? `${prompt}\n\n${cwdNote}` : prompt;
    },
    tools: allowed ? (view) => parentTools(view).filter((tool) => allowed.has(tool.name)) : parentTools,
    tasks: {
      ...tasks,
      depth: task.depth,
      taskId: task.taskId,
      allowsTaskTool: tasks.allowsTaskTool && (!allowed || allowed.has("task")),
      instructions,
      cwd,
      baseSystemPrompt: basePrompt,
    },
  };
}

async function workingDirectory(sandbox: Sandbox, cwd: string): Promise<Sandbox> {
  const stat = await sandbox.stat(cwd).catch(() => undefined);
  if (!stat?.isDirectory) {
    throw new TypeError(`Task cwd "${cwd}" is not a directory in the workspace: create it first or pass another`);
  }
  return new WorkingDirectorySandbox(sandbox, cwd);
}

function toEventError(error: unknown): EventError {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: "Error", message: String(error) };
}

/**
 * The task settings of a session opened with `agent.session`: checks the subagent profiles against the agent's tools
 * and roles.
 *
 * @param options The agent's profiles and depth limit, its roles, and every tool name it could offer.
 * @returns The settings.
 * @throws {TypeError} When a profile is invalid or names an unknown tool or role.
 */
export function rootTaskRuntime(options: {
  subagents?: Readonly<Record<string, SubagentProfile>>;
  maxTaskDepth?: number;
  roles?: { names: string[] };
  toolNames: readonly string[];
}): TaskRuntime {
  validateSubagents(options.subagents, options.toolNames);
  const subagents = Object.freeze({ ...options.subagents });
  for (const [name, profile] of Object.entries(subagents)) {
    if (profile.role !== undefined && !options.roles?.names.includes(profile.role)) {
      const known = options.roles?.names ?? [];
      throw new TypeError(
        `Invalid subagent ${JSON.stringify(name)}: field "role" names the unknown role ${
          JSON.stringify(profile.role)
        }; ${known.length ? `known roles are ${known.join(", ")}` : "the agent has no roles"}`,
      );
    }
  }
  return { subagents, maxTaskDepth: options.maxTaskDepth ?? DEFAULT_MAX_TASK_DEPTH, depth: 0, allowsTaskTool: true };
}
