import assert from "node:assert/strict";
import { extractJson, extractJsonCandidates } from "./extract_json.ts";

Deno.test("extractJson() takes the delimited block inside prose first", () => {
  const text = 'I checked everything. {"draft": true}\n---RESULT_START---\n{"title": "Done", "count": 2}\n' +
    "---RESULT_END---\nLet me know if you need more.";
  assert.deepEqual(extractJson(text), {
    value: { title: "Done", count: 2 },
    layer: "delimited",
    repaired: false,
    source: '{"title": "Done", "count": 2}',
  });
});

Deno.test("extractJson() prefers the last delimited block, since the first may echo the instructions", () => {
  const text =
    "I will answer between ---RESULT_START--- and ---RESULT_END---.\n---RESULT_START---\n[1, 2]\n---RESULT_END---";
  assert.deepEqual(extractJson(text)?.value, [1, 2]);
});

Deno.test("extractJson() reads a delimited block wrapped in a fence, and one cut off before its end marker", () => {
  assert.deepEqual(extractJson('---RESULT_START---\n```json\n{"a": 1}\n```\n---RESULT_END---'), {
    value: { a: 1 },
    layer: "delimited",
    repaired: false,
    source: '{"a": 1}',
  });
  const truncated = extractJson('---RESULT_START---\n{"a": [1, 2');
  assert.deepEqual(truncated?.value, { a: [1, 2] });
  assert.equal(truncated?.repaired, true);
});

Deno.test("extractJson() parses a reply that is JSON as a whole", () => {
  assert.deepEqual(extractJson('  {"ok": true}\n'), {
    value: { ok: true },
    layer: "whole",
    repaired: false,
    source: '{"ok": true}',
  });
  assert.deepEqual(extractJson("42")?.value, 42);
  assert.deepEqual(extractJson('"just a string"')?.value, "just a string");
});

Deno.test("extractJson() finds a json fence and an unlabelled fence, and skips fences in other languages", () => {
  assert.deepEqual(extractJson('Here it is:\n```json\n{"a": 1}\n```\nThanks'), {
    value: { a: 1 },
    layer: "fenced",
    repaired: false,
    source: '{"a": 1}',
  });
  assert.equal(extractJson('Here:\n```\n["x"]\n```')?.layer, "fenced");
  const skipped = extractJsonCandidates('```ts\nconst a = {"b": 1};\n```');
  assert.deepEqual(skipped.map((candidate) => candidate.layer), ["span"]);
});

Deno.test("extractJson() takes the first parsable balanced span inside prose, braces in strings included", () => {
  const text = 'Result: {"note": "a } inside", "list": [1, {"b": 2}]} and later {"other": 1}';
  assert.deepEqual(extractJson(text), {
    value: { note: "a } inside", list: [1, { b: 2 }] },
    layer: "span",
    repaired: false,
    source: '{"note": "a } inside", "list": [1, {"b": 2}]}',
  });
});

Deno.test("extractJsonCandidates() skips spans that do not parse and keeps later ones", () => {
  const candidates = extractJsonCandidates('Use {placeholders} like [this} then {"real": true}');
  assert.deepEqual(candidates[0].value, { real: true });
});

Deno.test("extractJson() repairs truncated JSON", () => {
  const found = extractJson('{"items": [{"title": "a"}, {"title": "b"');
  assert.deepEqual(found?.value, { items: [{ title: "a" }, { title: "b" }] });
  assert.equal(found?.layer, "whole");
  assert.equal(found?.repaired, true);
  const inProse = extractJson('The answer is {"items": [1, 2');
  assert.deepEqual(inProse?.value, { items: [1, 2] });
  assert.equal(inProse?.layer, "span");
});

Deno.test("extractJson() repairs trailing commas and single quotes", () => {
  const found = extractJson("{'title': 'Done', 'tags': ['a', 'b',],}");
  assert.deepEqual(found?.value, { title: "Done", tags: ["a", "b"] });
  assert.equal(found?.repaired, true);
  const fenced = extractJson("Sure:\n```json\n{'a': 1,}\n```");
  assert.deepEqual(fenced?.value, { a: 1 });
  assert.equal(fenced?.layer, "fenced");
});

Deno.test("extractJsonCandidates() does not repair prose into JSON", () => {
  assert.deepEqual(extractJsonCandidates("The answer is probably yes."), []);
  const candidates = extractJsonCandidates('{"a": 1}\nHope this helps!');
  // jsonrepair would read this as a two-item list; the object the reply opened with is what it meant.
  assert.deepEqual(candidates.map((candidate) => candidate.value), [{ a: 1 }]);
});

Deno.test("extractJsonCandidates() repairs a bare word between the markers into a string", () => {
  assert.deepEqual(extractJson("---RESULT_START---\nfast\n---RESULT_END---")?.value, "fast");
});

Deno.test("extractJsonCandidates() lists arrays at the root and each value once", () => {
  const candidates = extractJsonCandidates('[{"a": 1}, {"a": 2}]');
  assert.deepEqual(candidates.map((candidate) => candidate.layer), ["whole"]);
  assert.deepEqual(candidates[0].value, [{ a: 1 }, { a: 2 }]);
});

Deno.test("extractJsonCandidates() returns nothing for an empty reply", () => {
  assert.deepEqual(extractJsonCandidates(""), []);
  assert.deepEqual(extractJsonCandidates("   \n"), []);
});
