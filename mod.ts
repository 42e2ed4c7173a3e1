/**
 * Flue: agents and workflows for Deno. Persistent agents with stateful sessions, finite workflows, typed results
 * validated with zod, streaming events, abort, and a sandboxed filesystem and shell behind explicit policies that
 * map onto Deno permission flags and bubblewrap.
 *
 * @example A key-less agent with a tool and a typed result
 * ```ts
 * import { defineTool, init } from "./mod.ts";
 * import { z } from "zod";
 *
 * const add = defineTool({
 *   name: "add",
 *   description: "Adds two numbers",
 *   input: z.object({ a: z.number(), b: z.number() }),
 *   run: ({ a, b }) => String(a + b),
 * });
 * const agent = await init({ model: "test", tools: [add], store: "memory", sandbox: "memory" });
 * const session = await agent.session("demo");
 * const response = await session.prompt("Use add on two numbers", {
 *   result: z.object({ answer: z.string() }),
 * });
 * if (typeof response.data.answer !== "string") throw new Error("unexpected");
 * await agent.close();
 * ```
 *
 * Run as a program (`deno run -A jsr:@flue/cli init`), this module hands its arguments to the CLI.
 *
 * @module
 */

export { init } from "./src/agent/init.ts";
export type { Agent } from "./src/agent/init.ts";
export type { AgentOptions } from "./src/agent/agent_options.ts";
export type { StoreSpec } from "./src/store/create_store.ts";
export { createAgent, isCreatedAgent } from "./src/agent/create_agent.ts";
export type { AgentConfig, AgentCreateContext, CreatedAgent } from "./src/agent/create_agent.ts";
export { runWorkflow } from "./src/agent/workflow.ts";
export type {
  FlueContext,
  FlueLogger,
  RunWorkflowOptions,
  WorkflowModule,
  WorkflowRunResult,
} from "./src/agent/workflow.ts";
export { CallHandle } from "./src/session/call_handle.ts";
export type {
  EventStream,
  PromptOptions,
  PromptResponse,
  PromptResultResponse,
  Session,
  SessionFs,
  ShellOptions,
  TypedPromptOptions,
} from "./src/session/session_types.ts";
export { defineTool } from "./src/tools/tool.ts";
export type { FlueTool, ToolContext, ToolDefinition } from "./src/tools/tool.ts";
export { defineCommand } from "./src/tools/define_command.ts";
export type { ArgvTemplate, CommandContext, CommandDefinition, FlueCommand } from "./src/tools/define_command.ts";
export { BUILTIN_TOOL_NAMES } from "./src/tools/sandbox_tools.ts";
export { runCode } from "./src/tools/code/code_tool.ts";
export type { CodeLanguage, CodeResult, CodeToolOptions, RunCodeOptions } from "./src/tools/code/code_tool.ts";
export { registerHarness } from "./src/harness/registry.ts";
export type { Harness, HarnessFactory, HarnessRequest, HarnessResult } from "./src/harness/harness.ts";
export { MaxTurnsError } from "./src/harness/flue_harness.ts";
export { registerProvider } from "./src/model/providers.ts";
export type { ProviderSettings } from "./src/model/providers.ts";
export type {
  ChatModel,
  ModelReply,
  ModelRequest,
  ResponseFormat,
  StopReason,
  ThinkingLevel,
  ToolSchema,
} from "./src/model/chat_model.ts";
export type { Message, ToolCall, Usage } from "./src/model/message.ts";
export type {
  EventCallback,
  EventCorrelation,
  EventError,
  EventOf,
  EventPayload,
  EventType,
  FlueEvent,
  OperationKind,
} from "./src/events/event_types.ts";
export { isTerminalEvent } from "./src/events/event_types.ts";
export { registerSandbox } from "./src/sandbox/registry.ts";
export type {
  DirEntry,
  ExecOptions,
  FileStat,
  Sandbox,
  SandboxContext,
  SandboxFactory,
  SandboxPolicy,
  ShellResult,
} from "./src/sandbox/sandbox.ts";
export { MemoryStore } from "./src/store/memory_store.ts";
export { SqliteStore } from "./src/store/sqlite_store.ts";
export type {
  EntrySource,
  HistoryEntry,
  LoadOptions,
  NewHistoryEntry,
  RunEventQuery,
  RunRecord,
  RunStatus,
  SessionKey,
  Store,
} from "./src/store/store.ts";
export {
  AbortError,
  ModelError,
  NotFoundError,
  PolicyDeniedError,
  ResultValidationError,
  SandboxUnavailableError,
} from "./src/errors.ts";
export type { ResultIssue } from "./src/errors.ts";
export type { Schema, SchemaParseResult } from "./src/output/schema.ts";

if (import.meta.main) {
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
