import assert from "node:assert/strict";
import { formatIssuePath, resultInstructions, retryInstructions } from "./result_instructions.ts";

Deno.test("resultInstructions() gives the schema without its draft URL and asks for JSON between the markers", () => {
  const text = resultInstructions({
    $schema: "http://json-schema.org/draft-07/schema#",
    type: "object",
    properties: { title: { type: "string" } },
  });
  assert.ok(text.startsWith("When you have finished, give your final answer as one JSON value"));
  assert.doesNotMatch(text, /draft-07/);
  assert.match(text, /"title": \{\n\s+"type": "string"/);
  assert.match(text, /between a line ---RESULT_START--- and a line ---RESULT_END---/);
  assert.ok(text.endsWith("---RESULT_START---\n<the JSON value>\n---RESULT_END---"));
});

Deno.test("retryInstructions() lists at most ten issues, shortened, then asks again", () => {
  const issues = Array.from({ length: 12 }, (_, index) => ({ path: ["items", index], message: "x".repeat(400) }));
  const lines = retryInstructions(issues).split("\n");
  assert.equal(lines[0], "Your final answer did not match the required JSON Schema:");
  assert.equal(lines.length, 1 + 10 + 1 + 1);
  assert.ok(lines[1].startsWith("- items[0]: xxx"));
  assert.ok(lines[1].length < 320);
  assert.equal(lines[11], "- and 2 more");
});

Deno.test("formatIssuePath() writes paths as property access", () => {
  assert.equal(formatIssuePath([]), "(root)");
  assert.equal(formatIssuePath([0]), "[0]");
  assert.equal(formatIssuePath(["items", 2, "title"]), "items[2].title");
  assert.equal(formatIssuePath(["odd key", "ok"]), '["odd key"].ok');
});
