/**
 * What a session does to every tool it hands the model, and how it grants secrets to one call.
 *
 * @module
 */

import type { Redactor } from "../telemetry/redactor.ts";
import type { FlueTool } from "../tools/tool.ts";
import type { ContextGuard } from "./context_guard.ts";

/**
 * Wraps a tool so that its result and its error reach the model redacted of secrets and cut to what the context
 * window allows (the whole text saved for `read_output`).
 *
 * @param tool The tool.
 * @param redactor Removes secret values.
 * @param guard Cuts oversized results.
 * @returns The wrapped tool, with the same name, description and input schema.
 */
export function wrapSessionTool(tool: FlueTool<unknown>, redactor: Redactor, guard: ContextGuard): FlueTool<unknown> {
  return {
    name: tool.name,
    description: tool.description,
    input: tool.input,
    run: async (input, context) => {
      try {
        const value = await tool.run(input, context);
        const redacted = typeof value === "string" ? redactor.redactText(value) : redactor.redact(value);
        // Redacted before it is cut, so the whole text saved for read_output holds no secret either.
        return guard.limitResult(redacted, context.toolCallId, tool.name);
      } catch (error) {
        // The error's message becomes the tool result the model reads next: it must not carry a secret either.
        throw guard.limitError(redactor.redact(error), context.toolCallId, tool.name);
      }
    },
  };
}

/**
 * The secret values one call grants to its commands.
 *
 * @param env The agent's secret values by name.
 * @param names The names the call grants.
 * @returns The granted values by name.
 * @throws {TypeError} When a name is not in `env`, listing the known names.
 */
export function grantSecrets(
  env: Readonly<Record<string, string>>,
  names: readonly string[] | undefined,
): Record<string, string> {
  const granted: Record<string, string> = {};
  for (const name of names ?? []) {
    const value = env[name];
    if (value === undefined) {
      const known = Object.keys(env);
      throw new TypeError(
        `Secret "${name}" is not in the agent's env: ${
          known.length ? `known names are ${known.join(", ")}` : "pass it in the env option of init()"
        }`,
      );
    }
    granted[name] = value;
  }
  return granted;
}
