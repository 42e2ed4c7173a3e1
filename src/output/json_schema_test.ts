import assert from "node:assert/strict";
import { z } from "zod";
import { toJsonSchema } from "./json_schema.ts";

Deno.test("toJsonSchema() converts an object schema to draft-07 with its required keys", () => {
  const jsonSchema = toJsonSchema(z.object({ title: z.string(), count: z.number().int().optional() }));
  assert.equal(jsonSchema.$schema, "http://json-schema.org/draft-07/schema#");
  assert.equal(jsonSchema.type, "object");
  assert.deepEqual(jsonSchema.required, ["title"]);
  assert.deepEqual(Object.keys(jsonSchema.properties as object), ["title", "count"]);
});

Deno.test("toJsonSchema() describes the input, so a defaulted field is optional and a transform is allowed", () => {
  const jsonSchema = toJsonSchema(z.object({
    mode: z.enum(["fast", "slow"]).default("fast"),
    length: z.string().transform((text) => text.length),
  }));
  assert.deepEqual(jsonSchema.required, ["length"]);
  assert.deepEqual((jsonSchema.properties as Record<string, unknown>).length, { type: "string" });
});

Deno.test("toJsonSchema() uses definitions for shared schemas with an id and a self reference for recursion", () => {
  const point = z.object({ x: z.number() }).meta({ id: "Point" });
  const shared = toJsonSchema(z.object({ from: point, to: point }));
  assert.deepEqual((shared.properties as Record<string, unknown>).from, { $ref: "#/definitions/Point" });
  assert.ok((shared.definitions as Record<string, unknown>).Point);

  type Tree = { name: string; children: Tree[] };
  const tree: z.ZodType<Tree> = z.object({
    name: z.string(),
    get children() {
      return z.array(tree);
    },
  });
  const recursive = toJsonSchema(tree);
  assert.deepEqual((recursive.properties as Record<string, unknown>).children, { type: "array", items: { $ref: "#" } });
});

Deno.test("toJsonSchema() turns a discriminated union's oneOf into anyOf", () => {
  const jsonSchema = toJsonSchema(z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("a") }),
    z.object({ kind: z.literal("b"), value: z.number() }),
  ]));
  assert.equal(jsonSchema.oneOf, undefined);
  assert.equal((jsonSchema.anyOf as unknown[]).length, 2);
});

Deno.test("toJsonSchema() rejects a schema with no JSON form with a TypeError naming where", () => {
  assert.throws(
    () => toJsonSchema(z.object({ due: z.date() })),
    (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /cannot be represented as JSON Schema at "#\/properties\/due": Date/);
      assert.match(error.message, /z\.iso\.datetime\(\)/);
      return true;
    },
  );
  assert.throws(() => toJsonSchema(z.bigint()), /at "#": BigInt cannot be represented/);
  assert.throws(() => toJsonSchema(z.object({ tags: z.set(z.string()) })), TypeError);
});

Deno.test("toJsonSchema() rejects a value that is not a zod schema", () => {
  assert.throws(
    () => toJsonSchema({ type: "object" } as unknown as z.ZodType),
    { name: "TypeError", message: /Expected a zod 4 schema for the result, got an object with keys \["type"\]/ },
  );
});
