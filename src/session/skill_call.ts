/**
 * `session.skill(name, options)`: checks the arguments against the skill's `input_schema` before any model call,
 * sends the skill's instructions with the arguments, and validates the result against the call's `result` schema or
 * else the skill's `output_schema`, with the re-prompts of a typed prompt.
 *
 * @module
 */

import type { z } from "zod";
import { NotFoundError } from "../errors.ts";
import type { ChatModel, ResponseFormat } from "../model/chat_model.ts";
import { addUsage, emptyUsage, type Usage } from "../model/message.ts";
import { toJsonSchema } from "../output/json_schema.ts";
import { formatIssuePath, resultInstructions } from "../output/result_instructions.ts";
import type { Schema } from "../output/schema.ts";
import { runTypedCall } from "../output/typed_call.ts";
import { toResultIssues } from "../output/validate_result.ts";
import type { EntrySource } from "../store/store.ts";
import type { PromptResultResponse, SkillOptions, SkillResponse } from "./session_types.ts";

/** What a session needs of a skill to run it (the project's loaded skills satisfy it). */
export interface RunnableSkill {
  /** The skill's name. */
  readonly name: string;
  /** What it does. */
  readonly description: string;
  /** The instructions sent to the model. */
  readonly instructions: string;
  /** The file it came from, named in messages. */
  readonly file: string;
  /** The schema `args` must satisfy. */
  readonly input?: z.ZodType;
  /** The schema the result must satisfy. */
  readonly output?: z.ZodType;
  /** The only tools the call may use, when restricted. */
  readonly allowedTools?: readonly string[];
}

/** What one model attempt of a skill call produced. */
export interface SkillAttemptResult {
  /** The final assistant text. */
  text: string;
  /** Tokens of the attempt. */
  usage: Usage;
  /** The model id the provider reported. */
  model: string;
}

/** How a skill call reaches the session's model loop. */
export interface SkillCallRunner {
  /** The model of this call. */
  model: ChatModel;
  /** Re-prompts allowed after invalid output. */
  typedRetries: number;
  /** The operation's id. */
  operationId: string;
  /** Removes secret values from text sent to the model. */
  redactText(text: string): string;
  /**
   * Runs the model loop on one message, with only the skill's allowed tools.
   *
   * @param content The message.
   * @param source `skill` for the first attempt, `retry` for a re-prompt.
   * @param responseFormat Native structured output, when the model supports it.
   * @returns The attempt's text, usage and model.
   */
  run(content: string, source: EntrySource, responseFormat?: ResponseFormat): Promise<SkillAttemptResult>;
}

/**
 * Finds a skill by name.
 *
 * @param skills The agent's skills.
 * @param name The name asked for.
 * @returns The skill.
 * @throws {NotFoundError} When there is no such skill; the message lists the available ones.
 */
export function findSkill<T extends RunnableSkill>(skills: readonly T[], name: string): T {
  const skill = skills.find((candidate) => candidate.name === name);
  if (skill) return skill;
  const known = skills.map((candidate) => candidate.name);
  throw new NotFoundError(
    "skill",
    String(name),
    `No skill named "${name}": ${
      known.length ? `available skills are ${known.join(", ")}` : 'the agent has none; add one with "flue skill new"'
    }`,
  );
}

/**
 * Checks a skill call's arguments against the skill's `input_schema`.
 *
 * @param skill The skill.
 * @param args The arguments given.
 * @returns The arguments as the schema parsed them.
 * @throws {TypeError} When they do not match; the message lists every issue.
 */
export function checkSkillArgs(skill: RunnableSkill, args: unknown): unknown {
  if (args !== undefined && (args === null || typeof args !== "object" || Array.isArray(args))) {
    throw new TypeError(`The args of skill "${skill.name}" must be an object, got ${JSON.stringify(args)}`);
  }
  if (!skill.input) return args ?? {};
  const parsed = skill.input.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  const issues = toResultIssues(parsed.error.issues)
    .map((issue) => `${issue.path.length ? formatIssuePath(issue.path) : "(root)"}: ${issue.message}`);
  throw new TypeError(
    `Invalid args for skill "${skill.name}" (${skill.file}): ${issues.join("; ")}; pass args matching its input_schema`,
  );
}

/**
 * Runs a skill call to its end.
 *
 * @param skills The agent's skills.
 * @param name The skill's name.
 * @param options The call's options; `result` wins over the skill's `output_schema`.
 * @param runner Runs model attempts in the session.
 * @returns The answer, with validated `data` when there is a schema.
 * @throws {NotFoundError} When there is no such skill.
 * @throws {TypeError} When the arguments do not match `input_schema`; no model call is made.
 * @throws {ResultValidationError} When no reply matched the result schema within the retries.
 */
export async function runSkillCall(
  skills: readonly RunnableSkill[],
  name: string,
  options: SkillOptions & { result?: Schema },
  runner: SkillCallRunner,
): Promise<SkillResponse | PromptResultResponse<unknown>> {
  const skill = findSkill(skills, name);
  const args = checkSkillArgs(skill, options.args);
  const message = runner.redactText(skillMessage(skill, args));
  const schema = (options.result as unknown as z.ZodType | undefined) ?? skill.output;
  if (!schema) {
    const run = await runner.run(message, "skill");
    return { text: run.text, usage: run.usage, model: run.model, operationId: runner.operationId };
  }
  const jsonSchema = toJsonSchema(schema);
  const isNative = runner.model.supportsStructuredOutput;
  const usage = emptyUsage();
  let modelId = runner.model.id;
  const typed = await runTypedCall({
    schema,
    typedRetries: runner.typedRetries,
    structuredOutput: isNative,
    attempt: async (feedback) => {
      const content = feedback ?? (isNative ? message : `${message}\n\n${resultInstructions(jsonSchema)}`);
      const run = await runner.run(
        content,
        feedback ? "retry" : "skill",
        isNative ? { name: "result", schema: jsonSchema } : undefined,
      );
      addUsage(usage, run.usage);
      modelId = run.model;
      return run.text;
    },
  });
  return {
    data: typed.data,
    text: typed.text,
    attempts: typed.attempts,
    usage,
    model: modelId,
    operationId: runner.operationId,
  };
}

function skillMessage(skill: RunnableSkill, args: unknown): string {
  const parts = [`Run the skill "${skill.name}". Its instructions:`, skill.instructions];
  if (args !== undefined && Object.keys(args as object).length > 0) {
    parts.push(`The skill's arguments:\n\n\`\`\`json\n${JSON.stringify(args, null, 2)}\n\`\`\``);
  }
  return parts.join("\n\n");
}
