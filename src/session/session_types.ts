/**
 * The public shape of a session and of its calls' options and results.
 *
 * @module
 */

import type { FlueEvent } from "../events/event_types.ts";
import type { ChatModel, ThinkingLevel } from "../model/chat_model.ts";
import type { Usage } from "../model/message.ts";
import type { BudgetLimits } from "./operation_budget.ts";
import type { Sandbox, ShellResult } from "../sandbox/sandbox.ts";
import type { HistoryEntry } from "../store/store.ts";
import type { Schema } from "../output/schema.ts";
import type { FlueTool } from "../tools/tool.ts";
import type { CallHandle } from "./call_handle.ts";
import type { TaskOptions, TaskResponse, TaskResultResponse, TypedTaskOptions } from "./task_call.ts";

/**
 * Options of `agent.session(name, options)`. The budgets (`maxTurns`, `maxTokens`, `maxCostUsd`, `timeoutMs`,
 * `toolTimeoutMs`) apply to each operation of the session, over the agent's and under a call's; they are taken when the
 * session is first opened by this agent instance (`docs/budgets.md`).
 */
export interface SessionOptions extends BudgetLimits {
  /** The role every call of the session runs as, unless the call names another. */
  role?: string;
}

/**
 * Options of `session.prompt` and `session.stream`. The budgets (`maxTurns`, `maxTokens`, `maxCostUsd`, `timeoutMs`,
 * `toolTimeoutMs`) override the session's and the agent's for this call (`docs/budgets.md`).
 */
export interface PromptOptions extends BudgetLimits {
  /** The role this call runs as, instead of the session's; its model and reasoning effort apply unless set here. */
  role?: string;
  /** A different model for this call. */
  model?: string | ChatModel;
  /** Reasoning effort for this call. */
  thinkingLevel?: ThinkingLevel;
  /**
   * `false` makes this call's model requests non-streaming: each reply arrives whole, and its text comes as one
   * `text_delta`. When omitted, the provider's `stream` setting applies (streaming by default).
   */
  stream?: boolean;
  /** Extra tools for this call only. */
  tools?: FlueTool<unknown>[];
  /**
   * Which of the agent's file and shell tools this call offers, or `false` for none. It narrows the agent's own
   * selection (a name the agent or its policy left out stays out); other tools are unaffected.
   */
  builtinTools?: string[] | false;
  /** Names from the agent's `env` granted to the commands of this call. */
  secrets?: string[];
  /** Cancels the call, like `CallHandle.abort()`. */
  signal?: AbortSignal;
}

/** Options of a typed `session.prompt`: the zod schema the result must satisfy. */
export interface TypedPromptOptions<S extends Schema> extends PromptOptions {
  /** The result schema; `data` of the response is typed by it. */
  result: S;
  /** Re-prompts allowed after invalid output; the agent's `typedRetries` (default 3) when omitted. */
  typedRetries?: number;
}

/** What a prompt resolves to. */
export interface PromptResponse {
  /** The final assistant text. */
  text: string;
  /** Tokens summed over every model call of the operation. */
  usage: Usage;
  /** The model id the provider reported. */
  model: string;
  /** The operation's id, as in its events. */
  operationId: string;
}

/** What a typed prompt resolves to. */
export interface PromptResultResponse<T> extends PromptResponse {
  /** The validated result. */
  data: T;
  /** How many attempts it took (1 when the first reply was valid). */
  attempts: number;
}

/**
 * Options of `session.skill`. The skill's `allowed-tools`, when given, decide the tools the call sees, so there is no
 * per-call `tools` option.
 */
export interface SkillOptions extends Omit<PromptOptions, "tools"> {
  /** The skill's arguments, checked against its `input_schema` before any model call. */
  args?: Record<string, unknown>;
  /** Re-prompts allowed after invalid output; the agent's `typedRetries` (default 3) when omitted. */
  typedRetries?: number;
}

/** Options of a typed `session.skill`: a zod schema that the result must satisfy, used instead of `output_schema`. */
export interface TypedSkillOptions<S extends Schema> extends SkillOptions {
  /** The result schema; `data` of the response is typed by it. It wins over the skill's `output_schema`. */
  result: S;
}

/** What `session.skill` resolves to without a `result` schema. */
export interface SkillResponse extends PromptResponse {
  /** The data validated by the skill's `output_schema`, when it declares one. */
  data?: unknown;
  /** How many attempts it took, when the output was validated. */
  attempts?: number;
}

/** Options of `session.compact`. */
export interface CompactOptions {
  /** The model that writes the summary; the agent's by default. */
  model?: string | ChatModel;
  /** How many of the most recent messages to keep word for word; the agent's `compaction.keepRecent` by default. */
  keepRecent?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** What `session.compact` resolves to. */
export interface CompactResult {
  /** Whether anything was summarised. */
  compacted: boolean;
  /** Messages of the model's context before (the system prompt not counted). */
  messagesBefore: number;
  /** Messages of the model's context after, the summary included. */
  messagesAfter: number;
  /** Tokens of the summarising call. */
  usage: Usage;
  /** The operation's id, as in its events. */
  operationId: string;
}

/** Options of `session.shell`. */
export interface ShellOptions {
  /** Working directory inside the workspace. */
  cwd?: string;
  /** Extra environment values (not secrets: these may be logged). */
  env?: Record<string, string>;
  /** Names from the agent's `env` granted to this command. */
  secrets?: string[];
  /** Kills the command's whole tree after this long, keeping its output so far. */
  timeoutMs?: number;
  /** Cancels the command. */
  signal?: AbortSignal;
}

/** File operations on the session's sandbox, outside the conversation (nothing is added to the history). */
export type SessionFs = Pick<Sandbox, "readFile" | "writeFile" | "stat" | "readdir" | "exists" | "mkdir" | "remove">;

/** The events of one streamed operation, ending with its terminal event; also carries the result. */
export interface EventStream<T> extends AsyncIterable<FlueEvent> {
  /** The operation's result; rejects as the call would. */
  readonly result: Promise<T>;
  /** Cancels the operation. Leaving a `for await` loop early does the same. */
  abort(reason?: unknown): void;
}

/** A conversation with an agent: history, sandbox and one operation at a time. */
export interface Session {
  /** The session's name. */
  readonly name: string;
  /** The agent's name. */
  readonly agent: string;
  /** The agent instance id. */
  readonly instanceId: string;
  /** The role the session runs as, if any (`agent.session(name, { role })`). */
  readonly role?: string;
  /** The session's sandbox files. */
  readonly fs: SessionFs;
  /**
   * Sends a message and runs the model loop until it answers.
   *
   * @param text The message.
   * @param options Model, tools, secrets and limits for this call.
   * @returns A handle that resolves to the answer.
   */
  prompt(text: string, options?: PromptOptions): CallHandle<PromptResponse>;
  /**
   * Sends a message and returns data validated by a zod schema.
   *
   * @param text The message.
   * @param options The result schema, plus the options of an untyped prompt.
   * @returns A handle that resolves to the answer and its typed `data`.
   */
  prompt<S extends Schema>(
    text: string,
    options: TypedPromptOptions<S>,
  ): CallHandle<PromptResultResponse<S["_output"]>>;
  /**
   * Like `prompt`, but yields the operation's events as they happen.
   *
   * @param text The message.
   * @param options As for `prompt`.
   * @returns The events, ending with the terminal one, and the result.
   */
  stream(text: string, options?: PromptOptions): EventStream<PromptResponse>;
  /**
   * Runs a skill from `.agents/skills/`: its arguments are checked against its `input_schema` before any model call,
   * its instructions and arguments are sent as the message, its `allowed-tools` (when given) are the only tools the
   * call sees, and its `output_schema` is enforced like a typed prompt's schema.
   *
   * @param name The skill's name.
   * @param options The arguments, plus model, secrets and limits for this call.
   * @returns A handle that resolves to the answer, with `data` when the skill declares an `output_schema`.
   */
  skill(name: string, options?: SkillOptions): CallHandle<SkillResponse>;
  /**
   * Runs a skill and returns data validated by a zod schema, which is used instead of the skill's `output_schema`.
   *
   * @param name The skill's name.
   * @param options The arguments and the result schema, plus the options of an untyped skill call.
   * @returns A handle that resolves to the answer and its typed `data`.
   */
  skill<S extends Schema>(name: string, options: TypedSkillOptions<S>): CallHandle<PromptResultResponse<S["_output"]>>;
  /**
   * Runs a subagent: a child session with its own history, on this session's sandbox, with a subagent profile or a
   * role. Its events carry the task's id and reach this session's listeners; aborting this call aborts it.
   *
   * @param prompt The work to delegate.
   * @param options The subagent profile, role, working directory, plus the options of a prompt.
   * @returns A handle that resolves to the child's answer, the task's id and the child session's name.
   */
  task(prompt: string, options?: TaskOptions): CallHandle<TaskResponse>;
  /**
   * Runs a subagent and returns data validated by a zod schema.
   *
   * @param prompt The work to delegate.
   * @param options The result schema, plus the options of an untyped task.
   * @returns A handle that resolves to the child's answer and its typed `data`.
   */
  task<S extends Schema>(prompt: string, options: TypedTaskOptions<S>): CallHandle<TaskResultResponse<S["_output"]>>;
  /**
   * Runs a command in the sandbox under the policy.
   *
   * @param command The command line.
   * @param options Working directory, environment, granted secrets and timeout.
   * @returns A handle that resolves to the command's output and exit code.
   */
  shell(command: string, options?: ShellOptions): CallHandle<ShellResult>;
  /**
   * Cancels whatever the session is running or has queued.
   *
   * @param reason Why.
   * @returns Whether anything was cancelled.
   */
  abort(reason?: unknown): boolean;
  /**
   * Summarises the older part of the history now, whatever its size, keeping the most recent messages word for word.
   * Emits `compaction_start` (reason `manual`) and `compaction`; with nothing to summarise it does nothing.
   *
   * @param options The model that writes the summary, how many recent messages to keep, and a signal.
   * @returns A handle that resolves to what was done.
   */
  compact(options?: CompactOptions): CallHandle<CompactResult>;
  /**
   * The stored history: every entry, also those a compaction summarised (the model's context starts at the last
   * summary).
   *
   * @returns The entries in order.
   */
  history(): Promise<HistoryEntry[]>;
  /** Cancels what runs, then deletes the stored history. */
  delete(): Promise<void>;
  /**
   * For `await using`: cancels what the session runs or has queued (reason `"session disposed"`) and waits until it
   * has stopped. The stored history stays, and `agent.session(name)` resumes it.
   */
  [Symbol.asyncDispose](): Promise<void>;
}
