/**
 * Runs one tool call from the model: parses and validates its arguments, runs the tool, and turns every failure into
 * a tool error the model can read, never a crash of the loop.
 *
 * @module
 */

import { z } from "zod";
import { AbortError } from "../errors.ts";
import type { ToolCall } from "../model/message.ts";
import type { ToolSchema } from "../model/chat_model.ts";
import type { FlueTool, ToolContext } from "./tool.ts";

/** The outcome of one tool call. */
export interface ToolCallOutcome {
  /** The text the model receives. */
  content: string;
  /** Whether the call failed. */
  isError: boolean;
  /** The parsed arguments, or the raw text when they did not parse. */
  args: unknown;
}

const schemaCache = new WeakMap<FlueTool<unknown>, ToolSchema>();
const parametersCache = new WeakMap<object, Record<string, unknown>>();

/**
 * The JSON-schema view of a tool the model receives. Computed once per tool, and the JSON Schema once per input
 * schema, which tools bound to different sandboxes share.
 *
 * @param tool The tool.
 * @returns Name, description and parameter schema.
 */
export function toolSchemaOf(tool: FlueTool<unknown>): ToolSchema {
  let schema = schemaCache.get(tool);
  if (!schema) {
    let parameters = parametersCache.get(tool.input);
    if (!parameters) {
      parameters = z.toJSONSchema(tool.input as unknown as z.ZodType, { unrepresentable: "any" }) as Record<
        string,
        unknown
      >;
      delete parameters.$schema;
      parametersCache.set(tool.input, parameters);
    }
    schema = { name: tool.name, description: tool.description, parameters };
    schemaCache.set(tool, schema);
  }
  return schema;
}

/**
 * Parses the raw JSON arguments of a tool call. An empty string means no arguments.
 *
 * @param raw The arguments text the model produced.
 * @returns The parsed value, or an error message for the model.
 */
export function parseToolArguments(raw: string): { ok: true; value: unknown } | { ok: false; message: string } {
  if (raw.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (error) {
    return {
      ok: false,
      message: `The arguments are not valid JSON (${
        (error as Error).message
      }): send one JSON object matching the schema`,
    };
  }
}

/**
 * Formats a tool's return value for the model: strings as they are, everything else as JSON.
 *
 * @param value What the tool returned.
 * @returns The text the model receives.
 */
export function formatToolResult(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "(no output)";
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Runs one tool call.
 *
 * @param tool The tool, or `undefined` when the model named one that is not offered.
 * @param call The model's call.
 * @param context Signal and emitter for the tool.
 * @param availableNames The offered tool names, for the unknown-tool message.
 * @returns What the model receives. Rejects only with `AbortError` when the operation was cancelled.
 */
export async function executeToolCall(
  tool: FlueTool<unknown> | undefined,
  call: ToolCall,
  context: ToolContext,
  availableNames: readonly string[],
): Promise<ToolCallOutcome> {
  const parsed = parseToolArguments(call.arguments);
  const args = parsed.ok ? parsed.value : call.arguments;
  if (!tool) {
    const known = availableNames.length ? availableNames.map((name) => `"${name}"`).join(", ") : "none";
    return { content: `Error: unknown tool "${call.name}"; the available tools are ${known}`, isError: true, args };
  }
  if (!parsed.ok) return { content: `Error: ${parsed.message}`, isError: true, args };
  const validation = tool.input.safeParse(parsed.value);
  if (!validation.success) {
    const issues = validation.error.issues
      .map((issue) => `${issue.path.length ? issue.path.join(".") : "(root)"}: ${issue.message}`)
      .join("; ");
    return { content: `Error: invalid arguments for "${tool.name}": ${issues}`, isError: true, args };
  }
  try {
    const value = await tool.run(validation.data, context);
    return { content: formatToolResult(value), isError: false, args };
  } catch (error) {
    if (context.signal.aborted) throw error instanceof AbortError ? error : new AbortError(undefined, { cause: error });
    const name = error instanceof Error ? error.name : "Error";
    const message = error instanceof Error ? error.message : String(error);
    return { content: `Error: ${name}: ${message}`, isError: true, args };
  }
}
