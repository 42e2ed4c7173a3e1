/**
 * OpenTelemetry tracing of agents and workflow runs: the `telemetry` option, the default tracer, and the wiring of an
 * {@linkcode EventTracer} to an event bus.
 *
 * @module
 */

import { type Context, context, trace, type Tracer } from "@opentelemetry/api";
import denoJson from "../../deno.json" with { type: "json" };
import type { EventBus } from "../events/event_bus.ts";
import { EventTracer } from "./event_tracer.ts";
import type { Redactor } from "./redactor.ts";

/**
 * A `Tracer` of `@opentelemetry/api`, such as `provider.getTracer("my-app")`. Typed by shape only, so Flue's public
 * types do not re-export OpenTelemetry's; any object with `startSpan` is accepted and used as a `Tracer`.
 */
export interface OpenTelemetryTracer {
  /** Starts a span: `startSpan(name, options?, context?)`. */
  startSpan(...args: never[]): unknown;
}

/** How an agent or a workflow run is traced. `false` in place of these options turns tracing off. */
export interface TelemetryOptions {
  /**
   * The tracer spans are made with. By default `trace.getTracer("@flue/cli", version)` from `@opentelemetry/api`:
   * a no-op until a tracer provider is registered (Deno registers one when `OTEL_DENO=true`).
   */
  tracer?: OpenTelemetryTracer;
  /**
   * Also put content in attributes: tool arguments and results, model output text, operation and task results, task
   * prompts, command lines, workflow payloads and log messages (already redacted of the agent's `env` values, and cut
   * at 8192 characters). Off by default.
   */
  recordContent?: boolean;
}

/** The instrumentation scope name of Flue's spans. */
export const TRACER_NAME = "@flue/cli";

/**
 * The default tracer, named after the package and its version; it follows whatever provider is registered globally,
 * including one registered after this call.
 *
 * @returns The tracer.
 */
export function defaultTracer(): Tracer {
  return trace.getTracer(TRACER_NAME, denoJson.version);
}

/** Tracing attached to one event bus. */
export interface TracingHandle {
  /**
   * Runs a function with a workflow run's span active, so spans the workflow's own code starts are its children.
   *
   * @param runId The run.
   * @param body The workflow's code.
   * @returns What `body` returns.
   */
  withRun<T>(runId: string, body: () => T): T;
  /** Unsubscribes from the bus and ends every span still open with an error status. */
  stop(): void;
}

/**
 * Subscribes an {@linkcode EventTracer} to a bus.
 *
 * @param bus The agent's or the run's event bus.
 * @param options The `telemetry` option; `false` turns tracing off.
 * @param redactor Redacts content attributes once more.
 * @returns A handle to stop tracing, or undefined when tracing is off.
 */
export function startTracing(
  bus: EventBus,
  options: TelemetryOptions | false | undefined,
  redactor?: Redactor,
): TracingHandle | undefined {
  if (options === false) return undefined;
  const tracer = new EventTracer((options?.tracer as Tracer | undefined) ?? defaultTracer(), {
    recordContent: options?.recordContent,
    redactor,
  });
  const unsubscribe = bus.subscribe(tracer.listener);
  return {
    withRun<T>(runId: string, body: () => T): T {
      const runContext: Context | undefined = tracer.runContext(runId);
      return runContext ? context.with(runContext, body) : body();
    },
    stop(): void {
      unsubscribe();
      tracer.endUnfinished();
    },
  };
}

/**
 * Checks a `telemetry` option at the boundary.
 *
 * @param value The option's value.
 * @param optionName Where it was given, for the error message.
 */
export function validateTelemetryOptions(value: unknown, optionName = "telemetry"): void {
  if (value === undefined || value === false) return;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Option "${optionName}" must be false or an object such as { tracer, recordContent }, got ${describe(value)}`,
    );
  }
  for (const key of Object.keys(value)) {
    if (key !== "tracer" && key !== "recordContent") {
      throw new TypeError(`Unknown ${optionName} option "${key}": known options are tracer, recordContent`);
    }
  }
  const { tracer, recordContent } = value as { tracer?: unknown; recordContent?: unknown };
  if (tracer !== undefined && typeof (tracer as { startSpan?: unknown } | null)?.startSpan !== "function") {
    throw new TypeError(
      `Option "${optionName}.tracer" must be an OpenTelemetry Tracer (with startSpan), such as provider.getTracer("my-app"), got ${
        describe(tracer)
      }`,
    );
  }
  if (recordContent !== undefined && typeof recordContent !== "boolean") {
    throw new TypeError(
      `Option "${optionName}.recordContent" must be true or false, got ${describe(recordContent)}`,
    );
  }
}

function describe(value: unknown): string {
  if (value === null || typeof value !== "object") return typeof value === "string" ? `"${value}"` : String(value);
  return Array.isArray(value) ? "a list" : "an object";
}
