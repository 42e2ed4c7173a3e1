import assert from "node:assert/strict";
import { parseConfig } from "../project/config.ts";
import { DEFAULT_CONTEXT_WINDOW } from "./chat_model.ts";
import { defaultContextWindow } from "./context_window.ts";
import { getProvider, registerProvider } from "./providers.ts";
import { resolveModel } from "./resolve_model.ts";

Deno.test("defaultContextWindow() knows model families, local servers, and falls back to the default", () => {
  assert.equal(defaultContextWindow("openai", "gpt-5.5"), 272_000);
  assert.equal(defaultContextWindow("openai", "gpt-4o-mini"), 128_000);
  assert.equal(defaultContextWindow("openai", "gpt-4"), 8_192);
  assert.equal(defaultContextWindow("openai", "o3-mini"), 200_000);
  assert.equal(defaultContextWindow("openrouter", "anthropic/claude-sonnet-4.5"), 200_000);
  assert.equal(defaultContextWindow("openrouter", "google/gemini-2.5-pro"), 1_000_000);
  assert.equal(defaultContextWindow("groq", "llama-3.3-70b-versatile"), 128_000);
  assert.equal(defaultContextWindow("ollama", "llama3.2"), 8_192);
  assert.equal(defaultContextWindow("vllm", "my-fine-tune"), DEFAULT_CONTEXT_WINDOW);
});

Deno.test("a provider's contextWindow setting wins over the family default", () => {
  const model = resolveModel("ollama:qwen3", { providers: { ollama: { contextWindow: 65_536 } } });
  assert.equal(model.contextWindow, 65_536);
  assert.equal(resolveModel("openai:gpt-4o", { env: { OPENAI_API_KEY: "sk-x" } }).contextWindow, 128_000);
  registerProvider("windowed", { baseURL: "http://127.0.0.1:9/v1", contextWindow: 12_000 });
  assert.equal(getProvider("windowed").contextWindow, 12_000);
});

Deno.test("an invalid contextWindow is refused with the value and the range", () => {
  assert.throws(
    () => registerProvider("bad-window", { baseURL: "http://127.0.0.1:9/v1", contextWindow: 12.5 }),
    /Invalid contextWindow 12.5 for provider "bad-window": expected a whole number of tokens from 1000/,
  );
  assert.throws(() => parseConfig({ providers: { local: { contextWindow: 10 } } }, "deno.json"), /contextWindow/);
  assert.equal(
    parseConfig({ providers: { local: { contextWindow: 40_000 } } }, "deno.json").providers?.local.contextWindow,
    40_000,
  );
});
