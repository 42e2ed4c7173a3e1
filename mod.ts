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
export type { McpHttpServer, McpServerCommon, McpServerConfig, McpStdioServer } from "./src/tools/mcp/mcp_servers.ts";
export type { KvStoreSpec, PostgresStoreSpec, StoreSpec } from "./src/store/create_store.ts";
export { createAgent, isCreatedAgent } from "./src/agent/create_agent.ts";
export type { AgentConfig, AgentCreateContext, CreatedAgent } from "./src/agent/create_agent.ts";
export { runWorkflow } from "./src/agent/workflow.ts";
export { dispatch } from "./src/agent/dispatch.ts";
export type { DispatchRequest, DispatchResult } from "./src/agent/dispatch.ts";
export { DispatchWorker } from "./src/agent/dispatch_worker.ts";
export { currentDispatch } from "./src/agent/current_dispatch.ts";
export type { DispatchBackoff, DispatchSettlement, DispatchWorkerOptions } from "./src/agent/dispatch_worker.ts";
export type { AgentResolver } from "./src/agent/agent_resolver.ts";
export { AgentPool } from "./src/agent/agent_pool.ts";
export type { AgentDeclaration, AgentPoolOptions } from "./src/agent/agent_pool.ts";
export { createApp } from "./src/server/app.ts";
export type {
  CloseAppOptions,
  CreateAppOptions,
  FlueApp,
  FlueAppExtras,
  MountableApp,
  WebhookMountContext,
} from "./src/server/app.ts";
export { createProjectApp } from "./src/server/project_app.ts";
export type { ProjectAppOptions } from "./src/server/project_app.ts";
export type { Platform } from "./src/server/platform.ts";
export type { CorsOptions } from "./src/server/cors.ts";
export { serve } from "./src/server/serve.ts";
export type { AnsweredRequest, FlueServer, ServeOptions } from "./src/server/serve.ts";
export type { ErrorBody, ErrorEnvelope } from "./src/server/errors.ts";
export type { RouteInfo } from "./src/server/route_table.ts";
export { webhookRoutes } from "./src/server/webhooks/webhook_routes.ts";
export type { WebhookDispatchContext, WebhookRoutesOptions } from "./src/server/webhooks/webhook_routes.ts";
export type {
  ChatPlatformOptions,
  WebhookDefinition,
  WebhookDelivery,
  WebhookReply,
} from "./src/server/webhooks/webhook_config.ts";
export type { JsonWebKeySet } from "./src/server/webhooks/chat_platforms.ts";
export type { ReplyTarget } from "./src/server/webhooks/_platform_deliveries.ts";
export { verifySignature } from "./src/server/webhooks/signatures.ts";
export type {
  HmacVerifier,
  Verification,
  VerificationFailure,
  VerifyOptions,
  WebhookVerifier,
} from "./src/server/webhooks/signatures.ts";
export { replyTool } from "./src/server/webhooks/reply_tool.ts";
export type { ReplyInput, ReplyToolOptions } from "./src/server/webhooks/reply_tool.ts";
export { FlueClient } from "./src/client/flue_client.ts";
export type {
  ClientEventStream,
  DispatchCallOptions,
  DispatchReceiptResponse,
  DispatchView,
  FlueClientOptions,
  FollowRunOptions,
  HistoryPage,
  ListRunsQuery,
  RunEventsOptions,
  RunEventsPage,
  RunsPage,
  SessionCallOptions,
} from "./src/client/flue_client.ts";
export { FlueClientError } from "./src/client/client_error.ts";
export type { WorkflowPayload, WorkflowResult, WorkflowShape, WorkflowTypes } from "./src/client/workflow_types.ts";
export type { ClientFrame, ServerFrame } from "./src/server/websocket_protocol.ts";
export type {
  FlueContext,
  FlueLogger,
  RunWorkflowOptions,
  WorkflowModule,
  WorkflowRunResult,
} from "./src/agent/workflow.ts";
export type { OpenTelemetryTracer, TelemetryOptions } from "./src/telemetry/tracing.ts";
export { CallHandle } from "./src/session/call_handle.ts";
export type {
  CompactOptions,
  CompactResult,
  EventStream,
  PromptOptions,
  PromptResponse,
  PromptResultResponse,
  Session,
  SessionFs,
  SessionOptions,
  ShellOptions,
  SkillOptions,
  SkillResponse,
  TypedPromptOptions,
  TypedSkillOptions,
} from "./src/session/session_types.ts";
export type {
  TaskInfo,
  TaskOptions,
  TaskResponse,
  TaskResultResponse,
  TypedTaskOptions,
} from "./src/session/task_call.ts";
export type { SubagentProfile } from "./src/session/subagent_profile.ts";
export type { RoleDefinition } from "./src/project/roles.ts";
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
export { AiSdkModel, aiSdkModel } from "./src/harness/ai_sdk/ai_sdk_model.ts";
export type { AiSdkLanguageModel, AiSdkModelOptions } from "./src/harness/ai_sdk/ai_sdk_model.ts";
export { callWithCompaction } from "./src/harness/call_with_compaction.ts";
export type { CompactedCall } from "./src/harness/call_with_compaction.ts";
export type { CompactionOptions, CompactionReason } from "./src/session/compaction.ts";
export { isContextOverflowError } from "./src/model/context_overflow.ts";
export { defaultContextWindow } from "./src/model/context_window.ts";
export { registerProvider } from "./src/model/providers.ts";
export type { ProviderSettings } from "./src/model/providers.ts";
export { DEFAULT_CONTEXT_WINDOW } from "./src/model/chat_model.ts";
export type {
  ChatModel,
  ModelCallContext,
  ModelEndpoint,
  ModelReply,
  ModelRequest,
  ResponseFormat,
  StopReason,
  ThinkingLevel,
  ToolSchema,
} from "./src/model/chat_model.ts";
export type { Message, ToolCall, Usage } from "./src/model/message.ts";
export { DEFAULT_PRICES } from "./src/model/prices.ts";
export type { ModelPrice, PriceTable } from "./src/model/prices.ts";
export type { BudgetLimits } from "./src/session/operation_budget.ts";
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
export { remoteSandbox } from "./src/sandbox/remote/remote_providers.ts";
export type { RemoteSandboxName, RemoteSandboxOptionsByName } from "./src/sandbox/remote/remote_providers.ts";
export type {
  DaytonaProviderOptions,
  DenoSandboxProviderOptions,
  E2BProviderOptions,
} from "./src/sandbox/remote/remote_options.ts";
export type { RemoteLifecycleOptions } from "./src/sandbox/remote/remote_sandbox.ts";
export type { RemoteSandboxIds, RemoteSandboxKey } from "./src/sandbox/remote/remote_sandbox_ids.ts";
export { MemoryStore } from "./src/store/memory_store.ts";
export { SqliteStore } from "./src/store/sqlite_store.ts";
export { PostgresStore } from "./src/store/postgres_store.ts";
export type { PostgresStoreOptions } from "./src/store/postgres_store.ts";
export { KvStore } from "./src/store/kv_store.ts";
export type { KvStoreOptions } from "./src/store/kv_store.ts";
export type {
  EntrySource,
  HistoryEntry,
  LoadOptions,
  NewHistoryEntry,
  RunEventQuery,
  RunQuery,
  RunRecord,
  RunStatus,
  SessionKey,
  Store,
} from "./src/store/store.ts";
export type {
  ClaimOptions,
  DispatchAttempt,
  DispatchError,
  DispatchQuery,
  DispatchQueue,
  DispatchReceipt,
  DispatchRecord,
  DispatchStatus,
  NewDispatch,
} from "./src/store/dispatch_queue.ts";
export {
  AbortError,
  BudgetExceededError,
  ModelError,
  NotFoundError,
  PolicyDeniedError,
  ResultValidationError,
  SandboxUnavailableError,
} from "./src/errors.ts";
export type { BudgetName, ResultIssue } from "./src/errors.ts";
export type { Schema, SchemaParseResult } from "./src/output/schema.ts";

if (import.meta.main) {
  const { runMain } = await import("./src/cli/main.ts");
  Deno.exit(await runMain(Deno.args));
}
