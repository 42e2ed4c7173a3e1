/**
 * The session implementation: one operation at a time, history appended after every turn, events correlated and
 * redacted, typed results validated with bounded re-prompts, and cancellation that reaches the model request, tools
 * and subprocesses.
 *
 * @module
 */

import type { z } from "zod";
import type { Schema } from "../output/schema.ts";
import { AbortError, abortErrorFrom } from "../errors.ts";
import type { EventBus } from "../events/event_bus.ts";
import type { FlueEvent } from "../events/event_types.ts";
import type { Harness } from "../harness/harness.ts";
import type { ChatModel, ThinkingLevel } from "../model/chat_model.ts";
import { addUsage, emptyUsage, type Message } from "../model/message.ts";
import { toJsonSchema } from "../output/json_schema.ts";
import { resultInstructions } from "../output/result_instructions.ts";
import { runTypedCall } from "../output/typed_call.ts";
import type { ShellResult } from "../sandbox/sandbox.ts";
import type { Redactor } from "../telemetry/redactor.ts";
import type { EntrySource, HistoryEntry, SessionKey, Store } from "../store/store.ts";
import type { FlueTool } from "../tools/tool.ts";
import type { CallHandle } from "./call_handle.ts";
import { OperationQueue, type OperationScope } from "./operation_queue.ts";
import { sessionLane } from "./session_lane.ts";
import { createEventStream } from "./event_stream.ts";
import { type SessionSandbox, withGrantedEnv } from "./session_sandbox.ts";
import type {
  EventStream,
  PromptOptions,
  PromptResponse,
  PromptResultResponse,
  Session,
  SessionFs,
  ShellOptions,
  TypedPromptOptions,
} from "./session_types.ts";

/** What a session needs from its agent. */
export interface SessionRuntime {
  /** The agent's name. */
  agent: string;
  /** The agent instance id. */
  instanceId: string;
  /** The workflow run, when the agent belongs to one. */
  runId?: string;
  /** Where history is kept. */
  store: Store;
  /** Where events go. */
  bus: EventBus;
  /** Removes secret values. */
  redactor: Redactor;
  /** The model loop. */
  harness: Harness;
  /** The agent's model. */
  model: ChatModel;
  /** Resolves a per-call model override. */
  resolveModel(spec: string | ChatModel): ChatModel;
  /** Builds the system prompt; called before each operation so AGENTS.md edits apply. */
  systemPrompt(): Promise<string>;
  /** Builds the tools of one operation from the sandbox view it may use. */
  tools(sandbox: SessionSandbox | ReturnType<typeof withGrantedEnv>): FlueTool<unknown>[];
  /** Secret values by name, granted per call. */
  env: Readonly<Record<string, string>>;
  /** Default turn limit. */
  maxTurns: number;
  /** Default re-prompts for typed results. */
  typedRetries: number;
  /** Default reasoning effort. */
  thinkingLevel?: ThinkingLevel;
}

type OperationListener = (event: FlueEvent) => void;

/** A session of an agent instance. Use `agent.session(name)` to get one. */
export class FlueSession implements Session {
  /** The session's name. */
  readonly name: string;
  readonly #runtime: SessionRuntime;
  readonly #sandbox: SessionSandbox;
  readonly #key: SessionKey;
  readonly #messages: Message[];
  readonly #queue: OperationQueue;
  #lastSeq: number;
  readonly #redactingTools = new WeakMap<FlueTool<unknown>, FlueTool<unknown>>();

  /**
   * @param name The session name.
   * @param runtime What the session needs from its agent.
   * @param sandbox The session's sandbox.
   * @param history The stored history to resume from.
   */
  constructor(name: string, runtime: SessionRuntime, sandbox: SessionSandbox, history: readonly HistoryEntry[]) {
    this.name = name;
    this.#runtime = runtime;
    this.#sandbox = sandbox;
    this.#key = { agent: runtime.agent, instanceId: runtime.instanceId, session: name };
    this.#messages = history.map((entry) => entry.message);
    this.#lastSeq = history.at(-1)?.seq ?? -1;
    const context = { runId: runtime.runId, agent: runtime.agent, instanceId: runtime.instanceId, session: name };
    this.#queue = new OperationQueue({
      emit: (payload, operationId) =>
        runtime.bus.emit(runtime.redactor.redact(payload), {
          ...context,
          operationId,
          turnId: "turnId" in payload ? payload.turnId : undefined,
        }),
      sanitize: (error) => runtime.redactor.redact(error),
    }, sessionLane(runtime.store, this.#key));
  }

  /** The agent's name. */
  get agent(): string {
    return this.#runtime.agent;
  }

  /** The agent instance id. */
  get instanceId(): string {
    return this.#runtime.instanceId;
  }

  /** The session's sandbox files (nothing is added to the history). */
  get fs(): SessionFs {
    return this.#sandbox;
  }

  /** Sends a message and runs the model loop until it answers. */
  prompt(text: string, options?: PromptOptions): CallHandle<PromptResponse>;
  /** Sends a message and returns data validated by a zod schema. */
  prompt<S extends Schema>(
    text: string,
    options: TypedPromptOptions<S>,
  ): CallHandle<PromptResultResponse<S["_output"]>>;
  prompt<S extends Schema>(
    text: string,
    options: PromptOptions | TypedPromptOptions<S> = {},
  ): CallHandle<PromptResponse | PromptResultResponse<S["_output"]>> {
    return this.#startPrompt(text, options);
  }

  /** Like `prompt`, but yields the operation's events as they happen. */
  stream(text: string, options: PromptOptions = {}): EventStream<PromptResponse> {
    return createEventStream((listener) => this.#startPrompt(text, options, listener));
  }

  /** Runs a command in the sandbox under the policy. */
  shell(command: string, options: ShellOptions = {}): CallHandle<ShellResult> {
    return this.#queue.run("shell", options.signal, undefined, async (scope) => {
      if (typeof command !== "string" || command.trim() === "") {
        throw new TypeError("The command is empty: pass the command line to run");
      }
      const env = { ...options.env, ...this.#grantedSecrets(options.secrets) };
      const started = performance.now();
      scope.emit({ type: "command_start", command });
      let result: ShellResult;
      try {
        result = await this.#sandbox.exec(command, {
          cwd: options.cwd,
          env,
          timeoutMs: options.timeoutMs,
          signal: scope.signal,
        });
      } catch (error) {
        // A refused or failed command still closes its command_start, as the bash tool does.
        scope.emit({ type: "command_end", command, exitCode: -1, durationMs: performance.now() - started });
        throw error;
      }
      scope.emit({
        type: "command_end",
        command,
        exitCode: result.exitCode,
        durationMs: performance.now() - started,
      });
      if (result.aborted) {
        const cancelled = abortErrorFrom(scope.signal);
        throw new AbortError(cancelled.message, { reason: cancelled.reason, cause: cancelled.cause, partial: result });
      }
      return { value: result, result: { exitCode: result.exitCode } };
    });
  }

  /** Cancels whatever the session is running or has queued. */
  abort(reason?: unknown): boolean {
    return this.#queue.abortAll(reason);
  }

  /** The stored history. */
  history(): Promise<HistoryEntry[]> {
    return this.#runtime.store.load(this.#key);
  }

  /** Cancels what runs, then deletes the stored history. */
  async delete(): Promise<void> {
    this.abort("session deleted");
    await this.#queue.drained();
    await this.#runtime.store.deleteSession(this.#key);
    this.#messages.length = 0;
    this.#lastSeq = -1;
  }

  #startPrompt<S extends Schema>(
    text: string,
    options: PromptOptions | TypedPromptOptions<S>,
    listener?: OperationListener,
  ): CallHandle<PromptResponse | PromptResultResponse<S["_output"]>> {
    return this.#queue.run("prompt", options.signal, listener, async (scope) => {
      if (typeof text !== "string" || text.trim() === "") {
        throw new TypeError("The prompt is empty: pass the message to send");
      }
      await this.#catchUp();
      const response = "result" in options && options.result
        ? await this.#typedPrompt(text, options as TypedPromptOptions<S>, scope)
        : await this.#plainPrompt(text, options, scope);
      return { value: response, result: response.text, usage: response.usage };
    });
  }

  async #plainPrompt(text: string, options: PromptOptions, scope: OperationScope): Promise<PromptResponse> {
    const run = await this.#runHarness(scope, options, [{
      message: { role: "user", content: text },
      source: "prompt",
    }]);
    return { text: run.text, usage: run.usage, model: run.model, operationId: scope.operationId };
  }

  async #typedPrompt<S extends Schema>(
    text: string,
    options: TypedPromptOptions<S>,
    scope: OperationScope,
  ): Promise<PromptResultResponse<S["_output"]>> {
    const model = options.model ? this.#runtime.resolveModel(options.model) : this.#runtime.model;
    const zodSchema = options.result as unknown as z.ZodType;
    const jsonSchema = toJsonSchema(zodSchema);
    const isNative = model.supportsStructuredOutput;
    const usage = emptyUsage();
    let modelId = model.id;
    const typed = await runTypedCall({
      schema: zodSchema,
      typedRetries: options.typedRetries ?? this.#runtime.typedRetries,
      structuredOutput: isNative,
      attempt: async (feedback) => {
        const content = feedback ?? (isNative ? text : `${text}\n\n${resultInstructions(jsonSchema)}`);
        const source: EntrySource = feedback ? "retry" : "prompt";
        const run = await this.#runHarness(
          scope,
          { ...options, model },
          [{ message: { role: "user", content }, source }],
          isNative ? { name: "result", schema: jsonSchema } : undefined,
        );
        addUsage(usage, run.usage);
        modelId = run.model;
        return run.text;
      },
    });
    return {
      data: typed.data as S["_output"],
      text: typed.text,
      attempts: typed.attempts,
      usage,
      model: modelId,
      operationId: scope.operationId,
    };
  }

  async #runHarness(
    scope: OperationScope,
    options: PromptOptions,
    input: { message: Message; source: EntrySource }[],
    responseFormat?: { name: string; schema: Record<string, unknown> },
  ): Promise<{ text: string; usage: ReturnType<typeof emptyUsage>; model: string }> {
    const runtime = this.#runtime;
    const model = options.model ? runtime.resolveModel(options.model) : runtime.model;
    const sandbox = withGrantedEnv(this.#sandbox, this.#grantedSecrets(options.secrets));
    const tools = [...runtime.tools(sandbox), ...(options.tools ?? [])].map((tool) => this.#redactingTool(tool));
    // The new input is written together with the first turn's messages, so a failed first turn leaves no trace.
    let pending: { message: Message; source: EntrySource }[] = input;
    const system: Message = { role: "system", content: await runtime.systemPrompt() };
    const messages: Message[] = [system, ...this.#messages, ...input.map((item) => item.message)];
    return await runtime.harness.run({
      model,
      messages,
      tools,
      maxTurns: options.maxTurns ?? runtime.maxTurns,
      responseFormat,
      thinkingLevel: options.thinkingLevel ?? runtime.thinkingLevel,
      signal: scope.signal,
      emit: (payload) => scope.emit(payload),
      commit: async (turnMessages) => {
        const timestamp = new Date().toISOString();
        const entries = [
          ...pending.map((item) => ({ ...item, operationId: scope.operationId, timestamp })),
          ...turnMessages.map((message) => ({
            message: runtime.redactor.redact(message),
            source: input[0].source,
            operationId: scope.operationId,
            timestamp,
          })),
        ];
        const stored = await runtime.store.append(this.#key, entries);
        for (const entry of entries) this.#messages.push(entry.message);
        this.#lastSeq = stored.at(-1)?.seq ?? this.#lastSeq;
        pending = [];
      },
    });
  }

  /** Takes in what another session object of the same store and key wrote since this one last looked. */
  async #catchUp(): Promise<void> {
    const newer = await this.#runtime.store.load(this.#key, { afterSeq: this.#lastSeq });
    for (const entry of newer) this.#messages.push(entry.message);
    this.#lastSeq = newer.at(-1)?.seq ?? this.#lastSeq;
  }

  #redactingTool(tool: FlueTool<unknown>): FlueTool<unknown> {
    const redactor = this.#runtime.redactor;
    if (redactor.isEmpty) return tool;
    // One wrapper per tool, so the wrapper's JSON Schema is computed once rather than on every operation.
    let wrapper = this.#redactingTools.get(tool);
    if (!wrapper) {
      wrapper = this.#wrapWithRedaction(tool, redactor);
      this.#redactingTools.set(tool, wrapper);
    }
    return wrapper;
  }

  #wrapWithRedaction(tool: FlueTool<unknown>, redactor: Redactor): FlueTool<unknown> {
    return {
      name: tool.name,
      description: tool.description,
      input: tool.input,
      run: async (input, context) => {
        try {
          const value = await tool.run(input, context);
          return typeof value === "string" ? redactor.redactText(value) : redactor.redact(value);
        } catch (error) {
          // The error's message becomes the tool result the model reads next: it must not carry a secret either.
          throw redactor.redact(error);
        }
      },
    };
  }

  #grantedSecrets(names: readonly string[] | undefined): Record<string, string> {
    const granted: Record<string, string> = {};
    for (const name of names ?? []) {
      const value = this.#runtime.env[name];
      if (value === undefined) {
        const known = Object.keys(this.#runtime.env);
        throw new TypeError(
          `Secret "${name}" is not in the agent's env: ${
            known.length ? `known names are ${known.join(", ")}` : "pass it in the env option of init()"
          }`,
        );
      }
      granted[name] = value;
    }
    return granted;
  }
}
