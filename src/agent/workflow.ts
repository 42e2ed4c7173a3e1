/**
 * Workflows: modules exporting `run(ctx)`. `runWorkflow` records a run, gives the workflow its context, and logs every
 * event of the agents it initialises into the run, in order.
 *
 * @module
 */

import { newId } from "../_id.ts";
import { PayloadValidationError } from "../errors.ts";
import type { Schema } from "../output/schema.ts";
import { EventBus } from "../events/event_bus.ts";
import type { EventCallback, FlueEvent } from "../events/event_types.ts";
import type { Store } from "../store/store.ts";
import { Redactor } from "../telemetry/redactor.ts";
import { startTracing, type TelemetryOptions, validateTelemetryOptions } from "../telemetry/tracing.ts";
import type { AgentOptions } from "./agent_options.ts";
import type { CreatedAgent } from "./create_agent.ts";
import { type Agent, initWithWiring } from "./init.ts";

/** Structured log lines of a workflow; each becomes a `log` event of the run. */
export interface FlueLogger {
  /** Logs at debug level. */
  debug(message: string, attributes?: Record<string, unknown>): void;
  /** Logs at info level. */
  info(message: string, attributes?: Record<string, unknown>): void;
  /** Logs at warn level. */
  warn(message: string, attributes?: Record<string, unknown>): void;
  /** Logs at error level. */
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** What a workflow's `run(ctx)` receives. */
export interface FlueContext<Payload = unknown> {
  /** The instance id of this run (agents it initialises get it by default). */
  readonly id: string;
  /** The run id, such as `workflow:summarize:run_...`. */
  readonly runId: string;
  /** The input. */
  readonly payload: Payload;
  /** Values the caller made available; pass chosen ones to agents as their `env` (secrets). */
  readonly env: Readonly<Record<string, string>>;
  /** Aborted when the run is cancelled. */
  readonly signal: AbortSignal;
  /** Logs into the run's event log. */
  readonly log: FlueLogger;
  /**
   * Initialises an agent declared by `createAgent` inside this run: its events join the run's log.
   *
   * @param agent The declaration.
   * @param options Overrides: another instance id or name.
   * @returns The agent instance.
   */
  init(agent: CreatedAgent, options?: { id?: string; name?: string }): Promise<Agent>;
}

/** A workflow module: `export async function run(ctx) { ... }`. */
export interface WorkflowModule {
  /** Runs the workflow and returns its result (JSON-serialisable). */
  run(context: FlueContext<unknown>): unknown | Promise<unknown>;
  /**
   * The input's schema (`export const payload = z.object({...})`): checked before the run is recorded, so a bad
   * payload is a `PayloadValidationError` (HTTP 422, CLI exit 2) and `ctx.payload` is the parsed value.
   */
  payload?: Schema;
  /**
   * The result's schema (`export const result = z.object({...})`): documents the result in the server's
   * `/openapi.json` for clients; the returned value is not checked against it.
   */
  result?: Schema;
}

/** Options of {@linkcode runWorkflow}. */
export interface RunWorkflowOptions {
  /** The workflow's name. */
  name: string;
  /** The input. */
  payload?: unknown;
  /** The instance id; `default` when omitted. */
  id?: string;
  /** Values available to the workflow as `ctx.env`. */
  env?: Record<string, string>;
  /** Where the run and its events are recorded. */
  store: Store;
  /** Options applied under every agent's own (configuration defaults, such as the project's model). */
  defaults?: Partial<AgentOptions>;
  /** Options applied over every agent's own (such as `--model` from the command line). */
  overrides?: Partial<AgentOptions>;
  /** Receives every event of the run. */
  onEvent?: EventCallback;
  /** Cancels the run. */
  signal?: AbortSignal;
  /**
   * OpenTelemetry tracing of the run and of every agent it initialises (their own `telemetry` option is not used
   * inside a run): `{ tracer, recordContent }`, or `false` for none. On by default with the global tracer.
   */
  telemetry?: TelemetryOptions | false;
}

/** A finished run. */
export interface WorkflowRunResult {
  /** The run id. */
  runId: string;
  /** What `run(ctx)` returned. */
  result: unknown;
}

/**
 * Runs a workflow module to its end, recording the run and its events in the store.
 *
 * @param module The module exporting `run(ctx)`.
 * @param options Name, payload, store and defaults.
 * @returns The run id and result. Rejects with the workflow's error after recording it.
 */
export async function runWorkflow(module: WorkflowModule, options: RunWorkflowOptions): Promise<WorkflowRunResult> {
  if (typeof module?.run !== "function") {
    throw new TypeError(`Workflow "${options.name}" must export a function run(ctx)`);
  }
  validateTelemetryOptions(options.telemetry);
  const payload = parsePayload(module, options);
  const runId = `workflow:${options.name}:${newId("run")}`;
  const instanceId = options.id ?? "default";
  const env = { ...options.env };
  const store = options.store;
  const bus = new EventBus(new Redactor(collectSecrets(options)));
  const writes: Promise<void>[] = [];
  // Events are written in emission order; each write waits for the one before, so the log never reorders.
  let chain = Promise.resolve();
  bus.subscribe((event: FlueEvent) => {
    chain = chain.then(() => store.appendRunEvents(runId, [event]));
    writes.push(chain);
  });
  if (options.onEvent) bus.subscribe(options.onEvent);
  // ctx.env holds values the caller made available as secrets: trace content is redacted of them too.
  const tracing = startTracing(bus, options.telemetry, new Redactor({ ...env, ...collectSecrets(options) }));
  const controller = new AbortController();
  options.signal?.addEventListener("abort", () => controller.abort(options.signal?.reason), { once: true });
  const correlation = { runId, agent: options.name, instanceId };
  const agents: Agent[] = [];
  const log = (level: "debug" | "info" | "warn" | "error") => (message: string, attributes?: Record<string, unknown>) =>
    void bus.emit({ type: "log", level, message, attributes }, correlation);

  await store.createRun({
    runId,
    workflow: options.name,
    instanceId,
    status: "running",
    payload,
    startedAt: new Date().toISOString(),
  });
  const started = performance.now();
  bus.emit({ type: "run_start", workflow: options.name, payload }, correlation);
  const context: FlueContext<unknown> = {
    id: instanceId,
    runId,
    payload,
    env,
    signal: controller.signal,
    log: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    async init(agent, overrides = {}) {
      const config = await agent.initialize({ id: overrides.id ?? instanceId, env, payload });
      const instance = await initWithWiring({
        ...options.defaults,
        ...config,
        ...options.overrides,
        name: overrides.name ?? config.name ?? options.name,
        id: overrides.id ?? instanceId,
      }, { bus, store, runId });
      agents.push(instance);
      controller.signal.addEventListener("abort", () => void instance.close(), { once: true });
      return instance;
    },
  };

  try {
    const result = await (tracing ? tracing.withRun(runId, () => module.run(context)) : module.run(context));
    const end = bus.emit(
      { type: "run_end", workflow: options.name, isError: false, result, durationMs: performance.now() - started },
      correlation,
    );
    await Promise.all(writes);
    // The stored record is served over HTTP like the events: it keeps the redacted result.
    const stored = (end as { result?: unknown }).result;
    await store.updateRun(runId, { status: "done", result: stored, endedAt: new Date().toISOString() });
    return { runId, result };
  } catch (error) {
    const name = error instanceof Error ? error.name : "Error";
    const message = error instanceof Error ? error.message : String(error);
    const event = bus.emit({
      type: "run_end",
      workflow: options.name,
      isError: true,
      error: { name, message },
      durationMs: performance.now() - started,
    }, correlation);
    await Promise.allSettled(writes);
    const status = name === "AbortError" ? "aborted" : "failed";
    await store.updateRun(runId, {
      status,
      error: (event as { error?: { name: string; message: string } }).error,
      endedAt: new Date().toISOString(),
    });
    throw error;
  } finally {
    await Promise.all(agents.map((agent) => agent.close()));
    tracing?.stop();
  }
}

function collectSecrets(options: RunWorkflowOptions): Record<string, string> {
  // ctx.env values are what the caller handed the workflow (tokens, keys): redacted from the run's events like agent env.
  return { ...options.env, ...options.defaults?.env, ...options.overrides?.env };
}

function parsePayload(module: WorkflowModule, options: RunWorkflowOptions): unknown {
  const schema = module.payload;
  if (schema === undefined) return options.payload;
  if (typeof schema?.safeParse !== "function") {
    throw new TypeError(`Workflow "${options.name}" exports a payload that is not a zod schema: use z.object({...})`);
  }
  const parsed = schema.safeParse(options.payload);
  if (parsed.success) return parsed.data;
  throw new PayloadValidationError(
    options.name,
    parsed.error.issues.map((issue) => ({
      path: issue.path.map((part) => typeof part === "number" ? part : String(part)),
      message: issue.message,
    })),
  );
}
