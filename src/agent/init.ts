/**
 * `init(options)`: builds an agent instance from options: its model, harness, store, sandbox policy and tools.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { EventBus } from "../events/event_bus.ts";
import type { EventCallback } from "../events/event_types.ts";
import { createHarness } from "../harness/registry.ts";
import type { ChatModel } from "../model/chat_model.ts";
import { createModel } from "../model/create_model.ts";
import { withRecordReplay } from "../model/record_replay.ts";
import { checkSandbox, createSandbox, sandboxOutlivesProcess } from "../sandbox/registry.ts";
import type { SandboxPolicy } from "../sandbox/sandbox.ts";
import { FlueSession } from "../session/flue_session.ts";
import { type BudgetLimits, validateBudgetLimits } from "../session/operation_budget.ts";
import { compactionSettings } from "../session/compaction.ts";
import { isEmptyBeforeCreation, SessionSandbox } from "../session/session_sandbox.ts";
import type { Session, SessionOptions } from "../session/session_types.ts";
import { checkSessionRole } from "../session/call_settings.ts";
import { createStore } from "../store/create_store.ts";
import type { Store } from "../store/store.ts";
import { Redactor } from "../telemetry/redactor.ts";
import { startTracing } from "../telemetry/tracing.ts";
import { BUILTIN_TOOL_NAMES, createSandboxTools } from "../tools/sandbox_tools.ts";
import { createActivateSkillTool } from "../tools/activate_skill_tool.ts";
import { loadSkills } from "../project/skills.ts";
import { loadRoles } from "../project/roles.ts";
import { rootTaskRuntime } from "../session/task_call.ts";
import { createCodeTool } from "../tools/code/code_tool.ts";
import { commandToTool } from "../tools/define_command.ts";
import type { FlueTool } from "../tools/tool.ts";
import type { AgentOptions } from "./agent_options.ts";
import { validateAgentOptions } from "./_validate_options.ts";
import { buildSystemPrompt } from "./system_prompt.ts";

/** An agent instance: its sessions share the model, tools, policy and store. */
export interface Agent {
  /** The agent's name. */
  readonly name: string;
  /** The instance id. */
  readonly id: string;
  /** The model the agent uses. */
  readonly model: ChatModel;
  /**
   * Opens a session, resuming its stored history. The same name returns the same session object.
   *
   * @param name The session name; `default` when omitted.
   * @param options The role the session runs as. A session already open keeps its role: asking for another is an
   * error, and omitting `role` returns it as it is.
   * @returns The session.
   */
  session(name?: string, options?: SessionOptions): Promise<Session>;
  /**
   * Lists the instance's stored sessions.
   *
   * @returns Session names, sorted.
   */
  listSessions(): Promise<string[]>;
  /**
   * Adds an event listener.
   *
   * @param listener Called with every event of the agent.
   * @returns A function that removes it.
   */
  subscribe(listener: EventCallback): () => void;
  /** Cancels running operations, stops sandbox helpers, and closes the store if the agent opened it. */
  close(): Promise<void>;
  /** `close()`, for `await using agent = await init(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Internal wiring a workflow run passes to the agents it initialises. */
export interface AgentWiring {
  /** The run's event bus, so events are numbered per run. */
  bus?: EventBus;
  /** The run's store. */
  store?: Store;
  /** The run id put on events. */
  runId?: string;
}

const DEFAULT_MAX_TURNS = 20;
const DEFAULT_TYPED_RETRIES = 3;

/**
 * Builds an agent instance.
 *
 * @example Usage
 * ```ts
 * import { init } from "./init.ts";
 *
 * const agent = await init({ model: "test", store: "memory", sandbox: "memory" });
 * const session = await agent.session();
 * const response = await session.prompt("Hello");
 * if (!response.text) throw new Error("no reply");
 * await agent.close();
 * ```
 *
 * @param options Model, instructions, policy, tools, store and more; every policy option denies by default.
 * @returns The agent.
 */
export function init(options: AgentOptions): Promise<Agent> {
  return initWithWiring(options, {});
}

/**
 * Builds an agent instance wired into a workflow run (its bus, store and run id). Internal to Flue.
 *
 * @param options The agent's options.
 * @param wiring The run's bus, store and run id.
 * @returns The agent.
 */
export async function initWithWiring(options: AgentOptions, wiring: AgentWiring): Promise<Agent> {
  validateAgentOptions(options);
  // A remote sandbox's missing credential is found now, not at the session's first command.
  checkSandbox(options.sandbox ?? "virtual");
  const projectDir = resolve(options.projectDir ?? Deno.cwd());
  const stateDir = resolve(options.stateDir ?? join(projectDir, ".flue"));
  const env = { ...options.env };
  const redactor = new Redactor(env);
  const providerEnv = Deno.env.toObject();
  const resolveModel = withRecordReplay(
    (spec: string | ChatModel) => createModel(spec, { env: providerEnv, providers: options.providers }),
    { record: options.record, secrets: env },
  );
  if (options.model === undefined) {
    throw new TypeError(`No model given: pass model, such as "openai:gpt-5.5", or "test" for the key-less test model`);
  }
  const model = resolveModel(options.model);
  const harness = createHarness(options.harness);
  // A store object the caller passed stays open: the caller owns it. One built from a name or spec is the agent's.
  const storeSpec = options.store ?? "sqlite";
  const ownsStore = wiring.store === undefined && (typeof storeSpec === "string" || !("append" in storeSpec));
  const store = wiring.store ?? createStore(storeSpec, { projectDir, stateDir });
  const bus = wiring.bus ?? new EventBus(redactor);
  const unsubscribe = options.onEvent ? bus.subscribe(options.onEvent) : undefined;
  // A workflow run traces its own bus, which its agents share: tracing here too would make every span twice.
  const tracing = wiring.bus ? undefined : startTracing(bus, options.telemetry, redactor);
  const policy: SandboxPolicy = Object.freeze({
    allowWrite: options.allowWrite ?? false,
    allowShell: options.allowShell ?? false,
    allowedCommands: Object.freeze([...(options.allowedCommands ?? [])]),
    allowCompoundCommands: options.allowCompoundCommands ?? false,
    allowNet: options.allowNet ?? false,
    allowInterpreters: options.allowInterpreters ?? false,
  });
  const name = options.name ?? "default";
  const id = options.id ?? "default";
  const customTools: FlueTool<unknown>[] = [...(options.tools ?? [])];
  if (options.code) customTools.push(createCodeTool(options.code === true ? {} : options.code) as FlueTool<unknown>);
  // The MCP SDK is loaded only when servers are configured; a server that cannot start fails init() cleanly.
  const mcp = options.mcpServers === undefined ? undefined : await (await import("../tools/mcp/mcp_tool_source.ts"))
    .connectMcpServers(options.mcpServers, {
      projectDir,
      stateDir,
      policy,
      env,
      unconfinedShell: options.unconfinedShell,
    })
    .catch(async (error) => {
      unsubscribe?.();
      tracing?.stop();
      if (ownsStore) await store.close();
      throw error;
    });
  if (mcp) customTools.push(...mcp.tools);
  const commands = options.commands ?? [];
  const skills = await loadSkills(projectDir, {
    select: options.skills,
    toolNames: [...BUILTIN_TOOL_NAMES, ...customTools.map((tool) => tool.name), ...commands.map((c) => c.name)],
  });
  if (skills.length) customTools.push(createActivateSkillTool(skills) as FlueTool<unknown>);
  const roles = await loadRoles(projectDir, options.roles);
  const tasks = rootTaskRuntime({
    subagents: options.subagents,
    maxTaskDepth: options.maxTaskDepth,
    roles,
    toolNames: [...BUILTIN_TOOL_NAMES, ...customTools.map((tool) => tool.name), ...commands.map((c) => c.name)],
  });
  const toolsByView = new WeakMap<object, FlueTool<unknown>[]>();
  const sandboxSpec = options.sandbox ?? "virtual";
  const sessions = new Map<string, Promise<FlueSession>>();
  const sessionRoles = new Map<string, string | undefined>();
  const sandboxes: SessionSandbox[] = [];

  const openSession = async (
    sessionName: string,
    role: string | undefined,
    sessionBudgets: BudgetLimits = {},
  ): Promise<FlueSession> => {
    const sandboxContext = {
      projectDir,
      stateDir,
      agent: name,
      instanceId: id,
      session: sessionName,
      policy,
      seedFrom: options.seedFrom ? resolve(projectDir, options.seedFrom) : undefined,
      unconfinedShell: options.unconfinedShell,
      allowProjectWrites: options.allowProjectWrites,
    };
    // Created on the session's first file or command operation, not here.
    const sandbox = new SessionSandbox(
      typeof sandboxSpec === "string" ? sandboxSpec : "custom",
      policy,
      () => createSandbox(sandboxSpec, sandboxContext),
      redactor,
      {
        destroyUnopened: sandboxOutlivesProcess(sandboxSpec),
        isEmptyBeforeCreation: isEmptyBeforeCreation(sandboxSpec, sandboxContext),
      },
    );
    sandboxes.push(sandbox);
    const history = await store.load({ agent: name, instanceId: id, session: sessionName });
    return new FlueSession(
      sessionName,
      {
        agent: name,
        instanceId: id,
        runId: wiring.runId,
        store,
        bus,
        redactor,
        harness,
        model,
        resolveModel,
        systemPrompt: (role, instructions) =>
          buildSystemPrompt({
            instructions: instructions ?? options.instructions,
            role,
            projectDir,
            workspace: sandbox.instructionsView(),
            skills,
            redactor,
          }),
        skills,
        tools: (view) => {
          // Built once per sandbox view: a tool set (zod schemas, then their JSON Schema) costs milliseconds to
          // build, and the view only changes when a call grants secrets.
          let tools = toolsByView.get(view);
          if (!tools) {
            tools = [
              ...createSandboxTools(view, {}, options.builtinTools),
              ...commands.map((command) => commandToTool(command, view)),
              ...customTools,
            ];
            toolsByView.set(view, tools);
          }
          return tools;
        },
        env,
        maxTurns: options.maxTurns ?? DEFAULT_MAX_TURNS,
        budgets: options,
        prices: options.prices ?? {},
        typedRetries: options.typedRetries ?? DEFAULT_TYPED_RETRIES,
        thinkingLevel: options.thinkingLevel,
        stream: options.stream,
        compaction: compactionSettings(options.compaction),
        roles,
        tasks,
      },
      sandbox,
      history,
      { role, budgets: sessionBudgets },
    );
  };

  const agent: Agent = {
    name,
    id,
    model,
    session(sessionName = "default", sessionOptions: SessionOptions = {}): Promise<Session> {
      if (typeof sessionName !== "string" || sessionName === "" || sessionName.length > 256) {
        return Promise.reject(
          new TypeError(`Invalid session name "${sessionName}": use 1 to 256 characters`),
        );
      }
      let session = sessions.get(sessionName);
      try {
        checkSessionRole(roles, sessionName, sessionOptions.role, session && { role: sessionRoles.get(sessionName) });
        validateBudgetLimits(sessionOptions, "Session option");
      } catch (error) {
        return Promise.reject(error);
      }
      if (!session) {
        session = openSession(sessionName, sessionOptions.role, sessionOptions);
        sessions.set(sessionName, session);
        sessionRoles.set(sessionName, sessionOptions.role);
        session.catch(() => sessions.delete(sessionName));
      }
      return session;
    },
    async listSessions(): Promise<string[]> {
      const keys = await store.listSessions({ agent: name, instanceId: id });
      return keys.map((key) => key.session);
    },
    subscribe: (listener) => bus.subscribe(listener),
    async close(): Promise<void> {
      for (const session of sessions.values()) (await session.catch(() => undefined))?.abort("agent closed");
      await Promise.all(sandboxes.map((sandbox) => sandbox.close()));
      await mcp?.close();
      unsubscribe?.();
      tracing?.stop();
      if (ownsStore) await store.close();
    },
    [Symbol.asyncDispose]: () => agent.close(),
  };
  return agent;
}
