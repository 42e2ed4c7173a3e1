import assert from "node:assert/strict";
import { z } from "zod";
import type { FlueEvent } from "../events/event_types.ts";
import { startFakeOpenAI } from "../testing/fake_openai.ts";
import { defineTool } from "../tools/tool.ts";
import { init } from "./init.ts";
import type { AgentOptions } from "./agent_options.ts";

const weather = defineTool({
  name: "weather",
  description: "The weather in a city",
  input: z.object({ city: z.string() }),
  run: ({ city }) => `sunny in ${city}`,
});

type Body = { stream?: boolean; stream_options?: unknown; tools?: { function: { name: string } }[] };
// The fake server records each body as the `openai` SDK (or the AI SDK's OpenAI provider) sent it over HTTP.
const bodyOf = (request: { body: unknown }): Body => request.body as Body;
const toolNamesOf = (request: { body: unknown }): string[] =>
  (bodyOf(request).tools ?? []).map((tool) => tool.function.name).sort();

async function run(
  options: Partial<AgentOptions>,
  call: { stream?: boolean; builtinTools?: string[] | false; role?: string } = {},
  provider: { stream?: boolean } = {},
) {
  const server = startFakeOpenAI({
    steps: [
      { text: "Let me look.", toolCalls: [{ name: "weather", arguments: { city: "Oslo" } }] },
      { text: "It is sunny in Oslo today." },
    ],
  });
  const agent = await init({
    model: "local:small",
    providers: { local: { baseURL: server.url, ...provider } },
    store: "memory",
    sandbox: "memory",
    tools: [weather],
    ...options,
  });
  const events: FlueEvent[] = [];
  agent.subscribe((event) => events.push(event));
  try {
    const response = await (await agent.session()).prompt("Weather in Oslo?", call);
    const requests = server.requests.filter((request) => request.path.endsWith("/chat/completions"));
    return { response, events, requests };
  } finally {
    await agent.close();
    await server.close();
  }
}

const deltasOf = (events: FlueEvent[]): string[] =>
  events.flatMap((event) => event.type === "text_delta" ? [event.text] : []);
const toolStartsOf = (events: FlueEvent[]): string[] =>
  events.flatMap((event) => event.type === "tool_start" ? [event.toolName] : []);

// The `openai` SDK (flue harness) sends `stream: false`; the AI SDK's OpenAI provider leaves `stream` out of a
// non-streaming request, which the Chat Completions API reads as false. Both differ from a streamed `stream: true`.
const WHOLE: Record<string, boolean | undefined> = { flue: false, "ai-sdk": undefined };

for (const harness of ["flue", "ai-sdk"]) {
  Deno.test(`${harness} harness: a provider's stream: false asks for whole replies (no SSE) and emits one delta per reply`, async () => {
    const { response, events, requests } = await run({ harness }, {}, { stream: false });
    assert.equal(response.text, "It is sunny in Oslo today.");
    assert.equal(requests.length, 2);
    for (const request of requests) {
      assert.equal(bodyOf(request).stream, WHOLE[harness]);
      assert.equal(bodyOf(request).stream_options, undefined);
    }
    assert.deepEqual(deltasOf(events), ["Let me look.", "It is sunny in Oslo today."]);
    assert.deepEqual(toolStartsOf(events), ["weather"]);
  });

  Deno.test(`${harness} harness: a call's stream: false wins over a streaming provider, and stream: true over false`, async () => {
    const whole = await run({ harness }, { stream: false });
    assert.deepEqual(whole.requests.map((request) => bodyOf(request).stream), [WHOLE[harness], WHOLE[harness]]);
    assert.deepEqual(deltasOf(whole.events), ["Let me look.", "It is sunny in Oslo today."]);
    const streamed = await run({ harness, stream: false }, { stream: true });
    assert.deepEqual(streamed.requests.map((request) => bodyOf(request).stream), [true, true]);
    // Streamed, the fake splits the text at words: more deltas, the same text.
    assert.ok(deltasOf(streamed.events).length > 2);
    assert.equal(deltasOf(streamed.events).join(""), "Let me look.It is sunny in Oslo today.");
  });

  Deno.test(`${harness} harness: the agent's stream: false applies to every call`, async () => {
    const { requests } = await run({ harness, stream: false });
    assert.deepEqual(requests.map((request) => bodyOf(request).stream), [WHOLE[harness], WHOLE[harness]]);
  });
}

Deno.test("builtinTools: false sends only the agent's own tools; a list narrows to those names", async () => {
  const all = await run({});
  assert.deepEqual(toolNamesOf(all.requests[0]), ["glob", "grep", "ls", "read", "read_output", "stat", "weather"]);
  const none = await run({ builtinTools: false });
  assert.deepEqual(toolNamesOf(none.requests[0]), ["read_output", "weather"]);
  const some = await run({ builtinTools: ["read", "grep"] });
  assert.deepEqual(toolNamesOf(some.requests[0]), ["grep", "read", "read_output", "weather"]);
});

Deno.test("builtinTools never widens the policy: bash and write stay out without allowShell and allowWrite", async () => {
  const denied = await run({ builtinTools: ["read", "write", "bash"] });
  assert.deepEqual(toolNamesOf(denied.requests[0]), ["read", "read_output", "weather"]);
  const allowed = await run({ builtinTools: ["write", "bash"], allowWrite: true, allowShell: true });
  assert.deepEqual(toolNamesOf(allowed.requests[0]), ["bash", "read_output", "weather", "write"]);
});

Deno.test("a call's builtinTools narrows the agent's selection and cannot add back what it left out", async () => {
  const none = await run({}, { builtinTools: false });
  assert.deepEqual(toolNamesOf(none.requests[0]), ["read_output", "weather"]);
  const narrowed = await run({ builtinTools: ["read"] }, { builtinTools: ["read", "grep"] });
  assert.deepEqual(toolNamesOf(narrowed.requests[0]), ["read", "read_output", "weather"]);
});

Deno.test("an invalid builtinTools or stream is refused with a message naming the fix", async () => {
  await assert.rejects(
    init({ model: "test", store: "memory", builtinTools: ["cat"] }),
    /"builtinTools" names "cat", which is not a built-in tool: use some of read, write/,
  );
  await assert.rejects(
    init({ model: "test", store: "memory", builtinTools: "read" as unknown as string[] }),
    /must be a list of built-in tool names/,
  );
  await assert.rejects(
    init({ model: "test", store: "memory", stream: "no" as unknown as boolean }),
    /Option "stream" must be true or false, got "no"/,
  );
  await assert.rejects(
    init({
      model: "local:small",
      store: "memory",
      providers: { local: { baseURL: "http://127.0.0.1:1/v1", stream: 1 as unknown as boolean } },
    })
      .then((agent) => agent.session().then((session) => session.prompt("hi")).finally(() => agent.close())),
    /Invalid stream 1 for provider "local": expected true or false/,
  );
  await assert.rejects(run({}, { builtinTools: ["ls", "nope"] }), /Call option "builtinTools" names "nope"/);
});

Deno.test("a role's builtinTools (code or front matter) narrows its calls, and a call narrows further", async () => {
  // Roles bring the `task` tool; builtinTools governs only the file and shell tools.
  const projectDir = await Deno.makeTempDir({ prefix: "flue-builtin-roles-" });
  try {
    await Deno.mkdir(`${projectDir}/.agents/roles`, { recursive: true });
    await Deno.writeTextFile(
      `${projectDir}/.agents/roles/searcher.md`,
      "---\nname: searcher\ndescription: Searches files\nbuiltinTools: [grep, glob]\n---\nSearch, do not read whole files.\n",
    );
    const roles = {
      "tool-only": { description: "Uses only its own tools", instructions: "Be brief.", builtinTools: false as const },
    };
    const inRole = (role: string, call: { builtinTools?: string[] | false } = {}) =>
      run({ projectDir, roles }, { ...call, role });
    assert.deepEqual(toolNamesOf((await inRole("searcher")).requests[0]), [
      "glob",
      "grep",
      "read_output",
      "task",
      "weather",
    ]);
    assert.deepEqual(toolNamesOf((await inRole("tool-only")).requests[0]), ["read_output", "task", "weather"]);
    const narrowed = await inRole("searcher", { builtinTools: ["grep", "read"] });
    assert.deepEqual(toolNamesOf(narrowed.requests[0]), ["grep", "read_output", "task", "weather"]);
  } finally {
    await Deno.remove(projectDir, { recursive: true });
  }
});

Deno.test("an invalid builtinTools in a role file or role definition is refused, naming the role", async () => {
  const projectDir = await Deno.makeTempDir({ prefix: "flue-builtin-roles-" });
  try {
    await Deno.mkdir(`${projectDir}/.agents/roles`, { recursive: true });
    await Deno.writeTextFile(
      `${projectDir}/.agents/roles/bad.md`,
      "---\nname: bad\ndescription: Bad\nbuiltinTools: [cat]\n---\nBody.\n",
    );
    await assert.rejects(
      init({ model: "test", store: "memory", projectDir }),
      /Invalid role file ".*bad\.md": field "builtinTools/,
    );
    await Deno.remove(`${projectDir}/.agents/roles/bad.md`);
    await assert.rejects(
      init({
        model: "test",
        store: "memory",
        projectDir,
        roles: { odd: { description: "d", instructions: "i", builtinTools: ["cat"] } },
      }),
      /Invalid role "odd" in the "roles" option: field "builtinTools" names "cat"/,
    );
  } finally {
    await Deno.remove(projectDir, { recursive: true });
  }
});
