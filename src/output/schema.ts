/**
 * `Schema<T>`: the shape of a schema in Flue's public signatures. Any zod 4 schema satisfies it; naming this small
 * interface rather than zod's own types keeps the public API documented without re-exporting zod.
 *
 * @module
 */

/** The outcome of validating a value. */
export type SchemaParseResult<Output> =
  | { success: true; data: Output }
  | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };

/** A schema that validates values of type `Output`: in practice, a zod 4 schema such as `z.object({...})`. */
export interface Schema<Output = unknown> {
  /** The validated type, carried at the type level (zod schemas declare it). */
  readonly _output: Output;
  /**
   * Validates a value.
   *
   * @param value Anything.
   * @returns The data, or the issues.
   */
  safeParse(value: unknown): SchemaParseResult<Output>;
}
