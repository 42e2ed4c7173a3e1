/**
 * A cache of tool input schemas. A session builds its tool set when it opens; building zod schemas (and then their
 * JSON Schema) costs far more than binding a tool to a sandbox, so the schemas are built once per set of options.
 */

import type { z } from "zod";

const schemas = new Map<string, z.ZodType>();

/**
 * The schema for a tool and its options, built on first use.
 *
 * @param tool The tool's name.
 * @param options The options that shape the schema (its descriptions name limits); `{}` when none.
 * @param build Builds the schema.
 * @returns The shared schema.
 */
export function cachedInputSchema<T>(tool: string, options: object, build: () => z.ZodType<T>): z.ZodType<T> {
  const key = `${tool}:${JSON.stringify(options)}`;
  let schema = schemas.get(key);
  if (!schema) {
    schema = build();
    schemas.set(key, schema);
  }
  return schema as z.ZodType<T>;
}
