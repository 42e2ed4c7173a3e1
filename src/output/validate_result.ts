/**
 * Checks a model's reply against the result schema of a typed call.
 *
 * @module
 */

import type { z } from "zod";
import type { ResultIssue } from "../errors.ts";
import { extractJsonCandidates, type JsonLayer } from "./extract_json.ts";
import { formatIssuePath, RESULT_END_MARKER, RESULT_START_MARKER } from "./result_instructions.ts";

/** The outcome of {@linkcode validateResult}. */
export type ValidateResultOutcome<T> =
  | {
    /** The reply held valid data. */
    ok: true;
    /** The data, as the schema parsed it (defaults applied, transforms run). */
    data: T;
    /** Where in the reply the data was found. */
    layer: JsonLayer;
    /** Whether its JSON syntax had to be repaired. */
    repaired: boolean;
  }
  | {
    /** The reply held no valid data. */
    ok: false;
    /** What was wrong with the best candidate, or a root issue when the reply held no JSON. */
    issues: ResultIssue[];
    /** The reply as it came. */
    rawText: string;
  };

/** How many characters of nested union issues go into one message, so one bad union does not flood a re-prompt. */
const MAX_UNION_DETAIL_LENGTH = 240;

/**
 * Tries the JSON candidates of a reply in order (see `extractJsonCandidates`) and returns the first that the schema
 * accepts. When none does, the issues are those of the first candidate, the one the model most likely meant.
 *
 * @example Usage
 * ```ts
 * import { validateResult } from "./validate_result.ts";
 * import { z } from "zod";
 *
 * const outcome = validateResult(z.object({ done: z.boolean() }), 'Finished. {"done": true}');
 * if (!outcome.ok || outcome.data.done !== true) throw new Error("unexpected");
 * ```
 *
 * @typeParam S The zod schema type.
 * @param schema The result schema.
 * @param text The model's reply.
 * @returns The data with where it was found, or the issues and the raw text.
 */
export function validateResult<S extends z.ZodType>(schema: S, text: string): ValidateResultOutcome<z.output<S>> {
  const candidates = extractJsonCandidates(text);
  let firstIssues: ResultIssue[] | undefined;
  for (const candidate of candidates) {
    const parsed = schema.safeParse(candidate.value);
    if (parsed.success) {
      return { ok: true, data: parsed.data, layer: candidate.layer, repaired: candidate.repaired };
    }
    firstIssues ??= toResultIssues(parsed.error.issues);
  }
  const issues = firstIssues ?? [{
    path: [],
    message: `No JSON value found in the reply: write the answer as JSON between ${RESULT_START_MARKER} and ` +
      RESULT_END_MARKER,
  }];
  return { ok: false, issues, rawText: text };
}

/**
 * Turns zod issues into {@linkcode ResultIssue}s. A failed union becomes one issue that says, briefly, why each option
 * failed, instead of zod's bare "Invalid input".
 *
 * @param issues The issues of a failed `safeParse`.
 * @returns The issues with their paths and messages.
 */
export function toResultIssues(issues: readonly z.core.$ZodIssue[]): ResultIssue[] {
  return issues.map((issue) => {
    const path = issue.path.map((segment) => typeof segment === "number" ? segment : String(segment));
    if (issue.code !== "invalid_union" || issue.errors.length === 0) return { path, message: issue.message };
    const options = issue.errors.map((branch) =>
      branch.map((nested) =>
        nested.path.length === 0
          ? nested.message
          : `${formatIssuePath(nested.path.map((s) => typeof s === "number" ? s : String(s)))}: ${nested.message}`
      ).join(", ")
    );
    let detail = options.join("; or ");
    if (detail.length > MAX_UNION_DETAIL_LENGTH) detail = `${detail.slice(0, MAX_UNION_DETAIL_LENGTH - 1)}…`;
    return { path, message: `Matches none of the ${options.length} allowed shapes (${detail})` };
  });
}
