import assert from "node:assert/strict";
import { ModelError } from "../errors.ts";
import { describesContextOverflow, isContextOverflowError } from "./context_overflow.ts";

Deno.test("describesContextOverflow() recognises the wording of common providers", () => {
  const overflowing = [
    "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
    "prompt is too long: 210000 tokens > 200000 maximum",
    "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
    "Please reduce the length of the messages or completion.",
    "Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length",
    "request exceeds the model's context window",
  ];
  for (const message of overflowing) assert.ok(describesContextOverflow(400, undefined, message), message);
  assert.ok(describesContextOverflow(400, "context_length_exceeded", "Bad request"));
  assert.ok(describesContextOverflow(413, undefined, "Payload Too Large"));
});

Deno.test("describesContextOverflow() leaves other failures alone", () => {
  assert.ok(!describesContextOverflow(400, undefined, "Invalid value for 'temperature'"));
  assert.ok(!describesContextOverflow(401, "context_length_exceeded", "maximum context length"));
  assert.ok(!describesContextOverflow(500, undefined, "maximum context length"));
  assert.ok(!describesContextOverflow(429, undefined, "Rate limit reached"));
});

Deno.test("isContextOverflowError() reads ModelError's flag and other SDKs' status and message", () => {
  assert.ok(isContextOverflowError(new ModelError("too long", { status: 400, isContextOverflow: true })));
  assert.ok(!isContextOverflowError(new ModelError("rate limited", { status: 429 })));
  const sdkError = Object.assign(new Error("prompt is too long: 300000 tokens"), { statusCode: 400 });
  assert.ok(isContextOverflowError(sdkError));
  assert.ok(!isContextOverflowError(new Error("prompt is too long")), "no status: not a provider refusal");
  assert.ok(!isContextOverflowError("context_length_exceeded"));
});
