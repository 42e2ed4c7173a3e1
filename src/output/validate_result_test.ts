import assert from "node:assert/strict";
import { z } from "zod";
import { validateResult } from "./validate_result.ts";

const Review = z.object({ title: z.string(), score: z.number().min(0).max(10) });

Deno.test("validateResult() returns the first candidate the schema accepts, with its layer", () => {
  // The span comes first in the text but the delimited block is the answer.
  const text = 'Draft: {"title": "x"}\n---RESULT_START---\n{"title": "Good", "score": 8}\n---RESULT_END---';
  assert.deepEqual(validateResult(Review, text), {
    ok: true,
    data: { title: "Good", score: 8 },
    layer: "delimited",
    repaired: false,
  });
});

Deno.test("validateResult() moves on to a later candidate when an earlier one does not validate", () => {
  const text = 'Example: {"title": 1}\nAnswer:\n```json\n{"title": "Real", "score": 3,}\n```';
  assert.deepEqual(validateResult(Review, text), {
    ok: true,
    data: { title: "Real", score: 3 },
    layer: "fenced",
    repaired: true,
  });
});

Deno.test("validateResult() reports zod's issues with paths for the first candidate", () => {
  const outcome = validateResult(Review, '{"title": 5, "score": 11}');
  assert.equal(outcome.ok, false);
  if (outcome.ok) return;
  assert.deepEqual(outcome.issues.map((issue) => issue.path), [["title"], ["score"]]);
  assert.match(outcome.issues[0].message, /expected string, received number/);
  assert.match(outcome.issues[1].message, /<=10/);
  assert.equal(outcome.rawText, '{"title": 5, "score": 11}');
});

Deno.test("validateResult() reports no JSON as an issue at the root", () => {
  const outcome = validateResult(Review, "I could not decide.");
  assert.deepEqual(outcome, {
    ok: false,
    issues: [{
      path: [],
      message:
        "No JSON value found in the reply: write the answer as JSON between ---RESULT_START--- and ---RESULT_END---",
    }],
    rawText: "I could not decide.",
  });
});

Deno.test("validateResult() validates arrays at the root, with item indexes in the paths", () => {
  const Items = z.array(z.object({ id: z.number() }));
  assert.deepEqual(validateResult(Items, 'Items: [{"id": 1}, {"id": 2}]'), {
    ok: true,
    data: [{ id: 1 }, { id: 2 }],
    layer: "span",
    repaired: false,
  });
  const outcome = validateResult(Items, '[{"id": 1}, {"id": "2"}]');
  assert.ok(!outcome.ok);
  assert.deepEqual(outcome.issues[0].path, [1, "id"]);
});

Deno.test("validateResult() accepts a non-object schema such as z.string() or an enum", () => {
  assert.deepEqual(validateResult(z.string(), '"Paris"'), { ok: true, data: "Paris", layer: "whole", repaired: false });
  assert.deepEqual(validateResult(z.enum(["yes", "no"]), "---RESULT_START---\nno\n---RESULT_END---"), {
    ok: true,
    data: "no",
    layer: "delimited",
    repaired: true,
  });
  assert.equal(validateResult(z.number(), "seven").ok, false);
});

Deno.test("validateResult() applies defaults and transforms of the schema", () => {
  const schema = z.object({ mode: z.string().default("fast"), words: z.string().transform((text) => text.split(" ")) });
  assert.deepEqual(validateResult(schema, '{"words": "a b"}'), {
    ok: true,
    data: { mode: "fast", words: ["a", "b"] },
    layer: "whole",
    repaired: false,
  });
});

Deno.test("validateResult() explains a failed union by its options", () => {
  const schema = z.object({ value: z.union([z.number(), z.object({ unit: z.string() })]) });
  const outcome = validateResult(schema, '{"value": {"unit": 3}}');
  assert.ok(!outcome.ok);
  assert.deepEqual(outcome.issues[0].path, ["value"]);
  assert.match(
    outcome.issues[0].message,
    /^Matches none of the 2 allowed shapes \(.*expected number.*; or unit: .*expected string/,
  );
});
