/**
 * The `ai-sdk` harness: the AI SDK's own tool loop (`streamText` with `stopWhen`) runs each operation, and every SDK
 * step becomes a Flue turn with the same events, commits, limits and errors as the built-in `flue` harness. Tools run
 * through Flue's own tool execution, so argument validation, policies, redaction and tool errors behave the same.
 *
 * Loaded on first use by `ai_sdk_harness_entry.ts`, so agents on the `flue` harness never load the AI SDK.
 *
 * @module
 */

import { getErrorMessage, type JSONValue, type LanguageModelV4StreamPart } from "@ai-sdk/provider";
import {
  type CallWarning,
  isStepCount,
  jsonSchema,
  type LanguageModelMiddleware,
  Output,
  simulateStreamingMiddleware,
  type StepResult,
  streamText,
  tool,
  type ToolSet,
  wrapLanguageModel,
} from "ai";
import { newId } from "../../_id.ts";
import { abortErrorFrom } from "../../errors.ts";
import { isContextOverflowError } from "../../model/context_overflow.ts";
import type { ModelCallContext, StopReason } from "../../model/chat_model.ts";
import { addUsage, emptyUsage, type Message, type Usage } from "../../model/message.ts";
import {
  executeToolCall,
  parseToolArguments,
  type ToolCallOutcome,
  toolSchemaOf,
} from "../../tools/execute_tool_call.ts";
import type { FlueTool } from "../../tools/tool.ts";
import { MaxTurnsError } from "../flue_harness.ts";
import type { Harness, HarnessRequest, HarnessResult } from "../harness.ts";
import { toFlueError } from "./_flue_error.ts";
import { languageModelFor } from "./_language_model_for.ts";
import { argumentsText, toModelConversation } from "./_message_conversion.ts";
import { inputSchemaOf, reasoningOf, stopReasonOf, usageOf } from "./_sdk_values.ts";

/** One SDK step as a Flue turn. */
interface Turn {
  turnId: string;
  started: number;
  /** The raw arguments text of each tool call, as the model sent it. */
  rawArguments: Map<string, string>;
  /** What the model receives for each tool call. */
  outcomes: Map<string, { content: string; isError: boolean }>;
  modelId?: string;
  /** Whether the provider reported an error in the stream; such a turn is neither reported nor committed. */
  failed: boolean;
}

/** The harness on the AI SDK. Select it with `harness: "ai-sdk"`. */
export class AiSdkHarness implements Harness {
  /** The registered name. */
  readonly name: string = "ai-sdk";

  /**
   * Runs one operation to its end.
   *
   * @param request The model, messages, tools and callbacks.
   * @returns The final text, summed usage, and the number of turns.
   * @throws {MaxTurnsError} When the model still calls tools after `maxTurns` turns.
   * @throws {ModelError} When the provider fails.
   * @throws {AbortError} When the request's signal aborts.
   */
  async run(request: HarnessRequest): Promise<HarnessResult> {
    const { model, signal, emit } = request;
    if (signal.aborted) throw abortErrorFrom(signal);
    const target = await languageModelFor(model);
    const usage = emptyUsage();
    let modelId = model.id;
    let turnCount = 0;
    let completedTurns = 0;
    let turn: Turn | undefined;
    let compacted: readonly Message[] | undefined;
    let lastText = "";
    let lastTurnCalledTools = false;
    let failure: { error: unknown } | undefined;
    // Stops the SDK when a commit fails; the SDK swallows errors thrown by its callbacks.
    const stopping = new AbortController();
    const toolNames = request.tools.map((flueTool) => flueTool.name);

    const observeModelCall = (part: LanguageModelV4StreamPart, current: Turn): void => {
      switch (part.type) {
        case "text-delta":
          if (part.delta) emit({ type: "text_delta", turnId: current.turnId, text: part.delta });
          break;
        case "reasoning-delta":
          if (part.delta) emit({ type: "thinking_delta", turnId: current.turnId, text: part.delta });
          break;
        case "tool-call":
          current.rawArguments.set(part.toolCallId, part.input);
          break;
        case "response-metadata":
          if (part.modelId) current.modelId = part.modelId;
          break;
        case "error":
          current.failed = true;
          break;
        case "finish": {
          if (current.failed) break;
          const turnUsage: Usage = usageOf(part.usage);
          addUsage(usage, turnUsage);
          modelId = current.modelId || modelId;
          emit({
            type: "turn",
            turnId: current.turnId,
            model: modelId,
            usage: turnUsage,
            durationMs: performance.now() - current.started,
            stopReason: stopReasonOf(part.finishReason.unified),
          });
          break;
        }
      }
    };
    // Events come from the model's own stream, so `turn` follows the last delta and precedes every tool call, which
    // the SDK starts only once the model call has ended.
    const observer: LanguageModelMiddleware = {
      specificationVersion: "v4",
      wrapStream: async ({ doStream }) => {
        const current = turn!;
        const result = await doStream();
        const stream = result.stream.pipeThrough(
          new TransformStream<LanguageModelV4StreamPart, LanguageModelV4StreamPart>({
            transform(part, controller) {
              observeModelCall(part, current);
              controller.enqueue(part);
            },
          }),
        );
        return { ...result, stream };
      },
    };

    const runTool = async (flueTool: FlueTool<unknown>, toolCallId: string): Promise<ToolCallOutcome> => {
      const current = turn!;
      const raw = current.rawArguments.get(toolCallId) ?? "{}";
      const parsed = parseToolArguments(raw);
      const started = performance.now();
      emit({
        type: "tool_start",
        turnId: current.turnId,
        toolName: flueTool.name,
        toolCallId,
        args: parsed.ok ? parsed.value : raw,
      });
      const call = { id: toolCallId, name: flueTool.name, arguments: raw };
      const outcome = await executeToolCall(flueTool, call, { signal, toolCallId, emit }, toolNames);
      emit({
        type: "tool_end",
        turnId: current.turnId,
        toolName: flueTool.name,
        toolCallId,
        isError: outcome.isError,
        result: outcome.content,
        durationMs: performance.now() - started,
      });
      current.outcomes.set(toolCallId, outcome);
      return outcome;
    };
    const tools: ToolSet = {};
    for (const flueTool of request.tools) {
      tools[flueTool.name] = tool({
        description: flueTool.description,
        inputSchema: inputSchemaOf(toolSchemaOf(flueTool).parameters),
        execute: (_input: unknown, { toolCallId }) => runTool(flueTool, toolCallId),
        toModelOutput: ({ output }: { output: ToolCallOutcome }) =>
          output.isError ? { type: "error-text", value: output.content } : { type: "text", value: output.content },
      });
    }

    const commitTurn = async (step: StepResult<ToolSet>): Promise<void> => {
      const current = turn!;
      for (const warning of step.warnings ?? []) {
        emit({ type: "log", level: "warn", message: `AI SDK warning: ${describeWarning(warning)}` });
      }
      // A failed or cancelled turn leaves no trace in the history, as with the `flue` harness.
      if (current.failed || step.finishReason === "error" || signal.aborted || failure) return;
      const calls = step.toolCalls.map((call) => ({
        id: call.toolCallId,
        name: call.toolName,
        arguments: current.rawArguments.get(call.toolCallId) ?? argumentsText(call.input),
      }));
      const assistant: Message = calls.length
        ? { role: "assistant", content: step.text, toolCalls: calls }
        : { role: "assistant", content: step.text };
      const results = calls.map((call): Message => {
        const outcome = current.outcomes.get(call.id) ?? notRun(stopReasonOf(step.finishReason));
        return outcome.isError
          ? { role: "tool", toolCallId: call.id, name: call.name, content: outcome.content, isError: true }
          : { role: "tool", toolCallId: call.id, name: call.name, content: outcome.content };
      });
      try {
        compacted = (await request.commit([assistant, ...results])) ?? undefined;
      } catch (error) {
        failure ??= { error };
        stopping.abort(error);
        return;
      }
      completedTurns++;
      lastText = step.text;
      lastTurnCalledTools = calls.length > 0 && calls.every((call) => current.outcomes.has(call.id));
    };

    const format = request.responseFormat;
    // A non-streaming call asks the provider for the whole reply (`doGenerate`, as `generateText` would) and replays
    // it as one stream, so the one tool loop below serves both and the events are the same at message granularity.
    const streams = request.stream ?? request.model.endpoint?.stream ?? true;
    const middleware = streams ? observer : [observer, simulateStreamingMiddleware()];
    const streamFrom = async (
      messages: readonly Message[],
      turnsLeft: number,
    ): Promise<{ error: unknown } | undefined> => {
      const conversation = toModelConversation(messages);
      const result = streamText({
        model: wrapLanguageModel({ model: target.model, middleware }),
        instructions: conversation.instructions,
        messages: conversation.messages,
        // The messages are Flue's own history (a compaction summary is a system message), never a user's raw input.
        allowSystemInMessages: true,
        tools,
        stopWhen: isStepCount(turnsLeft),
        ...(format ? { output: Output.object({ schema: jsonSchema(format.schema), name: format.name }) } : {}),
        reasoning: reasoningOf(request.thinkingLevel),
        maxRetries: target.maxRetries,
        ...(target.timeoutMs ? { timeout: { firstChunkMs: target.timeoutMs, chunkMs: target.timeoutMs } } : {}),
        ...providerOptionsFor(target.providerOptions, request.operation),
        abortSignal: AbortSignal.any([signal, stopping.signal]),
        prepareStep: () => {
          // The session compacted its history while committing the last turn: continue from the compacted one.
          if (!compacted) return undefined;
          const next = toModelConversation(compacted);
          compacted = undefined;
          return { instructions: next.instructions, messages: next.messages };
        },
        onStepStart: () => {
          turnCount++;
          turn = {
            turnId: newId("turn"),
            started: performance.now(),
            rawArguments: new Map(),
            outcomes: new Map(),
            failed: false,
          };
          emit({ type: "turn_start", turnId: turn.turnId, model: model.id });
        },
        onLanguageModelCallEnd: ({ content }) => {
          // Calls the SDK refused before running them (an unknown tool, arguments that are not JSON) still get the
          // tool events, and the error text the model receives.
          for (const part of content) {
            if (part.type !== "tool-call" || !part.invalid) continue;
            const message = getErrorMessage(part.error);
            const raw = turn!.rawArguments.get(part.toolCallId) ?? argumentsText(part.input);
            const parsed = parseToolArguments(raw);
            const common = { turnId: turn!.turnId, toolName: part.toolName, toolCallId: part.toolCallId };
            emit({ type: "tool_start", ...common, args: parsed.ok ? parsed.value : raw });
            emit({ type: "tool_end", ...common, isError: true, result: message, durationMs: 0 });
            turn!.outcomes.set(part.toolCallId, { content: message, isError: true });
          }
        },
        onStepEnd: commitTurn,
        // Errors are read from the stream below; the default handler would also print them.
        onError: () => {},
      });
      try {
        for await (const part of result.fullStream) {
          if (part.type === "error") failure ??= { error: part.error };
        }
      } catch (error) {
        failure ??= { error };
      }
      return failure;
    };

    let messages: readonly Message[] = request.messages;
    let overflowRetriedAt = -1;
    while (true) {
      failure = undefined;
      const failed = await streamFrom(messages, request.maxTurns - completedTurns);
      if (signal.aborted) throw abortErrorFrom(signal);
      if (!failed) break;
      const error = toFlueError(failed.error, model.provider);
      // A request refused as too long is retried once from the compacted history, as `callWithCompaction` does for
      // the `flue` harness; the turns already committed stay counted.
      if (
        !request.onContextOverflow || !isContextOverflowError(error) || overflowRetriedAt === completedTurns ||
        stopping.signal.aborted
      ) {
        throw error;
      }
      overflowRetriedAt = completedTurns;
      const retry = await request.onContextOverflow();
      if (!retry) throw error;
      messages = retry;
      compacted = undefined;
    }
    if (lastTurnCalledTools && completedTurns >= request.maxTurns) throw new MaxTurnsError(request.maxTurns);
    return { text: lastText, usage, model: modelId, turns: turnCount };
  }
}

function describeWarning(warning: CallWarning): string {
  if (warning.type === "unsupported" || warning.type === "compatibility") {
    return `${warning.type} feature "${warning.feature}"${warning.details ? `: ${warning.details}` : ""}`;
  }
  return warning.message;
}

// The SDK runs tools only after a reply that ended normally; a call in a reply cut off by the length limit is not run.
function notRun(stopReason: StopReason): { content: string; isError: boolean } {
  return { content: `Error: the tool was not run because the reply ended early (${stopReason})`, isError: true };
}

// The operation a call serves travels as provider options under "flue": provider packages read only their own key,
// and the adapter over Flue's own models hands it on as `ModelRequest.operation`.
function providerOptionsFor(
  base: Record<string, Record<string, boolean>> | undefined,
  operation: ModelCallContext | undefined,
): { providerOptions?: Record<string, Record<string, JSONValue>> } {
  if (!base && !operation) return {};
  const options: Record<string, Record<string, JSONValue>> = { ...base };
  if (operation) options.flue = { operation: JSON.parse(JSON.stringify(operation)) as JSONValue };
  return { providerOptions: options };
}
