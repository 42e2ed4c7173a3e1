/**
 * The session implementation: one operation at a time, history appended after every turn, events correlated and
 * redacted, typed results validated with bounded re-prompts, and cancellation that reaches the model request, tools
 * and subprocesses.
 *
 * @module
 */

import type { z } from "zod";
import type { Schema } from "../output/schema.ts";
import type { EventBus } from "../events/event_bus.ts";
import type { FlueEvent } from "../events/event_types.ts";
import type { Harness } from "../harness/harness.ts";
import type { ChatModel, ModelCallContext, ThinkingLevel } from "../model/chat_model.ts";
import { addUsage, emptyUsage, type Message } from "../model/message.ts";
import { toJsonSchema } from "../output/json_schema.ts";
import { resultInstructions } from "../output/result_instructions.ts";
import { runTypedCall } from "../output/typed_call.ts";
import type { ShellResult } from "../sandbox/sandbox.ts";
import type { Redactor } from "../telemetry/redactor.ts";
import { DeltaRedactor } from "../telemetry/delta_redactor.ts";
import type { EntrySource, HistoryEntry, SessionKey, Store } from "../store/store.ts";
import type { FlueTool } from "../tools/tool.ts";
import { SANDBOX_TOOL_NAMES, validateBuiltinTools } from "../tools/sandbox_tools.ts";
import type { CallHandle } from "./call_handle.ts";
import { OperationQueue, type OperationScope } from "./operation_queue.ts";
import { sessionLane } from "./session_lane.ts";
import { createEventStream } from "./event_stream.ts";
import { type CompactionSettings, compactionSettings } from "./compaction.ts";
import { ContextGuard, type GuardedRunOptions } from "./context_guard.ts";
import { operationProgress, type ResumablePromptOptions } from "./_operation_progress.ts";
import { type RunnableSkill, runSkillCall } from "./skill_call.ts";
import { type SessionSandbox, withGrantedEnv } from "./session_sandbox.ts";
import type { RoleCatalog } from "../project/roles.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { type CallSettings, resolveCallSettings } from "./call_settings.ts";
import {
  offersTaskTool,
  runTask,
  type TaskOptions,
  type TaskParent,
  type TaskResponse,
  type TaskResultResponse,
  type TaskRuntime,
  type TypedTaskOptions,
} from "./task_call.ts";
import { createTaskTool } from "../tools/task_tool.ts";
import { grantSecrets, wrapSessionTool } from "./_session_tools.ts";
import { runShellCall } from "./shell_call.ts";
import { withToolTimeout } from "./_tool_timeout.ts";
import type { PriceTable } from "../model/prices.ts";
import { type BudgetLimits, OperationBudget, resolveBudgetLimits, validateBudgetLimits } from "./operation_budget.ts";
import type {
  CompactOptions,
  CompactResult,
  EventStream,
  PromptOptions,
  PromptResponse,
  PromptResultResponse,
  Session,
  SessionFs,
  ShellOptions,
  SkillOptions,
  SkillResponse,
  TypedPromptOptions,
  TypedSkillOptions,
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
  /**
   * Builds the system prompt; called before each operation so AGENTS.md edits apply.
   *
   * @param role The role the operation runs as, whose instructions follow the agent's.
   * @param instructions Instructions used instead of the agent's (a subagent profile's).
   */
  systemPrompt(role?: { name: string; instructions: string }, instructions?: string): Promise<string>;
  /** The skills `session.skill` can run. */
  skills: readonly RunnableSkill[];
  /** Builds the tools of one operation from the sandbox view it may use. */
  tools(sandbox: SessionSandbox | ReturnType<typeof withGrantedEnv>): FlueTool<unknown>[];
  /** Secret values by name, granted per call. */
  env: Readonly<Record<string, string>>;
  /** Default turn limit. */
  maxTurns: number;
  /** The agent's budgets; `maxTurns` there is ignored in favour of the field above, which carries the default. */
  budgets: BudgetLimits;
  /** Price overrides for cost reporting and `maxCostUsd`. */
  prices: PriceTable;
  /** Default re-prompts for typed results. */
  typedRetries: number;
  /** Default reasoning effort. */
  thinkingLevel?: ThinkingLevel;
  /** Whether model calls stream by default; the model's own setting applies when omitted. */
  stream?: boolean;
  /** The roles sessions and calls may run as. */
  roles?: RoleCatalog;
  /** Subagent profiles, the depth limit, and the session's place in the task tree. */
  tasks?: TaskRuntime;
  /** When and how history is compacted; the defaults of `docs/compaction.md` when omitted. */
  compaction?: CompactionSettings;
}

type OperationListener = (event: FlueEvent) => void;

/** A session of an agent instance. Use `agent.session(name)` to get one. */
export class FlueSession implements Session {
  /** The session's name. */
  readonly name: string;
  readonly #runtime: SessionRuntime;
  readonly #sandbox: Sandbox;
  readonly #role?: string;
  readonly #key: SessionKey;
  /** The model's context: the history since the last compaction (the array `#guard` keeps). */
  readonly #messages: Message[];
  readonly #guard: ContextGuard;
  readonly #queue: OperationQueue;
  #lastSeq: number;
  readonly #redactingTools = new WeakMap<FlueTool<unknown>, FlueTool<unknown>>();
  readonly #budgetLimits: BudgetLimits;
  /** Each running operation's spending, for the harness runs it makes (a typed call makes several). */
  readonly #budgets = new WeakMap<OperationScope, OperationBudget>();

  /**
   * @param name The session name.
   * @param runtime What the session needs from its agent.
   * @param sandbox The session's sandbox.
   * @param history The stored history to resume from.
   * @param options The role the session runs as, and its budgets.
   */
  constructor(
    name: string,
    runtime: SessionRuntime,
    sandbox: Sandbox,
    history: readonly HistoryEntry[],
    options: { role?: string; budgets?: BudgetLimits } = {},
  ) {
    this.name = name;
    this.#role = options.role;
    this.#budgetLimits = resolveBudgetLimits(options.budgets);
    this.#runtime = runtime;
    this.#sandbox = sandbox;
    this.#key = { agent: runtime.agent, instanceId: runtime.instanceId, session: name };
    this.#guard = new ContextGuard(
      history,
      runtime.compaction ?? compactionSettings(undefined),
      (afterSeq) => runtime.store.load(this.#key, { afterSeq }),
      runtime.model,
    );
    this.#messages = this.#guard.context.messages;
    this.#lastSeq = history.at(-1)?.seq ?? -1;
    const context = {
      runId: runtime.runId,
      agent: runtime.agent,
      instanceId: runtime.instanceId,
      session: name,
      taskId: runtime.tasks?.taskId,
    };
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

  /** The role the session runs as, if any. */
  get role(): string | undefined {
    return this.#role;
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

  /**
   * Internal to Flue: the prompt a dispatch worker runs. Its operation id is chosen by the caller and stays the same on
   * every attempt, so a retry after a crash neither adds the input again nor repeats finished work: when an earlier
   * attempt stored the final answer it is returned without calling the model; when it stored some turns the loop
   * continues from them. Its entries have the source `dispatch`.
   */
  resumablePrompt(text: string, options: ResumablePromptOptions): CallHandle<PromptResponse> {
    return this.#queue.run("prompt", options.signal, undefined, (scope) =>
      this.#withBudget(scope, {}, async () => {
        if (typeof text !== "string" || text.trim() === "") {
          throw new TypeError("The prompt is empty: pass the message to send");
        }
        await this.#catchUp();
        const progress = options.resume
          ? operationProgress(await this.#runtime.store.load(this.#key), scope.operationId)
          : { started: false };
        if (progress.answer !== undefined) {
          const response = { text: progress.answer, usage: emptyUsage(), model: this.#runtime.model.id };
          return {
            value: { ...response, operationId: scope.operationId },
            result: response.text,
            usage: response.usage,
          };
        }
        const message: Message = { role: "user", content: text };
        const input = progress.started ? [] : [{ message, source: "dispatch" as const }];
        const run = await this.#runHarness(scope, {}, input);
        const response = { text: run.text, usage: run.usage, model: run.model, operationId: scope.operationId };
        return { value: response, result: response.text, usage: response.usage };
      }), options.operationId);
  }

  /** Runs a skill: arguments checked first, its allowed tools only, its output schema enforced. */
  skill(name: string, options?: SkillOptions): CallHandle<SkillResponse>;
  /** Runs a skill and returns data validated by a zod schema, used instead of the skill's `output_schema`. */
  skill<S extends Schema>(name: string, options: TypedSkillOptions<S>): CallHandle<PromptResultResponse<S["_output"]>>;
  skill(
    name: string,
    options: SkillOptions | TypedSkillOptions<Schema> = {},
  ): CallHandle<SkillResponse | PromptResultResponse<unknown>> {
    return this.#queue.run("skill", options.signal, undefined, (scope) =>
      this.#withBudget(scope, options, async () => {
        await this.#catchUp();
        const runtime = this.#runtime;
        const model = this.#callSettings(options).model;
        const skill = { name, allowedTools: runtime.skills.find((skill) => skill.name === name)?.allowedTools };
        const response = await runSkillCall(runtime.skills, name, options, {
          model,
          typedRetries: options.typedRetries ?? runtime.typedRetries,
          operationId: scope.operationId,
          redactText: (text) => runtime.redactor.redactText(text),
          run: (content, source, responseFormat) =>
            this.#runHarness(
              scope,
              { ...options, model },
              [{ message: { role: "user", content }, source }],
              responseFormat,
              skill,
            ),
        });
        return { value: response, result: response.text, usage: response.usage };
      }));
  }

  /** Runs a child session (a subagent) with its own history on this session's sandbox, and returns its answer. */
  task(prompt: string, options?: TaskOptions): CallHandle<TaskResponse>;
  /** Runs a child session and returns data validated by a zod schema. */
  task<S extends Schema>(prompt: string, options: TypedTaskOptions<S>): CallHandle<TaskResultResponse<S["_output"]>>;
  task(
    prompt: string,
    options: TaskOptions | TypedTaskOptions<Schema> = {},
  ): CallHandle<TaskResponse | TaskResultResponse<unknown>> {
    return this.#queue.run("task", options.signal, undefined, async (scope) => {
      const response = await runTask(this.#taskParent(), scope, prompt, options);
      return { value: response, result: "data" in response ? response.data : response.text, usage: response.usage };
    });
  }

  /** Runs a command in the sandbox under the policy. */
  shell(command: string, options: ShellOptions = {}): CallHandle<ShellResult> {
    return this.#queue.run("shell", options.signal, undefined, (scope) => {
      const env = { ...options.env, ...grantSecrets(this.#runtime.env, options.secrets) };
      return runShellCall(scope, this.#sandbox, command, options, env);
    });
  }

  /** Cancels whatever the session is running or has queued. */
  abort(reason?: unknown): boolean {
    return this.#queue.abortAll(reason);
  }

  /** Summarises the older part of the history now, keeping the most recent messages. */
  compact(options: CompactOptions = {}): CallHandle<CompactResult> {
    return this.#queue.run("compact", options.signal, undefined, async (scope) => {
      const keepRecent = options.keepRecent;
      if (keepRecent !== undefined && (!Number.isInteger(keepRecent) || keepRecent < 0 || keepRecent > 1000)) {
        throw new TypeError(
          `keepRecent must be a whole number of messages from 0 to 1000, got ${JSON.stringify(keepRecent)}`,
        );
      }
      await this.#catchUp();
      const { model } = this.#callSettings({ model: options.model });
      const before = this.#guard.context.items.length;
      const outcome = await this.#guard.compactNow(this.#guardOptions(scope, model), keepRecent);
      const value: CompactResult = {
        compacted: outcome !== undefined,
        messagesBefore: outcome?.messagesBefore ?? before,
        messagesAfter: outcome?.messagesAfter ?? before,
        usage: outcome?.usage ?? emptyUsage(),
        operationId: scope.operationId,
      };
      const { compacted, messagesBefore, messagesAfter } = value;
      return { value, result: { compacted, messagesBefore, messagesAfter }, usage: value.usage };
    });
  }

  /** The stored history: every entry, also those a compaction summarised. */
  history(): Promise<HistoryEntry[]> {
    return this.#runtime.store.load(this.#key);
  }

  /** Cancels what runs and waits until it has stopped; the stored history stays. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.abort("session disposed");
    await this.#queue.drained();
  }

  /** Cancels what runs, then deletes the stored history and, where the sandbox has one, its remote machine. */
  async delete(): Promise<void> {
    this.abort("session deleted");
    await this.#queue.drained();
    await this.#runtime.store.deleteSession(this.#key);
    await this.#sandbox.destroy?.();
    this.#guard.reset();
    this.#lastSeq = -1;
  }

  #startPrompt<S extends Schema>(
    text: string,
    options: PromptOptions | TypedPromptOptions<S>,
    listener?: OperationListener,
  ): CallHandle<PromptResponse | PromptResultResponse<S["_output"]>> {
    return this.#queue.run("prompt", options.signal, listener, (scope) =>
      this.#withBudget(scope, options, async () => {
        if (typeof text !== "string" || text.trim() === "") {
          throw new TypeError("The prompt is empty: pass the message to send");
        }
        await this.#catchUp();
        const response = "result" in options && options.result
          ? await this.#typedPrompt(text, options as TypedPromptOptions<S>, scope)
          : await this.#plainPrompt(text, options, scope);
        return { value: response, result: response.text, usage: response.usage };
      }));
  }

  /**
   * Runs an operation under its budgets: the call's over the session's over the agent's. A limit passed ends it with
   * the `BudgetExceededError` instead of whatever the abort made the model or a tool throw, or instead of its answer
   * when the last turn passed it.
   */
  async #withBudget<T>(scope: OperationScope, options: PromptOptions, body: () => Promise<T>): Promise<T> {
    validateBudgetLimits(options);
    const runtime = this.#runtime;
    const limits = resolveBudgetLimits(options, this.#budgetLimits, runtime.budgets);
    const budget = new OperationBudget(limits, runtime.prices, this.#callSettings(options).model.id);
    this.#budgets.set(scope, budget);
    try {
      const result = await body();
      if (budget.exceeded) throw budget.exceeded;
      return result;
    } catch (error) {
      throw budget.exceeded ?? error;
    } finally {
      budget.dispose();
    }
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
    const model = this.#callSettings(options).model;
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
    skill?: { name: string; allowedTools?: readonly string[] },
  ): Promise<{ text: string; usage: ReturnType<typeof emptyUsage>; model: string }> {
    const runtime = this.#runtime;
    // The caller's message may quote a secret (a task prompt, an HTTP request): model and history get it redacted.
    input = input.map((item) => ({ ...item, message: runtime.redactor.redact(item.message) }));
    const deltas = new DeltaRedactor(runtime.redactor);
    if (options.stream !== undefined && typeof options.stream !== "boolean") {
      throw new TypeError(`Call option "stream" must be true or false, got ${JSON.stringify(options.stream)}`);
    }
    const { model, thinkingLevel, role } = this.#callSettings(options);
    const sandbox = withGrantedEnv(this.#sandbox, grantSecrets(this.#runtime.env, options.secrets));
    let tools = [...runtime.tools(sandbox), ...(options.tools ?? [])];
    // The role's selection and the call's each narrow what the agent offers; neither can add a tool back.
    if (role?.builtinTools !== undefined) tools = narrowBuiltinTools(tools, role.builtinTools);
    if (options.builtinTools !== undefined) tools = narrowBuiltinTools(tools, options.builtinTools);
    if (offersTaskTool(runtime)) tools.push(this.#taskTool(scope));
    // A skill's allowed-tools only narrows what the agent offers: a name the policy left out stays out.
    const allowedTools = skill?.allowedTools;
    if (allowedTools) tools = tools.filter((tool) => allowedTools.includes(tool.name));
    tools = tools.map((tool) => this.#redactingTool(tool));
    const toolTimeoutMs = this.#budgets.get(scope)?.limits.toolTimeoutMs;
    if (toolTimeoutMs !== undefined) tools = tools.map((tool) => withToolTimeout(tool, toolTimeoutMs));
    // Reading a cut result back is offered always: a result may be cut in any turn, and the tool list is fixed per run.
    tools.push(this.#guard.readOutputTool);
    // The new input is written together with the first turn's messages, so a failed first turn leaves no trace.
    let pending: { message: Message; source: EntrySource }[] = input;
    const system: Message = {
      role: "system",
      content: await runtime.systemPrompt(role && { name: role.name, instructions: role.instructions }),
    };
    const operation = this.#operationContext(scope, skill?.name, role?.name);
    const guarded = this.#guard.startRun(
      this.#guardOptions(scope, model, operation),
      system,
      tools,
      input.map((item) => item.message),
    );
    await guarded.prepare();
    const budget = this.#budgets.get(scope);
    let costUsd: number | undefined;
    const result = await runtime.harness.run({
      model,
      messages: guarded.messages(),
      tools,
      maxTurns: options.maxTurns ?? this.#budgetLimits.maxTurns ?? runtime.maxTurns,
      responseFormat,
      thinkingLevel,
      stream: options.stream ?? runtime.stream,
      signal: budget ? AbortSignal.any([scope.signal, budget.signal]) : scope.signal,
      operation,
      emit: (payload) => {
        if (payload.type === "turn" && budget) {
          payload = { ...payload, usage: budget.recordTurn(payload.usage, payload.model) };
          if (payload.usage.costUsd !== undefined) costUsd = (costUsd ?? 0) + payload.usage.costUsd;
        }
        guarded.observe(payload);
        for (const redacted of deltas.redact(payload)) scope.emit(redacted);
      },
      commit: async (turnMessages) => {
        const timestamp = new Date().toISOString();
        const entries = [
          ...pending.map((item) => ({ ...item, operationId: scope.operationId, timestamp })),
          ...turnMessages.map((message) => ({
            message: runtime.redactor.redact(message),
            // A resumed dispatch continues without new input.
            source: input[0]?.source ?? "dispatch",
            operationId: scope.operationId,
            timestamp,
          })),
          ...this.#guard.outputs.takePending(scope.operationId, timestamp),
        ];
        this.#takeIn(await runtime.store.append(this.#key, entries));
        pending = [];
        return await guarded.committed(turnMessages);
      },
      onContextOverflow: () => guarded.overflowed(),
    });
    for (const redacted of deltas.flush()) scope.emit(redacted);
    addUsage(result.usage, guarded.usage);
    if (costUsd !== undefined) result.usage.costUsd = costUsd;
    // The answer goes back to callers, HTTP clients and dispatch records: a secret the model wrote does not.
    return { ...result, text: runtime.redactor.redactText(result.text) };
  }

  /** What compaction needs from an operation: its model, events, signal, and a way to store the summary. */
  #guardOptions(scope: OperationScope, model: ChatModel, operation?: ModelCallContext): GuardedRunOptions {
    const runtime = this.#runtime;
    return {
      model,
      operationId: scope.operationId,
      operation: operation ?? this.#operationContext(scope),
      signal: scope.signal,
      emit: (payload) => scope.emit(payload),
      redact: (text) => runtime.redactor.redactText(text),
      save: async (entry) => {
        const stored = await runtime.store.append(this.#key, [entry]);
        this.#takeIn(stored);
        return stored[0];
      },
    };
  }

  #operationContext(scope: OperationScope, skill?: string, role?: string): ModelCallContext {
    const runtime = this.#runtime;
    const context: ModelCallContext = {
      agent: runtime.agent,
      instanceId: runtime.instanceId,
      session: this.name,
      operationId: scope.operationId,
      operationKind: scope.kind,
      taskDepth: runtime.tasks?.depth ?? 0,
    };
    if (skill !== undefined) context.skill = skill;
    if (role !== undefined) context.role = role;
    if (runtime.tasks?.taskId !== undefined) context.taskId = runtime.tasks.taskId;
    return context;
  }

  /** Takes stored entries into the model's context and moves the known position. */
  #takeIn(entries: readonly HistoryEntry[]): void {
    this.#guard.takeIn(entries);
    this.#lastSeq = entries.at(-1)?.seq ?? this.#lastSeq;
  }

  /** The role, model and reasoning effort of one call (see `call_settings.ts` for the precedence). */
  #callSettings(options: PromptOptions): CallSettings {
    const runtime = this.#runtime;
    return resolveCallSettings({
      call: options,
      sessionRole: this.#role,
      agent: runtime,
      roles: runtime.roles,
      resolveModel: runtime.resolveModel,
    });
  }

  #taskParent(): TaskParent {
    return {
      runtime: this.#runtime,
      sandbox: this.#sandbox,
      session: this.name,
      startChild: (name, runtime, sandbox, role, text, options, listener) =>
        new FlueSession(name, runtime, sandbox, [], { role }).#startPrompt(text, options, listener),
    };
  }

  /** The `task` tool of one operation: its tasks run inside that operation and are aborted with it. */
  #taskTool(scope: OperationScope): FlueTool<unknown> {
    const runtime = this.#runtime;
    const describe = ({ name, description }: { name: string; description: string }) => ({ name, description });
    return createTaskTool({
      subagents: Object.entries(runtime.tasks?.subagents ?? {}).map(([name, profile]) =>
        describe({ name, description: profile.description })
      ),
      roles: runtime.roles?.list().map(describe) ?? [],
      run: async ({ prompt, agent, role }, context) => {
        // The task runs under the calling operation's budgets: their abort stops it, and what it spent counts.
        const taskScope = { ...scope, signal: context.signal };
        const response = await runTask(this.#taskParent(), taskScope, prompt, { agent, role });
        this.#budgets.get(scope)?.recordSpending(response.usage);
        return response.text;
      },
    }) as FlueTool<unknown>;
  }

  /** Takes in what another session object of the same store and key wrote since this one last looked. */
  async #catchUp(): Promise<void> {
    this.#takeIn(await this.#runtime.store.load(this.#key, { afterSeq: this.#lastSeq }));
  }

  #redactingTool(tool: FlueTool<unknown>): FlueTool<unknown> {
    const redactor = this.#runtime.redactor;
    // One wrapper per tool, so the wrapper's JSON Schema is computed once rather than on every operation.
    let wrapper = this.#redactingTools.get(tool);
    if (!wrapper) {
      wrapper = wrapSessionTool(tool, redactor, this.#guard);
      this.#redactingTools.set(tool, wrapper);
    }
    return wrapper;
  }
}

// Drops the sandbox tools a call's `builtinTools` leaves out, keeping every other tool.
function narrowBuiltinTools(tools: FlueTool<unknown>[], select: unknown): FlueTool<unknown>[] {
  validateBuiltinTools(select, "Call option");
  return tools.filter((tool) => !SANDBOX_TOOL_NAMES.includes(tool.name) || (select && select.includes(tool.name)));
}
