import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { init } from "../agent/init.ts";
import type { AgentOptions } from "../agent/agent_options.ts";
import { NotFoundError, ResultValidationError } from "../errors.ts";
import type { FlueEvent } from "../events/event_types.ts";
import type { ModelRequest } from "../model/chat_model.ts";
import { FunctionModel, type FunctionModelReply } from "../model/test_models/function_model.ts";

const TRIAGE = `---
name: triage
description: Triage one issue
input_schema:
  type: object
  properties:
    issue: { type: integer, minimum: 1 }
    title: { type: string }
  required: [issue]
  additionalProperties: false
output_schema:
  type: object
  properties:
    label: { type: string, enum: [bug, feature] }
    summary: { type: string }
  required: [label, summary]
---
Read the issue and label it.
`;

const LOOKUP = `---
name: lookup
description: Looks things up without changing them
allowed-tools: [read, grep]
---
Find the answer with read and grep only.
`;

async function withAgent(
  model: AgentOptions["model"],
  body: (agent: Awaited<ReturnType<typeof init>>, events: FlueEvent[]) => Promise<void>,
  options: Partial<AgentOptions> = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flue-skill-call-" });
  await Deno.mkdir(join(dir, ".agents/skills/lookup"), { recursive: true });
  await Deno.writeTextFile(join(dir, ".agents/skills/triage.md"), TRIAGE);
  await Deno.writeTextFile(join(dir, ".agents/skills/lookup/SKILL.md"), LOOKUP);
  const events: FlueEvent[] = [];
  const agent = await init({
    model,
    projectDir: dir,
    store: "memory",
    sandbox: "memory",
    allowWrite: true,
    allowShell: true,
    onEvent: (event) => events.push(event),
    ...options,
  });
  try {
    await body(agent, events);
  } finally {
    await agent.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The tools a request offered, sorted, leaving out `read_output`, which every call has to read back cut results. */
function offeredTools(request: ModelRequest): string[] {
  return request.tools.map((tool) => tool.name).filter((name) => name !== "read_output").sort();
}

function recordingModel(reply: (request: ModelRequest, index: number) => FunctionModelReply) {
  const requests: ModelRequest[] = [];
  const model = new FunctionModel((request, info) => {
    requests.push(request);
    return reply(request, info.callIndex);
  });
  return { model, requests };
}

Deno.test("session.skill() returns data valid for output_schema from the key-less test model", async () => {
  await withAgent("test", async (agent, events) => {
    const session = await agent.session();
    const response = await session.skill("triage", { args: { issue: 7 } });
    const data = response.data as { label: string; summary: string };
    assert.ok(["bug", "feature"].includes(data.label));
    assert.equal(typeof data.summary, "string");
    assert.equal(response.attempts, 1);
    const history = await session.history();
    // The unscripted model calls the tools the message names ("read" here), then answers.
    assert.ok(history.length >= 2 && history.every((entry) => entry.source === "skill"));
    assert.match(history[0].message.content, /Read the issue and label it\.[\s\S]*"issue": 7/);
    const kinds = events.filter((event) => event.type === "operation").map((event) => event.operationKind);
    assert.deepEqual(kinds, ["skill"]);
  });
});

Deno.test("session.skill() checks args against input_schema before any model call", async () => {
  const { model, requests } = recordingModel(() => "never");
  await withAgent(model, async (agent) => {
    const session = await agent.session();
    await assert.rejects(
      () => session.skill("triage", { args: { issue: 0, extra: true } }),
      (error: Error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /^Invalid args for skill "triage" \(.agents\/skills\/triage.md\): /);
        assert.match(error.message, /issue: Too small/);
        assert.match(error.message, /Unrecognized key: "extra"/);
        return true;
      },
    );
    await assert.rejects(() => session.skill("triage", {}), /issue: Invalid input: expected number/);
    await assert.rejects(
      () => session.skill("triage", { args: [1] as unknown as Record<string, unknown> }),
      /The args of skill "triage" must be an object, got \[1\]/,
    );
    assert.equal(requests.length, 0);
    assert.deepEqual(await session.history(), []);
  });
});

Deno.test("session.skill() re-prompts invalid output, then throws ResultValidationError", async () => {
  const { model, requests } = recordingModel(() => '{"label": "question", "summary": "?"}');
  await withAgent(model, async (agent) => {
    const session = await agent.session();
    await assert.rejects(
      () => session.skill("triage", { args: { issue: 1 }, typedRetries: 1 }),
      (error: Error) => {
        assert.ok(error instanceof ResultValidationError);
        assert.equal(error.attempts, 2);
        assert.match(error.message, /label/);
        return true;
      },
    );
    assert.equal(requests.length, 2);
    assert.match(requests[0].messages.at(-1)!.content, /---RESULT_START---/);
    const sources = (await session.history()).map((entry) => entry.source);
    assert.deepEqual(sources, ["skill", "skill", "retry", "retry"]);
  });
});

Deno.test("session.skill() validates the result with the call's schema instead of output_schema", async () => {
  const { model } = recordingModel(() => '---RESULT_START---{"count": 3}---RESULT_END---');
  await withAgent(model, async (agent) => {
    const session = await agent.session();
    const response = await session.skill("triage", { args: { issue: 1 }, result: z.object({ count: z.number() }) });
    assert.equal(response.data.count, 3);
    // A skill without output_schema and without result is untyped.
    const untyped = await session.skill("lookup");
    assert.equal(untyped.data, undefined);
    assert.match(untyped.text, /count/);
  });
});

Deno.test("session.skill() offers only the allowed tools, and a call to another tool fails", async () => {
  const { model, requests } = recordingModel((_request, index) =>
    index === 0 ? { toolCalls: [{ name: "bash", args: { command: "ls" } }] } : "done"
  );
  await withAgent(model, async (agent) => {
    const session = await agent.session();
    await session.skill("lookup");
    assert.deepEqual(offeredTools(requests[0]), ["grep", "read"]);
    const toolResult = requests[1].messages.at(-1)!;
    assert.equal(toolResult.role, "tool");
    assert.match(toolResult.content, /unknown tool "bash"; the available tools are "read", "grep"/);
    // A plain prompt of the same agent still has every tool, and activate_skill.
    await session.prompt("hello");
    const names = requests[2].tools.map((tool) => tool.name);
    for (const name of ["bash", "write", "activate_skill"]) assert.ok(names.includes(name), name);
  });
});

Deno.test("session.skill() cannot widen the policy: allowed-tools naming a denied tool leaves it out", async () => {
  const { model, requests } = recordingModel(() => "ok");
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, ".agents/skills"), { recursive: true });
    await Deno.writeTextFile(
      join(dir, ".agents/skills/shell.md"),
      "---\nname: shell\ndescription: d\nallowed-tools: [bash, write, read]\n---\nRun things.\n",
    );
    const agent = await init({ model, projectDir: dir, store: "memory", sandbox: "memory" });
    await (await agent.session()).skill("shell");
    assert.deepEqual(offeredTools(requests[0]), ["read"]);
    await agent.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("session.skill() names the available skills for an unknown name", async () => {
  await withAgent("test", async (agent) => {
    const session = await agent.session();
    await assert.rejects(
      () => session.skill("nope"),
      (error: Error) =>
        error instanceof NotFoundError &&
        /No skill named "nope": available skills are lookup, triage/.test(error.message),
    );
  });
});

Deno.test("session.skill() never sends a secret value passed in args to the model", async () => {
  const { model, requests } = recordingModel(() => "ok");
  await withAgent(model, async (agent) => {
    const session = await agent.session();
    await session.skill("lookup", { args: { token: "s3cr3t-value" } });
    const sent = JSON.stringify(requests[0].messages);
    assert.doesNotMatch(sent, /s3cr3t-value/);
    assert.doesNotMatch(JSON.stringify(await session.history()), /s3cr3t-value/);
  }, { env: { TOKEN: "s3cr3t-value" } });
});

Deno.test("a skill's model calls say which skill they serve, so a test model can answer it", async () => {
  const { model, requests } = recordingModel(() => "looked up");
  await withAgent(model, async (agent) => {
    await (await agent.session()).skill("lookup");
  });
  assert.equal(requests[0].operation?.operationKind, "skill");
  assert.equal(requests[0].operation?.skill, "lookup");
});
