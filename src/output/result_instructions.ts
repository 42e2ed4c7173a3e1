/**
 * The prompt text of typed calls: how to ask for the final answer as JSON, and how to ask again after a reply that did
 * not validate.
 *
 * @module
 */

import type { ResultIssue } from "../errors.ts";

/** The line that opens the final JSON answer in a model's reply. */
export const RESULT_START_MARKER: string = "---RESULT_START---";

/** The line that closes the final JSON answer in a model's reply. */
export const RESULT_END_MARKER: string = "---RESULT_END---";

/** How many issues a re-prompt lists; more would bury the first ones and cost tokens without helping the model. */
const MAX_LISTED_ISSUES = 10;
/** How long one issue message may be in a re-prompt. */
const MAX_ISSUE_MESSAGE_LENGTH = 300;

/**
 * The text a session appends to a prompt when the model has no native structured output: it gives the JSON Schema and
 * asks for the final answer as JSON between {@linkcode RESULT_START_MARKER} and {@linkcode RESULT_END_MARKER}.
 *
 * @example Usage
 * ```ts
 * import { resultInstructions, RESULT_START_MARKER } from "./result_instructions.ts";
 *
 * const text = resultInstructions({ type: "object", properties: { title: { type: "string" } } });
 * if (!text.includes(RESULT_START_MARKER)) throw new Error("unexpected");
 * ```
 *
 * @param jsonSchema The JSON Schema of the result, as returned by `toJsonSchema`.
 * @returns Instructions to append to the prompt after a blank line.
 */
export function resultInstructions(jsonSchema: Record<string, unknown>): string {
  // The draft URL tells the model nothing and costs tokens in every typed prompt.
  const { $schema: _draft, ...schema } = jsonSchema;
  return [
    "When you have finished, give your final answer as one JSON value that matches this JSON Schema:",
    JSON.stringify(schema, null, 2),
    `Write the JSON between a line ${RESULT_START_MARKER} and a line ${RESULT_END_MARKER}, with nothing else between ` +
    "them and no code fence, like this:",
    RESULT_START_MARKER,
    "<the JSON value>",
    RESULT_END_MARKER,
  ].join("\n");
}

/** The options of {@linkcode retryInstructions}. */
export interface RetryInstructionsOptions {
  /**
   * Whether the model answers through native structured output, which cannot carry the markers; the re-prompt then asks
   * for the bare JSON. Defaults to `false`.
   */
  structuredOutput?: boolean;
}

/**
 * The re-prompt after a reply that did not validate: the issues (path and message, at most ten) and a request for the
 * corrected JSON.
 *
 * @example Usage
 * ```ts
 * import { retryInstructions } from "./result_instructions.ts";
 *
 * const text = retryInstructions([{ path: ["items", 0, "title"], message: "Expected string" }]);
 * if (!text.includes("items[0].title: Expected string")) throw new Error("unexpected");
 * ```
 *
 * @param issues The validation issues of the reply.
 * @param options Whether the model uses native structured output.
 * @returns The text of the next user message.
 */
export function retryInstructions(issues: readonly ResultIssue[], options: RetryInstructionsOptions = {}): string {
  const listed = issues.slice(0, MAX_LISTED_ISSUES).map((issue) =>
    `- ${formatIssuePath(issue.path)}: ${truncate(issue.message, MAX_ISSUE_MESSAGE_LENGTH)}`
  );
  if (issues.length > MAX_LISTED_ISSUES) listed.push(`- and ${issues.length - MAX_LISTED_ISSUES} more`);
  const request = options.structuredOutput
    ? "Reply again with only the corrected JSON value."
    : `Reply again with only the corrected JSON value between a line ${RESULT_START_MARKER} and a line ` +
      `${RESULT_END_MARKER}.`;
  return ["Your final answer did not match the required JSON Schema:", ...listed, request].join("\n");
}

/**
 * Writes an issue path the way JavaScript would reach the value: `items[0].title`, `["odd key"]`, or `(root)`.
 *
 * @example Usage
 * ```ts
 * import { formatIssuePath } from "./result_instructions.ts";
 *
 * if (formatIssuePath(["items", 0, "title"]) !== "items[0].title") throw new Error("unexpected");
 * if (formatIssuePath([]) !== "(root)") throw new Error("unexpected");
 * ```
 *
 * @param path The path into the value.
 * @returns The path in words.
 */
export function formatIssuePath(path: readonly (string | number)[]): string {
  if (path.length === 0) return "(root)";
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
