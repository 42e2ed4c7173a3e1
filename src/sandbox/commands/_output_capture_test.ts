import assert from "node:assert/strict";
import { CappedOutput, drainInto } from "./_output_capture.ts";

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

Deno.test("CappedOutput keeps everything under the cap without a note", () => {
  const output = new CappedOutput(10);
  output.push(encode("hello"));
  output.push(encode("\n"));
  assert.equal(output.text(), "hello\n");
  assert.equal(output.isTruncated, false);
});

Deno.test("CappedOutput keeps the first bytes and counts the rest in a note", () => {
  const output = new CappedOutput(5);
  output.push(encode("abc"));
  output.push(encode("defgh"));
  output.push(encode("ijk"));
  assert.equal(output.text(), "abcde\n[output truncated: 6 more bytes]");
  assert.equal(output.isTruncated, true);
});

Deno.test("CappedOutput never splits a UTF-8 character at the cap", () => {
  const output = new CappedOutput(4);
  output.push(encode("ab€c")); // "€" is 3 bytes: a b [e2 82 ac] c
  assert.equal(output.text(), "ab\n[output truncated: 4 more bytes]");
});

Deno.test("CappedOutput grows its buffer past the first allocation up to the cap", () => {
  const output = new CappedOutput(200_000);
  for (let index = 0; index < 5; index++) output.push(new Uint8Array(50_000).fill(97));
  const text = output.text();
  assert.ok(text.startsWith("a".repeat(200_000)));
  assert.ok(text.endsWith("[output truncated: 50000 more bytes]"));
});

Deno.test("drainInto() reads a stream to its end and stops when its reader is cancelled", async () => {
  const output = new CappedOutput(100);
  const reading: { reader?: ReadableStreamDefaultReader<Uint8Array> } = {};
  let pull = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pull++ < 2) controller.enqueue(encode("x"));
      // Then it never ends, like a pipe a descendant keeps open.
    },
  });
  const drained = drainInto(stream, output, reading);
  while (output.text().length < 2) await new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
  await reading.reader?.cancel();
  await drained;
  assert.equal(output.text(), "xx");
});
