/**
 * Span names and attributes for Flue's events, after the OpenTelemetry GenAI semantic conventions (`gen_ai.*`), with
 * `flue.*` for what the conventions do not name. Content (prompts, arguments, results, model text) is built only when
 * the caller opted in, and always from events that were already redacted.
 *
 * @module
 */

import type { Attributes } from "@opentelemetry/api";
import type { EventOf, FlueEvent, OperationKind } from "../events/event_types.ts";
import type { Usage } from "../model/message.ts";

/** Content attributes longer than this are cut, so one large tool result cannot bloat every exported batch. */
export const MAX_CONTENT_CHARS = 8192;

/** Error types set on spans that did not end on their own event. */
export const UNFINISHED_ERROR = "unfinished";
/** The error type of a tool call that returned an error result. */
export const TOOL_ERROR = "tool_error";
/** The error type of a task that ended with an error whose class is not known. */
export const TASK_ERROR = "task_error";
/** The error type of an aborted operation, matching the `AbortError` its caller receives. */
export const ABORT_ERROR = "AbortError";

const TOOL_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

// Operation kinds that invoke the agent's model loop; the others (shell, compact) are named for what they do.
const AGENT_KINDS: ReadonlySet<OperationKind> = new Set(["prompt", "skill", "task"]);

/**
 * Splits a model string into the GenAI provider and model names.
 *
 * @param model `provider:model`, or a bare id such as `test`.
 * @returns The provider (the bare id itself when there is no prefix) and the model.
 */
export function splitModel(model: string): { provider: string; model: string } {
  const colon = model.indexOf(":");
  if (colon <= 0) return { provider: model, model };
  return { provider: model.slice(0, colon), model: model.slice(colon + 1) };
}

/**
 * The name and attributes of an operation's span.
 *
 * @param event The `operation_start` event.
 * @returns Its span name and attributes.
 */
export function operationSpan(event: EventOf<"operation_start">): { name: string; attributes: Attributes } {
  const kind = event.operationKind;
  const attributes: Attributes = {
    ...agentAttributes(event),
    "flue.operation.id": event.operationId,
    "flue.operation.kind": kind,
  };
  if (event.runId) attributes["flue.run.id"] = event.runId;
  if (event.taskId) attributes["flue.task.id"] = event.taskId;
  if (AGENT_KINDS.has(kind)) {
    attributes["gen_ai.operation.name"] = "invoke_agent";
    return { name: `invoke_agent ${event.agent}`, attributes };
  }
  return { name: `${kind} ${event.agent}`, attributes };
}

/**
 * The name and attributes of a model turn's span.
 *
 * @param event The `turn_start` event.
 * @returns Its span name and attributes.
 */
export function chatSpan(event: EventOf<"turn_start">): { name: string; attributes: Attributes } {
  const { provider, model } = splitModel(event.model);
  return {
    name: `chat ${model}`,
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": provider,
      // The pre-1.37 name of the provider attribute, still read by many backends.
      "gen_ai.system": provider,
      "gen_ai.request.model": model,
      "gen_ai.agent.name": event.agent,
      "gen_ai.conversation.id": conversationId(event),
      "flue.turn.id": event.turnId,
    },
  };
}

/**
 * The attributes a finished turn adds: the model that answered, why it stopped, and token usage.
 *
 * @param event The `turn` event.
 * @returns Attributes for the chat span.
 */
export function turnEndAttributes(event: EventOf<"turn">): Attributes {
  return {
    "gen_ai.response.model": splitModel(event.model).model,
    "gen_ai.response.finish_reasons": [event.stopReason],
    ...usageAttributes(event.usage),
  };
}

/**
 * Token usage as GenAI attributes, and its cost as `flue.usage.cost_usd` when known.
 *
 * @param usage Tokens used, if known.
 * @returns The attributes, empty when usage is unknown.
 */
export function usageAttributes(usage: Usage | undefined): Attributes {
  if (!usage) return {};
  const attributes: Attributes = {
    "gen_ai.usage.input_tokens": usage.inputTokens,
    "gen_ai.usage.output_tokens": usage.outputTokens,
  };
  if (usage.costUsd !== undefined) attributes["flue.usage.cost_usd"] = usage.costUsd;
  return attributes;
}

/**
 * The name and attributes of a tool call's span.
 *
 * @param event The `tool_start` event.
 * @returns Its span name and attributes.
 */
export function toolSpan(event: EventOf<"tool_start">): { name: string; attributes: Attributes } {
  const attributes: Attributes = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": event.toolName,
    "gen_ai.tool.call.id": event.toolCallId,
    "gen_ai.tool.type": "function",
    "gen_ai.agent.name": event.agent,
  };
  if (event.turnId) attributes["flue.turn.id"] = event.turnId;
  // The model picks the name, possibly one no tool has: only a plausible tool name goes into the span name.
  const name = TOOL_NAME.test(event.toolName) ? `execute_tool ${event.toolName}` : "execute_tool";
  return { name, attributes };
}

/**
 * The name and attributes of a subagent task's span.
 *
 * @param event The `task_start` event.
 * @returns Its span name and attributes.
 */
export function taskSpan(event: EventOf<"task_start">): { name: string; attributes: Attributes } {
  const attributes: Attributes = {
    ...agentAttributes(event),
    "flue.task.id": event.taskId,
    "flue.task.depth": event.depth,
    "flue.task.session": event.childSession,
  };
  if (event.subagent) attributes["flue.task.subagent"] = event.subagent;
  if (event.role) attributes["flue.task.role"] = event.role;
  // Subagent and role names come from configuration, so they keep span names low in cardinality.
  const label = event.subagent ?? event.role;
  return { name: label ? `task ${label}` : "task", attributes };
}

/**
 * The name and attributes of a command's span. The name holds only the program, never its arguments.
 *
 * @param event The `command_start` event.
 * @returns Its span name and attributes.
 */
export function commandSpan(event: EventOf<"command_start">): { name: string; attributes: Attributes } {
  const program = programOf(event.command);
  return {
    name: `command ${program}`,
    attributes: { "process.executable.name": program, "gen_ai.agent.name": event.agent },
  };
}

/**
 * The name and attributes of a workflow run's span.
 *
 * @param event The `run_start` event.
 * @returns Its span name and attributes.
 */
export function workflowSpan(event: EventOf<"run_start">): { name: string; attributes: Attributes } {
  return {
    name: `invoke_workflow ${event.workflow}`,
    attributes: {
      "gen_ai.operation.name": "invoke_workflow",
      "gen_ai.workflow.name": event.workflow,
      "flue.run.id": event.runId ?? "",
      "flue.instance.id": event.instanceId,
    },
  };
}

/**
 * Text for a content attribute: strings as they are, other values as JSON, cut at {@linkcode MAX_CONTENT_CHARS}.
 *
 * @param value Content from an (already redacted) event.
 * @returns The attribute value.
 */
export function contentValue(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > MAX_CONTENT_CHARS ? `${text.slice(0, MAX_CONTENT_CHARS)}…[truncated]` : text;
}

/**
 * Model output as the GenAI `gen_ai.output.messages` attribute (a JSON string).
 *
 * @param text The assistant text.
 * @param finishReason Why the model stopped, when known.
 * @returns The attribute value.
 */
export function outputMessages(text: string, finishReason?: string): string {
  const message: Record<string, unknown> = {
    role: "assistant",
    parts: [{ type: "text", content: contentValue(text) }],
  };
  if (finishReason) message.finish_reason = finishReason;
  return JSON.stringify([message]);
}

function agentAttributes(event: FlueEvent): Attributes {
  const attributes: Attributes = { "gen_ai.agent.name": event.agent, "gen_ai.agent.id": event.instanceId };
  if (event.session !== undefined) attributes["gen_ai.conversation.id"] = conversationId(event);
  return attributes;
}

// A session name is only unique within its agent instance; the conversation id must be unique across them.
function conversationId(event: FlueEvent): string {
  return `${event.agent}/${event.instanceId}/${event.session ?? ""}`;
}

// The program of a command line, for a low-cardinality span name: environment assignments (`A=b cmd`) are skipped so
// their values never reach a name, and a path is reduced to its last part.
function programOf(command: string): string {
  const words = command.trim().split(/\s+/);
  const word = words.find((candidate) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(candidate)) ?? "";
  const program = word.slice(word.lastIndexOf("/") + 1).replace(/^['"]|['"]$/g, "");
  if (program === "" || program.length > 64) return "unknown";
  return program;
}
