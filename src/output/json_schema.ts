/**
 * Turns a zod schema into the JSON Schema that typed calls send to the model.
 *
 * @module
 */

import { z } from "zod";

/**
 * The zod types that have no JSON form. zod names them in its own error; the list is only used to find where in the
 * schema the offending type sits, so the error can point at it.
 */
const UNREPRESENTABLE_TYPES: ReadonlySet<string> = new Set([
  "bigint",
  "custom",
  "date",
  "function",
  "map",
  "nan",
  "promise",
  "set",
  "symbol",
  "transform",
  "undefined",
  "void",
]);

/**
 * Converts a zod schema to JSON Schema (draft-07) describing the JSON the model must write.
 *
 * Draft-07 is the target because it is what the `openai` SDK itself sends for zod 4 schemas and what most
 * OpenAI-compatible providers accept (`definitions`, array-form tuples); draft 2020-12's `$defs` and `prefixItems` are
 * rejected by several of them. The schema describes the schema's *input*, because the model's JSON is what
 * `schema.safeParse` receives: a field with `.default()` is optional for the model, and a `.transform()` is applied
 * after validation rather than refused. A discriminated union becomes `anyOf` instead of zod's `oneOf`, since its
 * branches are mutually exclusive anyway and several providers do not accept `oneOf`.
 *
 * @example Usage
 * ```ts
 * import { toJsonSchema } from "./json_schema.ts";
 * import { z } from "zod";
 *
 * const jsonSchema = toJsonSchema(z.object({ title: z.string() }));
 * if (jsonSchema.type !== "object") throw new Error("unexpected");
 * ```
 *
 * @param schema The zod schema of the result.
 * @returns A plain JSON Schema object (draft-07), safe to serialise.
 * @throws {TypeError} When `schema` is not a zod 4 schema, or contains a type with no JSON form (`z.date()`,
 * `z.bigint()`, `z.map()`, `z.custom()` and the like); the message names where.
 */
export function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  if (!isZodSchema(schema)) {
    throw new TypeError(`Expected a zod 4 schema for the result, got ${describeValue(schema)}: build it with "zod"`);
  }
  try {
    return z.toJSONSchema(schema, {
      target: "draft-7",
      io: "input",
      override: ({ zodSchema, jsonSchema }) => {
        const definition = zodSchema._zod.def as { type: string; discriminator?: unknown };
        if (definition.type === "union" && definition.discriminator !== undefined && jsonSchema.oneOf) {
          jsonSchema.anyOf = jsonSchema.oneOf;
          delete jsonSchema.oneOf;
        }
      },
    }) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const where = locateUnrepresentable(schema);
    throw new TypeError(
      `The result schema cannot be represented as JSON Schema${where ? ` at "${where}"` : ""}: ${reason}; ` +
        `use JSON types only (for example z.iso.datetime() instead of z.date(), z.number() instead of z.bigint())`,
      { cause: error },
    );
  }
}

function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === "object" && value !== null && "_zod" in value;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an object with keys ${JSON.stringify(Object.keys(value).slice(0, 5))}`;
  return `${typeof value} ${JSON.stringify(value) ?? String(value)}`;
}

/** Runs the conversion again in its tolerant mode to learn the JSON Schema path of the first unrepresentable type. */
function locateUnrepresentable(schema: z.ZodType): string | undefined {
  let found: (string | number)[] | undefined;
  try {
    z.toJSONSchema(schema, {
      target: "draft-7",
      io: "input",
      unrepresentable: "any",
      override: ({ zodSchema, path }) => {
        if (found === undefined && UNREPRESENTABLE_TYPES.has(zodSchema._zod.def.type)) found = path;
      },
    });
  } catch {
    return undefined;
  }
  if (found === undefined) return undefined;
  return found.length === 0 ? "#" : `#/${found.join("/")}`;
}
