/**
 * The public shape of a session and of its calls' options and results.
 *
 * @module
 */

import type { FlueEvent } from "../events/event_types.ts";
import type { ChatModel, ThinkingLevel } from "../model/chat_model.ts";
import type { Usage } from "../model/message.ts";
import type { Sandbox, ShellResult } from "../sandbox/sandbox.ts";
import type { HistoryEntry } from "../store/store.ts";
import type { Schema } from "../output/schema.ts";
import type { FlueTool } from "../tools/tool.ts";
import type { CallHandle } from "./call_handle.ts";

/** Options of `session.prompt` and `session.stream`. */
export interface PromptOptions {
  /** A different model for this call. */
  model?: string | ChatModel;
  /** Reasoning effort for this call. */
  thinkingLevel?: ThinkingLevel;
  /** The most model calls this operation may make; the agent's `maxTurns` by default. */
  maxTurns?: number;
  /** Extra tools for this call only. */
  tools?: FlueTool<unknown>[];
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
   * The stored history.
   *
   * @returns The entries in order.
   */
  history(): Promise<HistoryEntry[]>;
  /** Cancels what runs, then deletes the stored history. */
  delete(): Promise<void>;
}
