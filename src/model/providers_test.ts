import { deepStrictEqual, equal, notEqual, ok, throws } from "node:assert/strict";
import { getProvider, listProviders, registerProvider } from "./providers.ts";

Deno.test("getProvider() knows the built-in endpoints and their key variables", () => {
  const expected: Record<string, [string, string | undefined]> = {
    openai: ["https://api.openai.com/v1", "OPENAI_API_KEY"],
    openrouter: ["https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"],
    groq: ["https://api.groq.com/openai/v1", "GROQ_API_KEY"],
    deepseek: ["https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"],
    together: ["https://api.together.xyz/v1", "TOGETHER_API_KEY"],
    ollama: ["http://127.0.0.1:11434/v1", undefined],
    lmstudio: ["http://127.0.0.1:1234/v1", undefined],
  };
  for (const [name, [baseURL, apiKeyEnv]] of Object.entries(expected)) {
    const settings = getProvider(name);
    deepStrictEqual([settings.baseURL, settings.apiKeyEnv], [baseURL, apiKeyEnv], name);
  }
});

Deno.test("listProviders() lists the table sorted", () => {
  const names = listProviders();
  deepStrictEqual(names, [...names].sort());
  for (const name of ["openai", "openrouter", "ollama", "groq", "deepseek", "together", "lmstudio"]) {
    ok(names.includes(name), name);
  }
  ok(!names.includes("test"));
});

Deno.test("getProvider() merges overrides for one call without changing the table", () => {
  const merged = getProvider("openrouter", { headers: { "X-Title": "Flue" }, baseURL: "https://proxy.example/v1" });
  equal(merged.baseURL, "https://proxy.example/v1");
  equal(merged.apiKeyEnv, "OPENROUTER_API_KEY");
  deepStrictEqual(merged.headers, { "X-Title": "Flue" });
  equal(getProvider("openrouter").baseURL, "https://openrouter.ai/api/v1");
  equal(getProvider("openrouter").headers, undefined);
});

Deno.test("getProvider() returns a copy the caller cannot use to change the table", () => {
  registerProvider("copy-check", { baseURL: "https://copy.example/v1", headers: { "X-A": "1" } });
  const first = getProvider("copy-check");
  first.baseURL = "https://changed.example/v1";
  first.headers!["X-A"] = "2";
  deepStrictEqual(getProvider("copy-check"), { baseURL: "https://copy.example/v1", headers: { "X-A": "1" } });
});

Deno.test("getProvider() merges headers key by key", () => {
  registerProvider("headers-merge", { baseURL: "https://h.example/v1", headers: { "X-A": "1", "X-B": "1" } });
  deepStrictEqual(getProvider("headers-merge", { headers: { "X-B": "2", "X-C": "3" } }).headers, {
    "X-A": "1",
    "X-B": "2",
    "X-C": "3",
  });
});

Deno.test("getProvider() accepts a provider defined entirely by overrides", () => {
  deepStrictEqual(getProvider("from-config", { baseURL: "https://config.example/v1", apiKeyEnv: "CONFIG_KEY" }), {
    baseURL: "https://config.example/v1",
    apiKeyEnv: "CONFIG_KEY",
  });
});

Deno.test("getProvider() rejects an unknown provider, listing the known ones", () => {
  throws(() => getProvider("nope"), (error: Error) => {
    return error instanceof TypeError && error.message.startsWith(`Unknown provider "nope": use one of `) &&
      error.message.includes("openai") && error.message.includes("ollama") && error.message.includes("test") &&
      error.message.includes("registerProvider()");
  });
});

Deno.test("getProvider() rejects an override with an unknown or invalid setting", () => {
  throws(() => getProvider("openai", { baseUrl: "https://x.example" } as never), {
    name: "TypeError",
    message: /Unknown setting "baseUrl" for provider "openai": use baseURL, apiKeyEnv/,
  });
  throws(() => getProvider("openai", { baseURL: "ftp://x.example/v1" }), { message: /use an http or https URL/ });
});

Deno.test("registerProvider() adds and replaces an entry", () => {
  registerProvider("replace-me", { baseURL: "https://one.example/v1", apiKeyEnv: "ONE_KEY" });
  equal(getProvider("replace-me").baseURL, "https://one.example/v1");
  registerProvider("replace-me", { baseURL: "https://two.example/v1", supportsStructuredOutput: true });
  deepStrictEqual(getProvider("replace-me"), { baseURL: "https://two.example/v1", supportsStructuredOutput: true });
  ok(listProviders().includes("replace-me"));
});

Deno.test("registerProvider() keeps its own copy of the settings", () => {
  const settings = { baseURL: "https://mine.example/v1", headers: { "X-A": "1" } };
  registerProvider("own-copy", settings);
  settings.headers["X-A"] = "changed";
  settings.baseURL = "https://changed.example/v1";
  deepStrictEqual(getProvider("own-copy"), { baseURL: "https://mine.example/v1", headers: { "X-A": "1" } });
});

Deno.test("registerProvider() rejects invalid and reserved names", () => {
  for (const name of ["", "Upper", "1st", "has space", "a/b", "x".repeat(65)]) {
    throws(() => registerProvider(name, { baseURL: "https://x.example/v1" }), {
      name: "TypeError",
      message: /^Invalid provider name .*: use lowercase letters/,
    }, name);
  }
  throws(() => registerProvider("test", { baseURL: "https://x.example/v1" }), {
    message: `Invalid provider name "test": it is reserved for the key-less test model`,
  });
});

Deno.test("registerProvider() rejects base URLs that are not http(s), carry credentials, a query or a fragment", () => {
  const cases: [string, RegExp][] = [
    ["not a url", /it is not a URL/],
    ["file:///etc/passwd", /use an http or https URL/],
    ["https://user:pass@x.example/v1", /remove the credentials from the URL/],
    ["https://x.example/v1?key=1", /remove the query and fragment/],
    ["https://x.example/v1#frag", /remove the query and fragment/],
  ];
  for (const [baseURL, message] of cases) {
    throws(() => registerProvider("bad-url", { baseURL }), { name: "TypeError", message }, baseURL);
  }
  throws(() => registerProvider("bad-url", {} as never), { message: /Invalid baseURL for provider "bad-url"/ });
});

Deno.test("registerProvider() refuses to send a key over plain http except to loopback", () => {
  throws(() => registerProvider("lan", { baseURL: "http://192.168.1.5:11434/v1", apiKeyEnv: "LAN_KEY" }), {
    message: /an API key would travel unencrypted; use https/,
  });
  registerProvider("lan", { baseURL: "http://192.168.1.5:11434/v1" });
  registerProvider("loopback-key", { baseURL: "http://127.0.0.1:8000/v1", apiKeyEnv: "LOCAL_KEY" });
  registerProvider("localhost-key", { baseURL: "http://localhost:8000/v1", apiKey: "sk-local" });
  registerProvider("ipv6-key", { baseURL: "http://[::1]:8000/v1", apiKey: "sk-local" });
});

Deno.test("registerProvider() validates the key variable, key, headers and flags", () => {
  const base = { baseURL: "https://x.example/v1" };
  throws(() => registerProvider("bad", { ...base, apiKeyEnv: "MY-KEY" }), { message: /Invalid apiKeyEnv "MY-KEY"/ });
  throws(() => registerProvider("bad", { ...base, apiKey: "" }), { message: /Invalid apiKey for provider "bad"/ });
  throws(() => registerProvider("bad", { ...base, apiKey: "sk x" }), { message: /Invalid apiKey/ });
  throws(() => registerProvider("bad", { ...base, headers: { "X-A": "1\r\nX-B: 2" } }), {
    message: /Invalid header "X-A"/,
  });
  throws(() => registerProvider("bad", { ...base, headers: { "Bad Name": "1" } }), { message: /Invalid header/ });
  throws(() => registerProvider("bad", { ...base, reasoning: "max" as never }), { message: /Invalid reasoning "max"/ });
  throws(() => registerProvider("bad", { ...base, supportsStructuredOutput: "yes" as never }), {
    message: /Invalid supportsStructuredOutput/,
  });
  throws(() => registerProvider("bad", { ...base, baseUrl: "x" } as never), { message: /Unknown setting "baseUrl"/ });
  notEqual(listProviders().includes("bad"), true);
});
