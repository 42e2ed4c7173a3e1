/**
 * The per-tool budget, `toolTimeoutMs`. A tool that can stop itself and keep its output (the `bash` tool and
 * `defineCommand` commands) is told the limit as `context.timeoutMs`: it kills its command then and returns the output
 * so far, marked as timed out. Any tool still running a moment later is aborted through its signal, and the model is
 * told it did not finish in time. Either way the operation goes on: the model decides what to do next.
 *
 * @module
 */

import type { FlueTool, ToolContext } from "../tools/tool.ts";

/** How long after the limit a tool that was told it is stopped: time for a killed command to hand back its output. */
const STOP_GRACE_MS = 500;

class ToolTimeoutError extends Error {
  constructor(toolName: string, timeoutMs: number) {
    super(`Tool "${toolName}" did not finish within "toolTimeoutMs" (${timeoutMs} ms) and was stopped`);
    this.name = "ToolTimeoutError";
  }
}

/**
 * Wraps a tool so that one call of it runs at most `timeoutMs`.
 *
 * @param tool The tool.
 * @param timeoutMs The limit of one call.
 * @returns The tool with the limit applied.
 */
export function withToolTimeout(tool: FlueTool<unknown>, timeoutMs: number): FlueTool<unknown> {
  return {
    ...tool,
    run: async (input: unknown, context: ToolContext): Promise<unknown> => {
      const stop = new AbortController();
      const limit = Math.min(timeoutMs, context.timeoutMs ?? Infinity);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stopped = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new ToolTimeoutError(tool.name, limit);
          stop.abort(error);
          reject(error);
        }, limit + STOP_GRACE_MS);
      });
      const running = Promise.resolve(
        tool.run(input, { ...context, signal: AbortSignal.any([context.signal, stop.signal]), timeoutMs: limit }),
      );
      // A tool that ignores its signal may settle after the call was given up: its outcome must not go unobserved.
      running.catch(() => {});
      try {
        return await Promise.race([running, stopped]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
