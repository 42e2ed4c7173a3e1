/**
 * The built-in harness, `flue`: the model loop. Each turn calls the model once with the whole conversation, runs the
 * tool calls of the reply concurrently, commits the turn's messages, and goes on until the model answers without
 * tools or `maxTurns` is reached. When the session compacts the history (at commit, or after the provider refused a
 * request as too long), the loop continues from the compacted conversation.
 *
 * @module
 */

import { newId } from "../_id.ts";
import { abortErrorFrom, BudgetExceededError } from "../errors.ts";
import type { ToolSchema } from "../model/chat_model.ts";
import { addUsage, emptyUsage, type Message } from "../model/message.ts";
import { executeToolCall, toolSchemaOf } from "../tools/execute_tool_call.ts";
import type { FlueTool } from "../tools/tool.ts";
import { callWithCompaction } from "./call_with_compaction.ts";
import type { Harness, HarnessRequest, HarnessResult } from "./harness.ts";

/**
 * The model was still calling tools when the operation reached `maxTurns`. It is the `maxTurns` kind of
 * `BudgetExceededError`, so one `instanceof BudgetExceededError` check covers every budget.
 */
export class MaxTurnsError extends BudgetExceededError {
  /** The limit that was reached. */
  readonly maxTurns: number;

  /**
   * Creates the error.
   *
   * @param maxTurns The limit that was reached.
   */
  constructor(maxTurns: number) {
    super("maxTurns", maxTurns, maxTurns);
    this.message = `The model was still calling tools after ${maxTurns} turns: raise "maxTurns" or narrow the task`;
    this.name = "MaxTurnsError";
    this.maxTurns = maxTurns;
  }
}

/** The built-in model loop. */
export class FlueHarness implements Harness {
  /** The registered name. */
  readonly name: string = "flue";

  /**
   * Runs one operation to its end.
   *
   * @param request The model, messages, tools and callbacks.
   * @returns The final text, summed usage, and the number of turns.
   */
  async run(request: HarnessRequest): Promise<HarnessResult> {
    const { model, signal, emit } = request;
    const toolsByName = new Map<string, FlueTool<unknown>>();
    const schemas: ToolSchema[] = [];
    for (const tool of request.tools) {
      toolsByName.set(tool.name, tool);
      schemas.push(toolSchemaOf(tool));
    }
    const toolNames = [...toolsByName.keys()];
    // The loop appends to its own array: earlier messages are never copied again, so a turn costs O(new messages).
    let messages: Message[] = request.messages.slice();
    const usage = emptyUsage();
    let modelId = model.id;

    for (let turn = 1; turn <= request.maxTurns; turn++) {
      if (signal.aborted) throw abortErrorFrom(signal);
      const turnId = newId("turn");
      const started = performance.now();
      emit({ type: "turn_start", turnId, model: model.id });
      const call = await callWithCompaction(request, messages, (conversation) =>
        model.complete({
          messages: conversation,
          tools: schemas,
          responseFormat: request.responseFormat,
          thinkingLevel: request.thinkingLevel,
          stream: request.stream,
          signal,
          onTextDelta: (text) => emit({ type: "text_delta", turnId, text }),
          onThinkingDelta: (text) => emit({ type: "thinking_delta", turnId, text }),
          operation: request.operation,
        }));
      const reply = call.reply;
      messages = call.messages;
      addUsage(usage, reply.usage);
      modelId = reply.model || modelId;
      emit({
        type: "turn",
        turnId,
        model: modelId,
        usage: reply.usage,
        durationMs: performance.now() - started,
        stopReason: reply.stopReason,
      });

      const assistant: Message = reply.toolCalls.length
        ? { role: "assistant", content: reply.text, toolCalls: reply.toolCalls }
        : { role: "assistant", content: reply.text };
      if (reply.toolCalls.length === 0) {
        await request.commit([assistant]);
        return { text: reply.text, usage, model: modelId, turns: turn };
      }

      const results = await Promise.all(reply.toolCalls.map(async (call): Promise<Message> => {
        const tool = toolsByName.get(call.name);
        const toolStarted = performance.now();
        emit({ type: "tool_start", turnId, toolName: call.name, toolCallId: call.id, args: safeArgs(call.arguments) });
        const outcome = await executeToolCall(tool, call, { signal, toolCallId: call.id, emit }, toolNames);
        emit({
          type: "tool_end",
          turnId,
          toolName: call.name,
          toolCallId: call.id,
          isError: outcome.isError,
          result: outcome.content,
          durationMs: performance.now() - toolStarted,
        });
        return outcome.isError
          ? { role: "tool", toolCallId: call.id, name: call.name, content: outcome.content, isError: true }
          : { role: "tool", toolCallId: call.id, name: call.name, content: outcome.content };
      }));
      if (signal.aborted) throw abortErrorFrom(signal);
      const turnMessages = [assistant, ...results];
      const compacted = await request.commit(turnMessages);
      if (compacted) messages = compacted.slice();
      else for (const message of turnMessages) messages.push(message);
    }
    throw new MaxTurnsError(request.maxTurns);
  }
}

function safeArgs(raw: string): unknown {
  try {
    return raw.trim() === "" ? {} : JSON.parse(raw);
  } catch {
    return raw;
  }
}
