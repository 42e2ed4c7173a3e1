import assert from "node:assert/strict";
import { z } from "zod";
import { ResultValidationError } from "../errors.ts";
import { runTypedCall } from "./typed_call.ts";

const Task = z.object({ title: z.string(), priority: z.number().int() });

/** An attempt function that replies from a list and records the feedback it was given. */
function replying(replies: string[]): {
  attempt: (feedback: string | undefined, attemptNumber: number) => Promise<string>;
  feedbacks: (string | undefined)[];
  attemptNumbers: number[];
} {
  const feedbacks: (string | undefined)[] = [];
  const attemptNumbers: number[] = [];
  return {
    feedbacks,
    attemptNumbers,
    attempt: (feedback, attemptNumber) => {
      feedbacks.push(feedback);
      attemptNumbers.push(attemptNumber);
      const reply = replies[attemptNumber - 1];
      if (reply === undefined) throw new Error(`No reply for attempt ${attemptNumber}`);
      return Promise.resolve(reply);
    },
  };
}

Deno.test("runTypedCall() returns the data of a first reply that validates", async () => {
  const model = replying(['---RESULT_START---\n{"title": "Ship", "priority": 1}\n---RESULT_END---']);
  const result = await runTypedCall({ schema: Task, attempt: model.attempt });
  assert.deepEqual(result.data, { title: "Ship", priority: 1 });
  assert.equal(result.attempts, 1);
  assert.match(result.text, /RESULT_START/);
  assert.deepEqual(model.feedbacks, [undefined]);
});

Deno.test("runTypedCall() fixes wrong types on the second try, with feedback naming the wrong path", async () => {
  const model = replying(['{"title": "Ship", "priority": "high"}', '{"title": "Ship", "priority": 3}']);
  const result = await runTypedCall({ schema: Task, attempt: model.attempt });
  assert.deepEqual(result.data, { title: "Ship", priority: 3 });
  assert.equal(result.attempts, 2);
  assert.deepEqual(model.attemptNumbers, [1, 2]);
  const feedback = model.feedbacks[1] ?? "";
  assert.match(feedback, /^- priority: Invalid input: expected number, received string$/m);
  assert.match(feedback, /between a line ---RESULT_START--- and a line ---RESULT_END---/);
  assert.doesNotMatch(feedback, /title/);
});

Deno.test("runTypedCall() throws ResultValidationError with the raw text and issues after exactly 1 + N attempts", async () => {
  const model = replying(['{"title": 1}', '{"title": 2}', "no idea", '{"title": "never asked", "priority": 1}']);
  const error = await runTypedCall({ schema: Task, typedRetries: 2, attempt: model.attempt }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ResultValidationError);
  assert.equal(error.attempts, 3);
  assert.equal(error.rawText, "no idea");
  assert.deepEqual(error.issues.map((issue) => issue.path), [[]]);
  assert.match(error.issues[0].message, /No JSON value found/);
  assert.deepEqual(model.attemptNumbers, [1, 2, 3]);
});

Deno.test("runTypedCall() makes four attempts by default", async () => {
  const model = replying(["a", "b", "c", "d", '{"title": "never asked", "priority": 1}']);
  await assert.rejects(runTypedCall({ schema: Task, attempt: model.attempt }), { name: "ResultValidationError" });
  assert.deepEqual(model.attemptNumbers, [1, 2, 3, 4]);
});

Deno.test("runTypedCall() with typedRetries 0 makes one attempt and throws", async () => {
  const model = replying(['{"title": "x", "priority": 1.5}', '{"title": "x", "priority": 1}']);
  const error = await runTypedCall({ schema: Task, typedRetries: 0, attempt: model.attempt }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ResultValidationError);
  assert.equal(error.attempts, 1);
  assert.deepEqual(error.issues[0].path, ["priority"]);
  assert.deepEqual(model.attemptNumbers, [1]);
});

Deno.test("runTypedCall() handles an array at the root and a non-object schema", async () => {
  const list = await runTypedCall({
    schema: z.array(z.string()).min(1),
    attempt: replying(["Here: []", 'Here: ["a", "b"]']).attempt,
  });
  assert.deepEqual(list, { data: ["a", "b"], text: 'Here: ["a", "b"]', attempts: 2 });

  const model = replying(["Paris", '"Paris"']);
  const city = await runTypedCall({ schema: z.string(), attempt: model.attempt });
  assert.equal(city.data, "Paris");
  assert.equal(city.attempts, 2);
  assert.match(model.feedbacks[1] ?? "", /^- \(root\): No JSON value found/m);
});

Deno.test("runTypedCall() asks for bare JSON when the model uses native structured output", async () => {
  const model = replying(['{"title": 3, "priority": 1}', '{"title": "x", "priority": 1}']);
  await runTypedCall({ schema: Task, structuredOutput: true, attempt: model.attempt });
  assert.match(model.feedbacks[1] ?? "", /Reply again with only the corrected JSON value\.$/);
  assert.doesNotMatch(model.feedbacks[1] ?? "", /RESULT_START/);
});

Deno.test("runTypedCall() lets an attempt's own error end the call unchanged", async () => {
  const failure = new Error("provider down");
  await assert.rejects(
    runTypedCall({ schema: Task, attempt: () => Promise.reject(failure) }),
    (error) => error === failure,
  );
});

Deno.test("runTypedCall() rejects a retry budget that is not a whole number from 0 to 10", async () => {
  for (const typedRetries of [-1, 1.5, 11, Infinity, Number.NaN]) {
    await assert.rejects(
      runTypedCall({ schema: Task, typedRetries, attempt: () => Promise.resolve("{}") }),
      { name: "RangeError", message: /^Invalid typedRetries .*: use a whole number from 0 to 10$/ },
    );
  }
});
