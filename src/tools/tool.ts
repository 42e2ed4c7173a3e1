/**
 * Tools the model can call: `defineTool` for custom ones, and the `FlueTool` shape the built-in ones share.
 *
 * @module
 */

import type { Schema } from "../output/schema.ts";
import type { EventPayload } from "../events/event_types.ts";

/** What a tool's `run` receives besides its input. */
export interface ToolContext {
  /** Aborted when the operation is cancelled; pass it to anything long-running. */
  signal: AbortSignal;
  /** The model's id for this call. */
  toolCallId: string;
  /** Emits an event correlated with the running operation. */
  emit: (event: EventPayload) => void;
  /**
   * The most milliseconds this call may take (`toolTimeoutMs`, `docs/budgets.md`), when a limit is set. A tool that can
   * stop its work and keep what it has done (a command's output so far) should do so then; one still running shortly
   * after is aborted through `signal`.
   */
  timeoutMs?: number;
}

/** A tool the model can call. */
export interface FlueTool<Input = unknown> {
  /** The name the model calls it by: letters, digits, `_` and `-`, at most 64 characters. */
  readonly name: string;
  /** What it does, for the model. */
  readonly description: string;
  /** The zod schema of its input (any `Schema`); invalid input from the model becomes a tool error, never a crash. */
  readonly input: Schema<Input>;
  /**
   * Runs the tool. A string is given to the model as it is; any other value as JSON. A thrown error becomes a tool error
   * the model sees.
   *
   * @param input The validated input.
   * @param context The signal, call id and event emitter.
   * @returns The result for the model.
   */
  run(input: Input, context: ToolContext): unknown | Promise<unknown>;
}

/** The options of {@linkcode defineTool}. */
export interface ToolDefinition<Input> {
  /** The name the model calls it by. */
  name: string;
  /** What it does, for the model. */
  description: string;
  /** The zod schema of its input. */
  input: Schema<Input>;
  /** Runs the tool. */
  run(input: Input, context: ToolContext): unknown | Promise<unknown>;
}

const TOOL_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * Defines a tool the model can call.
 *
 * @example Usage
 * ```ts
 * import { defineTool } from "./tool.ts";
 * import { z } from "zod";
 *
 * const weather = defineTool({
 *   name: "weather",
 *   description: "Current weather for a city",
 *   input: z.object({ city: z.string() }),
 *   run: ({ city }) => `Sunny in ${city}`,
 * });
 * if (weather.name !== "weather") throw new Error("unexpected");
 * ```
 *
 * @param definition Name, description, input schema and `run`.
 * @returns The tool.
 */
export function defineTool<Input>(definition: ToolDefinition<Input>): FlueTool<Input> {
  if (!TOOL_NAME.test(definition.name)) {
    throw new TypeError(
      `Invalid tool name "${definition.name}": use a letter, then letters, digits, "_" or "-" (at most 64)`,
    );
  }
  if (typeof definition.description !== "string" || definition.description.trim() === "") {
    throw new TypeError(`Tool "${definition.name}" needs a description for the model`);
  }
  if (typeof definition.run !== "function") throw new TypeError(`Tool "${definition.name}" needs a run function`);
  return Object.freeze({
    name: definition.name,
    description: definition.description,
    input: definition.input,
    run: definition.run,
  });
}
