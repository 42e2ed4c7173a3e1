import assert from "node:assert/strict";
import { z } from "zod";
import { samplePattern } from "./_sample_pattern.ts";
import { sampleFromSchema } from "./_sample_from_schema.ts";

type Tree = { name: string; children: Tree[] };
const tree: z.ZodType<Tree> = z.object({
  name: z.string(),
  get children() {
    return z.array(tree);
  },
});
type Category = { name: string; parent?: Category | null };
const category: z.ZodType<Category> = z.object({
  name: z.string(),
  get parent() {
    return category.nullable().optional();
  },
});
const point = z.object({ x: z.number(), y: z.number() }).meta({ id: "Point" });

const schemas: Record<string, z.ZodType> = {
  "an object with optional and nullable fields": z.object({
    name: z.string(),
    nickname: z.string().optional(),
    manager: z.string().nullable(),
    note: z.string().nullish(),
  }),
  "nested arrays": z.object({ matrix: z.array(z.array(z.int()).min(2)).min(2).max(3) }),
  "enums and literals": z.object({ mode: z.enum(["fast", "slow"]), level: z.literal(3), flag: z.literal([true, "x"]) }),
  "a native-style enum": z.enum({ Up: 1, Down: 2 }),
  "a union": z.union([z.email(), z.number()]),
  "a discriminated union": z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("circle"), radius: z.number().positive() }),
    z.object({ kind: z.literal("square"), side: z.number() }),
  ]),
  "an intersection": z.intersection(z.object({ a: z.string() }), z.object({ b: z.number() })),
  "numbers with bounds": z.object({
    age: z.int().min(18).max(120),
    ratio: z.number().gt(0).lt(1),
    negative: z.int().negative(),
    step: z.number().multipleOf(5).min(7),
    odd: z.int().multipleOf(3).max(-4),
    between: z.int().gt(10).lt(12),
  }),
  "string lengths": z.object({
    code: z.string().length(4),
    long: z.string().min(30).max(40),
    short: z.string().max(3),
  }),
  "string formats": z.object({
    email: z.email(),
    url: z.url(),
    at: z.iso.datetime(),
    atWithOffset: z.iso.datetime({ offset: true }),
    day: z.iso.date(),
    time: z.iso.time(),
    duration: z.iso.duration(),
    id: z.uuid(),
    v7: z.uuidv7(),
    ip: z.ipv4(),
    ip6: z.ipv6(),
    host: z.hostname(),
    b64: z.base64(),
    nano: z.nanoid(),
    ulid: z.ulid(),
    phone: z.e164(),
    emoji: z.emoji(),
    jwt: z.jwt(),
  }),
  "string patterns": z.object({
    currency: z.string().regex(/^[A-Z]{3}$/),
    sku: z.string().regex(/^(?:SKU|ID)-\d{4}[a-f]?$/),
    wrapped: z.string().startsWith("ab").endsWith("yz"),
    middle: z.string().includes("mid"),
    upper: z.string().uppercase(),
    template: z.templateLiteral(["id-", z.number()]),
  }),
  "tuples": z.object({ pair: z.tuple([z.string(), z.int()]), rest: z.tuple([z.string()], z.number()) }),
  "records": z.object({ scores: z.record(z.enum(["a", "b"]), z.number()), free: z.record(z.string(), z.boolean()) }),
  "strict and loose objects": z.object({
    strict: z.strictObject({ a: z.string() }),
    loose: z.looseObject({ b: z.int() }),
  }),
  "defaults and examples": z.object({
    mode: z.enum(["fast", "slow"]).default("slow"),
    city: z.string().meta({ examples: ["Berlin"] }),
  }),
  "shared definitions": z.object({ from: point, to: point, path: z.array(point).min(3) }),
  "a recursive tree": tree,
  "a recursive optional parent": category,
  "an array at the root": z.array(z.object({ id: z.uuid() })).min(2),
  "a string at the root": z.string(),
  "a never field": z.object({ a: z.string(), b: z.never().optional() }),
};

for (const target of ["draft-7", "draft-2020-12"] as const) {
  for (const [label, schema] of Object.entries(schemas)) {
    Deno.test(`sampleFromSchema() gives valid data for ${label} (${target})`, () => {
      const jsonSchema = z.toJSONSchema(schema, { target, io: "input" });
      const value = sampleFromSchema(jsonSchema);
      const parsed = schema.safeParse(value);
      assert.ok(parsed.success, `${JSON.stringify(value)}: ${parsed.error?.message}`);
      assert.deepEqual(sampleFromSchema(jsonSchema), value, "the same schema gives the same value");
    });
  }
}

Deno.test("sampleFromSchema() picks readable values: bounds nearest 1, names and formats", () => {
  const schema = z.object({
    age: z.int().min(18),
    count: z.int(),
    filePath: z.string(),
    command: z.string(),
    title: z.string(),
    contact: z.email(),
    tags: z.array(z.string()).min(2),
    mode: z.enum(["a", "b"]).optional(),
  });
  assert.deepEqual(sampleFromSchema(z.toJSONSchema(schema, { io: "input" })), {
    age: 18,
    count: 1,
    filePath: "example.txt",
    command: "echo hello",
    title: "Example",
    contact: "user@example.com",
    tags: ["example", "example-2"],
    mode: "a",
  });
});

Deno.test("sampleFromSchema() uses each preferred string once, where it fits", () => {
  const schema = z.toJSONSchema(z.object({ to: z.email(), subject: z.string(), body: z.string() }));
  const value = sampleFromSchema(schema, { strings: ["Hello", "ana@example.org"] });
  assert.deepEqual(value, { to: "ana@example.org", subject: "Hello", body: "Example text" });
});

Deno.test("sampleFromSchema() stops recursion that the schema requires forever with null", () => {
  const endless = { type: "object", properties: { next: { $ref: "#" } }, required: ["next"] };
  let value = sampleFromSchema(endless) as Record<string, unknown> | null;
  let depth = 0;
  while (value !== null && typeof value === "object") {
    value = value.next as Record<string, unknown> | null;
    depth++;
  }
  assert.ok(depth > 3 && depth < 30, `depth ${depth}`);
});

Deno.test("sampleFromSchema() returns null for an empty or missing schema", () => {
  assert.equal(sampleFromSchema({}), null);
  assert.equal(sampleFromSchema(undefined), null);
});

Deno.test("samplePattern() generates from simple expressions and declines the rest", () => {
  assert.equal(samplePattern("^[A-Z]{3}$"), "AAA");
  assert.equal(samplePattern("^(?:cat|dog)s?-\\d{2,4}$"), "cat-11");
  assert.equal(samplePattern("^[^0-9]+$"), "a");
  assert.equal(samplePattern("^\\p{Lu}+$"), undefined);
  assert.equal(samplePattern("(unclosed"), undefined);
});
