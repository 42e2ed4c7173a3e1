import { deepStrictEqual, throws } from "node:assert/strict";
import { parseModelString } from "./model_string.ts";

Deno.test("parseModelString() splits at the first colon only", () => {
  deepStrictEqual(parseModelString("openai:gpt-5.5"), { provider: "openai", model: "gpt-5.5" });
  deepStrictEqual(parseModelString("ollama:llama3.2:3b"), { provider: "ollama", model: "llama3.2:3b" });
  deepStrictEqual(parseModelString("openrouter:anthropic/claude-x"), {
    provider: "openrouter",
    model: "anthropic/claude-x",
  });
});

Deno.test("parseModelString() reads the bare test as the test model", () => {
  deepStrictEqual(parseModelString("test"), { provider: "test", model: "test" });
});

Deno.test("parseModelString() lowercases the provider and keeps the model's case", () => {
  deepStrictEqual(parseModelString("OpenAI:GPT-5.5"), { provider: "openai", model: "GPT-5.5" });
});

Deno.test("parseModelString() rejects a string without a provider, showing the form", () => {
  throws(() => parseModelString("gpt5"), {
    name: "TypeError",
    message:
      `Invalid model "gpt5": use "provider:model", such as "openai:gpt-5.5", or "test" for the key-less test model`,
  });
});

Deno.test("parseModelString() rejects empty parts", () => {
  throws(() => parseModelString(""), { name: "TypeError", message: /^Invalid model "": use "provider:model"/ });
  throws(() => parseModelString(":gpt-5.5"), {
    name: "TypeError",
    message: /the provider is empty; use "provider:model"/,
  });
  throws(() => parseModelString("openai:"), { name: "TypeError", message: /the model name is empty/ });
});

Deno.test("parseModelString() rejects whitespace and control characters anywhere", () => {
  for (
    const spec of [
      " openai:gpt-5.5",
      "openai:gpt-5.5 ",
      "open ai:gpt",
      "openai:gpt 5",
      "openai:gpt\n5",
      "openai:\u0000",
    ]
  ) {
    throws(() => parseModelString(spec), { name: "TypeError", message: /whitespace or control characters/ }, spec);
  }
});

Deno.test("parseModelString() rejects a provider name that is not a plain identifier", () => {
  for (const spec of ["1ai:gpt", "open/ai:gpt", "op.en:gpt", "ü:gpt", `${"a".repeat(65)}:gpt`]) {
    throws(() => parseModelString(spec), { name: "TypeError", message: /the provider must start with a letter/ }, spec);
  }
});

Deno.test("parseModelString() rejects a model name that is too long, clipping the value in the message", () => {
  const spec = `openai:${"x".repeat(300)}`;
  throws(() => parseModelString(spec), (error: Error) => {
    return error instanceof TypeError && error.message.includes("longer than 256") && error.message.length < 300;
  });
});

Deno.test("parseModelString() rejects a value that is not a string", () => {
  throws(() => parseModelString(42 as unknown as string), { name: "TypeError", message: /of type number/ });
});
