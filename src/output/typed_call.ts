/**
 * The retry loop of a typed call: validate the reply, re-prompt with the issues, give up after a bounded number of
 * tries.
 *
 * @module
 */

import type { z } from "zod";
import { type ResultIssue, ResultValidationError } from "../errors.ts";
import { retryInstructions } from "./result_instructions.ts";
import { validateResult } from "./validate_result.ts";

/** The default number of re-prompts after a reply that did not validate. */
export const DEFAULT_TYPED_RETRIES: number = 3;
/** The most re-prompts allowed: each one is a paid model call, and a model that failed ten times will not recover. */
export const MAX_TYPED_RETRIES: number = 10;

/** The options of {@linkcode runTypedCall}. */
export interface TypedCallOptions<S extends z.ZodType> {
  /** The result schema. */
  schema: S;
  /** Re-prompts after a reply that did not validate, 0 to {@linkcode MAX_TYPED_RETRIES}; defaults to 3. */
  typedRetries?: number;
  /**
   * Whether the model answers through native structured output; the re-prompt then asks for bare JSON rather than
   * JSON between the result markers. Defaults to `false`.
   */
  structuredOutput?: boolean;
  /**
   * Runs one model attempt and returns its reply text. Errors it throws (an abort, a provider failure) end the call
   * unchanged.
   *
   * @param feedback `undefined` on the first attempt; afterwards the re-prompt naming what was wrong.
   * @param attemptNumber 1 for the first attempt.
   * @returns The reply text.
   */
  attempt(feedback: string | undefined, attemptNumber: number): Promise<string>;
}

/** The outcome of a typed call that validated. */
export interface TypedCallResult<T> {
  /** The data, as the schema parsed it. */
  data: T;
  /** The text of the reply that validated. */
  text: string;
  /** How many attempts it took, 1 when the first reply validated. */
  attempts: number;
}

/**
 * Runs a typed call: each reply is validated against the schema, and a reply that does not validate is followed by a
 * re-prompt carrying its issues, until one validates or `1 + typedRetries` attempts have been made.
 *
 * @example Usage
 * ```ts
 * import { runTypedCall } from "./typed_call.ts";
 * import { z } from "zod";
 *
 * const replies = ['{"count": "two"}', '{"count": 2}'];
 * const result = await runTypedCall({
 *   schema: z.object({ count: z.number() }),
 *   attempt: (_feedback, attemptNumber) => Promise.resolve(replies[attemptNumber - 1]),
 * });
 * if (result.data.count !== 2 || result.attempts !== 2) throw new Error("unexpected");
 * ```
 *
 * @typeParam S The zod schema type.
 * @param options The schema, the retry budget and the function that runs one attempt.
 * @returns The data, the reply text and the number of attempts.
 * @throws {ResultValidationError} When no reply validated; it carries the last raw text and issues.
 * @throws {RangeError} When `typedRetries` is not an integer from 0 to {@linkcode MAX_TYPED_RETRIES}.
 */
export async function runTypedCall<S extends z.ZodType>(
  options: TypedCallOptions<S>,
): Promise<TypedCallResult<z.output<S>>> {
  const typedRetries = options.typedRetries ?? DEFAULT_TYPED_RETRIES;
  if (!Number.isInteger(typedRetries) || typedRetries < 0 || typedRetries > MAX_TYPED_RETRIES) {
    throw new RangeError(
      `Invalid typedRetries ${JSON.stringify(typedRetries) ?? String(typedRetries)}: use a whole number from 0 to ` +
        MAX_TYPED_RETRIES,
    );
  }
  const maxAttempts = 1 + typedRetries;
  let feedback: string | undefined;
  let rawText = "";
  let issues: ResultIssue[] = [];
  for (let attemptNumber = 1; attemptNumber <= maxAttempts; attemptNumber++) {
    const text = await options.attempt(feedback, attemptNumber);
    if (typeof text !== "string") {
      throw new TypeError(
        `The typed call's attempt ${attemptNumber} returned ${typeof text} instead of the reply text`,
      );
    }
    const outcome = validateResult(options.schema, text);
    if (outcome.ok) return { data: outcome.data, text, attempts: attemptNumber };
    rawText = outcome.rawText;
    issues = outcome.issues;
    feedback = retryInstructions(issues, { structuredOutput: options.structuredOutput });
  }
  throw new ResultValidationError(rawText, issues, maxAttempts);
}
