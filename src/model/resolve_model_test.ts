import { deepStrictEqual, equal, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { ModelError } from "../errors.ts";
import { startFakeOpenAI } from "../testing/fake_openai.ts";
import type { ChatModel, ModelRequest } from "./chat_model.ts";
import { registerProvider } from "./providers.ts";
import { resolveModel } from "./resolve_model.ts";

function requestOf(): ModelRequest {
  return { messages: [{ role: "user", content: "Hi" }], tools: [], signal: new AbortController().signal };
}

Deno.test("resolveModel() passes a ChatModel object through unchanged", () => {
  const model: ChatModel = {
    id: "custom",
    provider: "custom",
    supportsStructuredOutput: false,
    complete: () => Promise.reject(new Error("unused")),
  };
  strictEqual(resolveModel(model), model);
});

Deno.test("resolveModel() builds a model from the table with the key from env", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "hello" }] });
  const model = resolveModel("openai:gpt-5.5", {
    env: { OPENAI_API_KEY: "sk-from-env" },
    providers: { openai: { baseURL: server.url, headers: { "X-Config": "yes" } } },
  });
  deepStrictEqual([model.id, model.provider, model.supportsStructuredOutput], ["openai:gpt-5.5", "openai", true]);
  equal((await model.complete(requestOf())).text, "hello");
  const [request] = server.requests;
  deepStrictEqual([
    request.headers.authorization,
    request.headers["x-config"],
    (request.body as { model: string }).model,
  ], [
    "Bearer sk-from-env",
    "yes",
    "gpt-5.5",
  ]);
});

Deno.test("resolveModel() says which variable to set when the key is missing", () => {
  throws(() => resolveModel("openai:gpt-5.5", { env: {} }), {
    name: "TypeError",
    message: "OPENAI_API_KEY is not set: export it, or use --model test to run key-less",
  });
  throws(() => resolveModel("groq:llama-3.3-70b", { env: { GROQ_API_KEY: "  " } }), {
    message: "GROQ_API_KEY is not set: export it, or use --model test to run key-less",
  });
});

Deno.test("resolveModel() needs no key for a local provider and sends none", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "local" }] });
  const model = resolveModel("ollama:llama3.2:3b", { env: {}, providers: { ollama: { baseURL: server.url } } });
  equal(model.id, "ollama:llama3.2:3b");
  equal((await model.complete(requestOf())).text, "local");
  equal(server.requests[0].headers.authorization, undefined);
  equal((server.requests[0].body as { model: string }).model, "llama3.2:3b");
});

Deno.test("resolveModel() names the variable when the provider rejects the key", async () => {
  await using server = startFakeOpenAI({ requireApiKey: "sk-right" });
  const model = resolveModel("openai:gpt-5.5", {
    env: { OPENAI_API_KEY: "sk-wrong" },
    providers: { openai: { baseURL: server.url } },
  });
  await rejects(model.complete(requestOf()), (error) => {
    ok(error instanceof ModelError && error.message.includes("from OPENAI_API_KEY (401)"), String(error));
    equal(error.isRetryable, false);
    return true;
  });
});

Deno.test("resolveModel() uses a provider defined only in the providers option", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "custom" }] });
  const model = resolveModel("inhouse:big-model", {
    env: { INHOUSE_KEY: "sk-inhouse" },
    providers: { inhouse: { baseURL: server.url, apiKeyEnv: "INHOUSE_KEY" } },
  });
  equal((await model.complete(requestOf())).text, "custom");
  equal(server.requests[0].headers.authorization, "Bearer sk-inhouse");
});

Deno.test("resolveModel() uses a provider added with registerProvider()", async () => {
  await using server = startFakeOpenAI({ steps: [{ text: "registered" }] });
  registerProvider("resolve-registered", { baseURL: server.url, apiKey: "sk-registered" });
  const model = resolveModel("resolve-registered:m", { env: {} });
  equal((await model.complete(requestOf())).text, "registered");
  equal(server.requests[0].headers.authorization, "Bearer sk-registered");
});

Deno.test("resolveModel() passes timeoutMs and maxRetries to the model", async () => {
  await using server = startFakeOpenAI({ steps: [{ status: 500 }, { text: "never" }] });
  const model = resolveModel("ollama:m", { env: {}, providers: { ollama: { baseURL: server.url } }, maxRetries: 0 });
  await rejects(model.complete(requestOf()), { name: "ModelError" });
  equal(server.requests.length, 1);
  throws(() => resolveModel("ollama:m", { env: {}, timeoutMs: -5 }), { name: "RangeError", message: /timeoutMs -5/ });
});

Deno.test("resolveModel() rejects an unknown provider, listing the known ones", () => {
  throws(() => resolveModel("nosuch:model", { env: {} }), {
    name: "TypeError",
    message: /^Unknown provider "nosuch": use one of .*openai.*test/,
  });
});

Deno.test("resolveModel() rejects malformed model strings", () => {
  throws(() => resolveModel("gpt5", { env: {} }), {
    name: "TypeError",
    message: /^Invalid model "gpt5": use "provider:model"/,
  });
  throws(() => resolveModel(42 as unknown as string), {
    name: "TypeError",
    message: /expected a "provider:model" string/,
  });
});

Deno.test("resolveModel() explains that the test model is not wired here yet", () => {
  throws(() => resolveModel("test"), { name: "TypeError", message: /The "test" model cannot be resolved here yet/ });
});
