/**
 * Deterministic example values for a JSON Schema: the arguments the test model passes to tools and the data it returns
 * for typed calls.
 *
 * @module
 */

import { sampleString } from "./_sample_string.ts";

type Schema = Record<string, unknown>;

/** The options of {@linkcode sampleFromSchema}. */
export interface SampleOptions {
  /** Strings to prefer for string values (the quoted strings of a prompt), each used once, in order. */
  strings?: readonly string[];
  /** Indexes of `strings` already used; share one set between samples so that each string is used once in all. */
  usedStrings?: Set<number>;
}

/** Below this depth optional properties are filled in and arrays get an item; from it on, only what is required. */
const FULL_DEPTH = 4;
/** A schema that requires its own recursion forever cannot be satisfied; stop there with `null`. */
const MAX_DEPTH = 24;

interface Context {
  root: Schema;
  strings: readonly string[];
  usedStrings: Set<number>;
}

/**
 * Builds a value that is valid for a JSON Schema (draft-07 or 2020-12, as zod writes them): it honours `type`,
 * `required`, `const`, `enum`, `examples` and `default`, numeric bounds and `multipleOf`, string lengths, formats and
 * simple patterns, array bounds and tuples, `$ref` into `definitions` / `$defs` (recursion stops at a depth limit),
 * `allOf`, `anyOf` / `oneOf` (the first non-null option) and nullable types. The same schema always gives the same
 * value. A `pattern` is met when it is a simple expression (literals, classes, groups, quantifiers) or a known example
 * fits it; other refinements of a zod schema (`.refine()`) are invisible in JSON Schema and so not met.
 *
 * @param schema The JSON Schema.
 * @param options Preferred strings.
 * @returns A JSON-compatible value.
 */
export function sampleFromSchema(schema: unknown, options: SampleOptions = {}): unknown {
  const root = isSchema(schema) ? schema : {};
  return sample(
    root,
    { root, strings: options.strings ?? [], usedStrings: options.usedStrings ?? new Set() },
    "",
    0,
    0,
  );
}

function sample(node: unknown, context: Context, name: string, depth: number, variant: number): unknown {
  if (depth > MAX_DEPTH || !isSchema(node)) return null;
  const schema = flatten(node, context);

  if ("const" in schema) return schema.const;
  const preset = presetValue(schema);
  if (preset.found) return preset.value;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[variant % schema.enum.length];

  const options = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined;
  if (options && options.length > 0) {
    const { anyOf: _anyOf, oneOf: _oneOf, ...rest } = schema;
    const chosen = chooseOption(options, context, depth);
    return sample({ ...rest, ...flatten(chosen, context) }, context, name, depth, variant);
  }

  switch (pickType(schema)) {
    case "null":
      return null;
    case "boolean":
      return variant % 2 === 0;
    case "integer":
      return sampleNumber(schema, true, variant);
    case "number":
      return sampleNumber(schema, false, variant);
    case "string":
      return sampleString(schema, { name, variant, strings: context.strings, usedStrings: context.usedStrings });
    case "array":
      return sampleArray(schema, context, name, depth);
    case "object":
      return sampleObject(schema, context, depth);
    default:
      return null;
  }
}

function sampleObject(schema: Schema, context: Context, depth: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  const properties = isSchema(schema.properties) ? schema.properties : {};
  for (const [key, property] of Object.entries(properties)) {
    if (property === false || isNever(property)) continue;
    if (!required.has(key) && depth >= FULL_DEPTH) continue;
    result[key] = sample(property, context, key, depth + 1, 0);
  }
  const extra = isSchema(schema.additionalProperties) ? schema.additionalProperties : {};
  for (const key of required) {
    if (!(key in result)) result[key] = sample(extra, context, key, depth + 1, 0);
  }
  const minProperties = typeof schema.minProperties === "number" ? schema.minProperties : 0;
  if (Object.keys(result).length < minProperties && schema.additionalProperties !== false) {
    const names = isSchema(schema.propertyNames) && Array.isArray(schema.propertyNames.enum)
      ? schema.propertyNames.enum.map(String)
      : Array.from({ length: minProperties }, (_, index) => `key${index + 1}`);
    for (const key of names) {
      if (Object.keys(result).length >= minProperties) break;
      if (!(key in result)) result[key] = sample(extra, context, key, depth + 1, 0);
    }
  }
  return result;
}

function sampleArray(schema: Schema, context: Context, name: string, depth: number): unknown[] {
  // Draft-07 writes a tuple as an `items` array plus `additionalItems`; 2020-12 as `prefixItems` plus `items`.
  const tuple = Array.isArray(schema.items)
    ? schema.items
    : Array.isArray(schema.prefixItems)
    ? schema.prefixItems
    : [];
  const rest = Array.isArray(schema.items)
    ? schema.additionalItems
    : Array.isArray(schema.prefixItems)
    ? schema.items
    : schema.items;
  const minItems = typeof schema.minItems === "number" ? schema.minItems : 0;
  const maxItems = typeof schema.maxItems === "number" ? schema.maxItems : Infinity;
  const wanted = depth >= FULL_DEPTH || rest === false ? minItems : Math.max(minItems, 1);
  const count = Math.min(Math.max(wanted, tuple.length), maxItems, rest === false ? tuple.length : Infinity);
  const items: unknown[] = [];
  const itemName = singular(name);
  for (let index = 0; index < count; index++) {
    const itemSchema = index < tuple.length ? tuple[index] : rest ?? {};
    items.push(sample(itemSchema, context, itemName, depth + 1, index));
  }
  return items;
}

function sampleNumber(schema: Schema, integer: boolean, variant: number): number {
  let lower = -Infinity;
  let upper = Infinity;
  let lowerExclusive = false;
  let upperExclusive = false;
  if (typeof schema.minimum === "number") lower = schema.minimum;
  if (typeof schema.exclusiveMinimum === "number" && schema.exclusiveMinimum >= lower) {
    lower = schema.exclusiveMinimum;
    lowerExclusive = true;
  } else if (schema.exclusiveMinimum === true) lowerExclusive = true;
  if (typeof schema.maximum === "number") upper = schema.maximum;
  if (typeof schema.exclusiveMaximum === "number" && schema.exclusiveMaximum <= upper) {
    upper = schema.exclusiveMaximum;
    upperExclusive = true;
  } else if (schema.exclusiveMaximum === true) upperExclusive = true;
  const step = typeof schema.multipleOf === "number" && schema.multipleOf > 0 ? schema.multipleOf : undefined;

  const fits = (value: number): boolean =>
    Number.isFinite(value) &&
    (lowerExclusive ? value > lower : value >= lower) &&
    (upperExclusive ? value < upper : value <= upper) &&
    (!integer || Number.isInteger(value)) &&
    (step === undefined || Math.abs(value / step - Math.round(value / step)) < 1e-9);

  const preferred = 1 + variant;
  const anchors = [preferred, 0, lower, upper, (lower + upper) / 2].filter(Number.isFinite);
  const candidates = anchors.flatMap((
    anchor,
  ) => [anchor, Math.floor(anchor), Math.ceil(anchor), anchor + 1, anchor - 1]);
  if (step !== undefined) {
    candidates.push(
      ...candidates.flatMap((value) => [Math.ceil(value / step) * step, Math.floor(value / step) * step]),
    );
  }
  // The value nearest the preferred one reads most naturally: 1 rather than the lowest safe integer.
  const fitting = candidates.filter(fits).sort((a, b) => Math.abs(a - preferred) - Math.abs(b - preferred));
  return fitting[0] ?? (Number.isFinite(lower) ? lower : Number.isFinite(upper) ? upper : 0);
}

/** Resolves `$ref` and merges `allOf`, so the rest of the sampler sees one plain schema. */
function flatten(node: unknown, context: Context): Schema {
  let schema: Schema = isSchema(node) ? node : {};
  for (let hops = 0; typeof schema.$ref === "string" && hops < 32; hops++) {
    const { $ref, ...siblings } = schema;
    schema = { ...resolvePointer(context.root, $ref as string), ...siblings };
  }
  if (!Array.isArray(schema.allOf)) return schema;
  const { allOf, ...base } = schema;
  let merged: Schema = base;
  for (const part of allOf) merged = mergeSchemas(merged, flatten(part, context));
  return merged;
}

function mergeSchemas(target: Schema, source: Schema): Schema {
  const merged: Schema = { ...target, ...source };
  if (isSchema(target.properties) && isSchema(source.properties)) {
    const properties: Schema = { ...target.properties };
    for (const [key, value] of Object.entries(source.properties)) {
      properties[key] = key in properties ? { allOf: [properties[key], value] } : value;
    }
    merged.properties = properties;
  }
  if (Array.isArray(target.required) || Array.isArray(source.required)) {
    merged.required = [...new Set([...(target.required as unknown[] ?? []), ...(source.required as unknown[] ?? [])])];
  }
  // Both patterns must hold; the string sampler reads the extra ones from `allOf`.
  if (typeof target.pattern === "string" && typeof source.pattern === "string" && target.pattern !== source.pattern) {
    merged.allOf = [{ pattern: target.pattern }];
  }
  return merged;
}

function resolvePointer(root: Schema, ref: string): Schema {
  if (!ref.startsWith("#")) return {};
  const segments = ref.slice(1).split("/").filter((segment) => segment !== "")
    .map((segment) => decodeURIComponent(segment).replaceAll("~1", "/").replaceAll("~0", "~"));
  let current: unknown = root;
  for (const segment of segments) {
    if (!isSchema(current) && !Array.isArray(current)) return {};
    current = (current as Record<string, unknown>)[segment];
  }
  return isSchema(current) ? current : {};
}

/** The first option that is not `null`; deep in a recursive schema, the one that ends the recursion soonest. */
function chooseOption(options: unknown[], context: Context, depth: number): unknown {
  const flattened = options.map((option) => ({ option, schema: flatten(option, context) }));
  if (depth >= FULL_DEPTH) {
    const ending = flattened.find(({ option, schema }) =>
      schema.type === "null" || (isSchema(option) && typeof option.$ref !== "string" && schema.type !== "object")
    );
    if (ending) return ending.option;
  }
  return (flattened.find(({ schema }) => schema.type !== "null") ?? flattened[0]).option;
}

function pickType(schema: Schema): string | undefined {
  const types = Array.isArray(schema.type) ? schema.type : typeof schema.type === "string" ? [schema.type] : [];
  const nonNull = types.find((type) => type !== "null");
  if (nonNull !== undefined) return String(nonNull);
  if (types.length > 0) return "null";
  if ("properties" in schema || "required" in schema || "additionalProperties" in schema) return "object";
  if ("items" in schema || "prefixItems" in schema || "minItems" in schema) return "array";
  if ("minLength" in schema || "maxLength" in schema || "pattern" in schema || "format" in schema) return "string";
  if ("minimum" in schema || "maximum" in schema || "multipleOf" in schema) return "number";
  return undefined;
}

/** An author's own `examples` or `default`, when it has the schema's type. */
function presetValue(schema: Schema): { found: boolean; value?: unknown } {
  const values = [...(Array.isArray(schema.examples) ? schema.examples.slice(0, 1) : []), schema.default];
  for (const value of values) {
    if (value !== undefined && hasType(value, schema.type)) return { found: true, value };
  }
  return { found: false };
}

function hasType(value: unknown, type: unknown): boolean {
  if (type === undefined) return true;
  const types = Array.isArray(type) ? type : [type];
  return types.some((name) => name === jsonTypeOf(value) || (name === "number" && jsonTypeOf(value) === "integer"));
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (Number.isInteger(value)) return "integer";
  return typeof value;
}

/** `{ not: {} }` matches nothing: zod writes it for `z.never()`, and an optional property of that kind stays absent. */
function isNever(schema: unknown): boolean {
  return isSchema(schema) && isSchema(schema.not) && Object.keys(schema.not).length === 0;
}

function singular(name: string): string {
  if (name.endsWith("ies")) return `${name.slice(0, -3)}y`;
  if (name.endsWith("s") && !name.endsWith("ss")) return name.slice(0, -1);
  return name;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
