import assert from "node:assert/strict";
import { init } from "../agent/init.ts";
import { ModelError } from "../errors.ts";
import type { FlueEvent } from "../events/event_types.ts";
import { type RecordedRequest, startFakeOpenAI } from "../testing/fake_openai.ts";

type Body = { messages: { role: string; content: string | null }[]; tools?: unknown[] };

const OVERFLOW = {
  status: 400,
  code: "context_length_exceeded",
  message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9120 tokens.",
};

function isSummaryRequest(request: RecordedRequest): boolean {
  const body = request.body as Body;
  return !body.tools && String(body.messages[0]?.content).startsWith("You compact conversations");
}

function agentOptions(url: string, events: FlueEvent[]) {
  return {
    model: "fake:fake-model",
    providers: { fake: { baseURL: url, contextWindow: 100_000 } },
    store: "memory",
    sandbox: "memory",
    onEvent: (event: FlueEvent) => events.push(event),
  } as const;
}

Deno.test("a request the provider refuses as too long is compacted and retried once, through the openai SDK", async () => {
  let replies = 0;
  await using server = startFakeOpenAI({
    handler: (request) =>
      isSummaryRequest(request) ? { text: "Summary: the user greeted three times." } : {
        text: `reply ${++replies}`,
      },
  });
  const events: FlueEvent[] = [];
  const agent = await init(agentOptions(server.url, events));
  try {
    const session = await agent.session();
    for (const text of ["hello", "hello again", "and again"]) await session.prompt(text);
    server.enqueue(OVERFLOW);
    const before = server.requests.length;
    const response = await session.prompt("one more");
    assert.equal(response.text, "reply 4");
    const [refused, summary, retried] = server.requests.slice(before).map((request) => request.body as Body);
    assert.ok(isSummaryRequest(server.requests[before + 1]));
    assert.match(String(summary.messages[1].content), /## User\nhello/);
    assert.ok(retried.messages.length < refused.messages.length);
    assert.match(String(retried.messages[1].content), /^\[Summary of the earlier conversation/);
    assert.equal(retried.messages.at(-1)?.content, "one more");
    const start = events.find((event) => event.type === "compaction_start");
    assert.ok(start?.type === "compaction_start" && start.reason === "overflow");
    // The refused input is stored once, after the summary; the history keeps everything.
    const history = await session.history();
    assert.deepEqual(history.slice(-3).map((entry) => [entry.source, entry.message.content.split("\n")[0]]), [
      [
        "compaction",
        "[Summary of the earlier conversation, which was compacted to fit the context window. The " +
        "messages after this one follow on from it.]",
      ],
      ["prompt", "one more"],
      ["prompt", "reply 4"],
    ]);
  } finally {
    await agent.close();
  }
});

Deno.test("a second refusal after compacting, or compaction turned off, fails with the provider's ModelError", async () => {
  let refuse = false;
  await using server = startFakeOpenAI({
    handler: (request) => {
      if (isSummaryRequest(request)) return { text: "Summary." };
      return refuse ? OVERFLOW : { text: "fine" };
    },
  });
  const events: FlueEvent[] = [];
  const agent = await init(agentOptions(server.url, events));
  const strict = await init({ ...agentOptions(server.url, events), compaction: false, name: "strict" });
  try {
    for (const each of [agent, strict]) {
      const session = await each.session();
      refuse = false;
      await session.prompt("first");
      await session.prompt("second");
      refuse = true;
      const error = await session.prompt("third").then(() => undefined, (failure) => failure);
      assert.ok(error instanceof ModelError, String(error));
      assert.equal(error.isContextOverflow, true);
      assert.equal(error.status, 400);
      assert.match(error.message, /refused the request as too long for model "fake-model" \(400\): This model's/);
    }
    // Only the agent with compaction on compacted, once.
    const starts = events.filter((event) => event.type === "compaction_start");
    assert.deepEqual(starts.map((event) => event.agent), ["default"]);
  } finally {
    await agent.close();
    await strict.close();
  }
});
