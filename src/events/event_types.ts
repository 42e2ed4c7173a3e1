/**
 * The typed event union every operation emits. The same stream feeds `session.stream`, `onEvent`, run logs, SSE,
 * WebSocket and traces.
 *
 * @module
 */

import type { Usage } from "../model/message.ts";

/** Correlation fields carried by every event. */
export interface EventCorrelation {
  /** The workflow run, when the event belongs to one. */
  runId?: string;
  /** The agent's name. */
  agent: string;
  /** The agent instance id. */
  instanceId: string;
  /** The session name, when the event belongs to a session. */
  session?: string;
  /** The operation (prompt, skill, task, shell, compact) the event belongs to. */
  operationId?: string;
  /** The model turn the event belongs to. */
  turnId?: string;
  /** The subagent task the event belongs to. */
  taskId?: string;
  /** Position in the emitting agent instance's (or run's) stream, from 0, strictly increasing. */
  eventIndex: number;
  /** ISO 8601 time the event was emitted. */
  timestamp: string;
}

/** The kinds of operation a session runs. */
export type OperationKind = "prompt" | "skill" | "task" | "shell" | "compact";

/** An error as it travels in events: plain data, safe to serialise. */
export interface EventError {
  /** The error class name. */
  name: string;
  /** The message, with secrets redacted. */
  message: string;
}

/** The payload of each event type, without correlation fields. */
export type EventPayload =
  | { type: "run_start"; workflow: string; payload: unknown }
  | { type: "run_end"; workflow: string; isError: boolean; result?: unknown; error?: EventError; durationMs: number }
  | { type: "operation_start"; operationKind: OperationKind }
  | {
    type: "operation";
    operationKind: OperationKind;
    durationMs: number;
    usage?: Usage;
    result?: unknown;
  }
  | { type: "turn_start"; turnId: string; model: string }
  | { type: "turn"; turnId: string; model: string; usage: Usage; durationMs: number; stopReason: string }
  | { type: "text_delta"; turnId: string; text: string }
  | { type: "thinking_delta"; turnId: string; text: string }
  | { type: "tool_start"; turnId?: string; toolName: string; toolCallId: string; args: unknown }
  | {
    type: "tool_end";
    turnId?: string;
    toolName: string;
    toolCallId: string;
    isError: boolean;
    result: string;
    durationMs: number;
  }
  | {
    type: "task_start";
    taskId: string;
    prompt: string;
    role?: string;
    /** The subagent profile, when the task names one. */
    subagent?: string;
    /** 1 for a task started by a session opened with `agent.session`, one more for each nesting. */
    depth: number;
    /** The child session's name, under which its history is stored. */
    childSession: string;
    /**
     * The calling session's own task, when it is itself a task's session. (The correlation field `taskId` of a task
     * event is the payload's: the task it starts or ends.)
     */
    parentTaskId?: string;
  }
  | {
    type: "task_end";
    taskId: string;
    isError: boolean;
    result?: unknown;
    /** Why the task failed or was aborted. */
    error?: EventError;
    durationMs: number;
    /** The calling session's own task, when it is itself a task's session. */
    parentTaskId?: string;
  }
  | { type: "command_start"; command: string; toolCallId?: string }
  | { type: "command_end"; command: string; exitCode: number; durationMs: number; toolCallId?: string }
  | { type: "compaction_start"; reason: "threshold" | "overflow" | "manual"; estimatedTokens: number }
  | { type: "compaction"; messagesBefore: number; messagesAfter: number; durationMs: number }
  | { type: "log"; level: "debug" | "info" | "warn" | "error"; message: string; attributes?: Record<string, unknown> }
  | { type: "aborted"; operationKind?: OperationKind; reason?: string }
  | { type: "error"; operationKind?: OperationKind; error: EventError }
  | { type: "idle" };

/** Every event type name. */
export type EventType = EventPayload["type"];

/** An event: a payload plus correlation fields. */
export type FlueEvent = EventPayload & EventCorrelation;

/** An event of one type. */
export type EventOf<T extends EventType> = Extract<FlueEvent, { type: T }>;

/** Receives events as they are emitted. */
export type EventCallback = (event: FlueEvent) => void;

/**
 * The events that end an operation: exactly one of them closes each operation, on success, failure or abort.
 *
 * @param event Any event.
 * @returns Whether it ends its operation.
 */
export function isTerminalEvent(event: FlueEvent): boolean {
  return event.type === "operation" || event.type === "error" || event.type === "aborted";
}
