/**
 * The behavioural contract every harness passes: the same agent, through the public `init` and session API, behaves
 * the same whichever harness runs its loop. Run it from a test file with the harness's options.
 *
 * @module
 */

import assert from "node:assert/strict";
import { z } from "zod";
import { init } from "../agent/init.ts";
import type { AgentOptions } from "../agent/agent_options.ts";
import { AbortError, BudgetExceededError, ModelError } from "../errors.ts";
import type { FlueEvent } from "../events/event_types.ts";
import type { ModelRequest } from "../model/chat_model.ts";
import { FunctionModel } from "../model/test_models/function_model.ts";
import { SUMMARY_HEADING } from "../session/_summary_prompt.ts";
import { TestModel } from "../model/test_models/test_model.ts";
import { MemoryStore } from "../store/memory_store.ts";
import { startFakeOpenAI } from "../testing/fake_openai.ts";
import { defineTool } from "../tools/tool.ts";
import { MaxTurnsError } from "./flue_harness.ts";

const TERMINAL = ["operation", "error", "aborted"];

function isSummaryRequest(request: ModelRequest): boolean {
  return request.tools.length === 0 && request.messages[0]?.content.startsWith("You compact conversations");
}

const add = defineTool({
  name: "add",
  description: "Adds two numbers",
  input: z.object({ a: z.number(), b: z.number() }),
  run: ({ a, b }) => String(a + b),
});

/**
 * Defines the contract tests for one harness.
 *
 * @param name The harness's name, put in each test's name.
 * @param makeOptions The agent options that select the harness, such as `{ harness: "ai-sdk" }`.
 */
export function defineHarnessContractTests(name: string, makeOptions: () => AgentOptions): void {
  const agentWith = (options: AgentOptions) =>
    init({ store: "memory", sandbox: "memory", ...makeOptions(), ...options });
  const test = (title: string, fn: () => Promise<void>) => Deno.test(`[${name} harness] ${title}`, fn);

  test("a plain prompt streams its text and returns it", async () => {
    const model = new TestModel({ script: ["alpha beta gamma delta"] });
    const agent = await agentWith({ model });
    try {
      const stream = (await agent.session()).stream("hello");
      const deltas: string[] = [];
      for await (const event of stream) if (event.type === "text_delta") deltas.push(event.text);
      const response = await stream.result;
      assert.equal(response.text, "alpha beta gamma delta");
      assert.equal(deltas.join(""), response.text);
      assert.ok(deltas.length >= 2, "the text arrives in several deltas");
      assert.equal(response.model, "test");
    } finally {
      await agent.close();
    }
  });

  test("every model call carries the operation it serves: its kind, session, role and task", async () => {
    const seen: NonNullable<ModelRequest["operation"]>[] = [];
    const model = new FunctionModel((request) => {
      if (request.operation) seen.push(request.operation);
      return "ok";
    });
    const agent = await agentWith({
      model,
      name: "helper",
      id: "inst-1",
      roles: { reviewer: { description: "Reviews", instructions: "Be strict." } },
    });
    try {
      const session = await agent.session("chat");
      const response = await session.prompt("hello", { role: "reviewer" });
      await session.task("look around");
      assert.deepEqual(seen[0], {
        agent: "helper",
        instanceId: "inst-1",
        session: "chat",
        operationId: response.operationId,
        operationKind: "prompt",
        role: "reviewer",
        taskDepth: 0,
      });
      const task = seen.at(-1)!;
      assert.equal(task.operationKind, "prompt");
      assert.equal(task.taskDepth, 1);
      assert.match(task.taskId ?? "", /^task_/);
      assert.match(task.session, /^chat\/tasks\//);
    } finally {
      await agent.close();
    }
  });

  test("one tool call runs and its result reaches the model", async () => {
    const model = new TestModel({ script: [{ toolCalls: [{ name: "add", args: { a: 2, b: 3 } }] }, "five"] });
    const agent = await agentWith({ model, tools: [add] });
    try {
      assert.equal((await (await agent.session()).prompt("add 2 and 3")).text, "five");
      const tool = model.calls[1].messages.find((message) => message.role === "tool");
      assert.deepEqual(tool, { role: "tool", toolCallId: "call_1", name: "add", content: "5" });
    } finally {
      await agent.close();
    }
  });

  test("several tool calls of one turn run at the same time", async () => {
    let running = 0;
    let bothRunning: () => void;
    const together = new Promise<void>((resolve) => bothRunning = resolve);
    const meet = defineTool({
      name: "meet",
      description: "Waits for the other call",
      input: z.object({ who: z.string() }),
      run: async ({ who }) => {
        if (++running === 2) bothRunning();
        // Bounded: a harness that runs calls one at a time fails here instead of hanging.
        const timer = new Promise((resolve) => setTimeout(resolve, 5_000, "timeout"));
        const outcome = await Promise.race([together.then(() => "met"), timer]);
        return `${who} ${outcome}`;
      },
    });
    const model = new TestModel({
      script: [{ toolCalls: [{ name: "meet", args: { who: "a" } }, { name: "meet", args: { who: "b" } }] }, "done"],
    });
    const agent = await agentWith({ model, tools: [meet] });
    try {
      assert.equal((await (await agent.session()).prompt("meet")).text, "done");
      const results = model.calls[1].messages.flatMap((message) => message.role === "tool" ? [message.content] : []);
      assert.deepEqual(results, ["a met", "b met"]);
    } finally {
      await agent.close();
    }
  });

  test("a failing tool and invalid arguments come back to the model as tool errors", async () => {
    const broken = defineTool({
      name: "broken",
      description: "Always fails",
      input: z.object({}),
      run: () => {
        throw new RangeError("disk full");
      },
    });
    const model = new TestModel({
      script: [{ toolCalls: [{ name: "broken" }, { name: "add", args: { a: "two", b: 1 } }] }, "sorry"],
    });
    const agent = await agentWith({ model, tools: [broken, add] });
    try {
      assert.equal((await (await agent.session()).prompt("try")).text, "sorry");
      const tools = model.calls[1].messages.filter((message) => message.role === "tool");
      assert.equal(tools.length, 2);
      assert.deepEqual(tools.map((message) => message.role === "tool" && message.isError), [true, true]);
      assert.equal(tools[0].content, "Error: RangeError: disk full");
      assert.match(tools[1].content, /^Error: invalid arguments for "add": a:/);
    } finally {
      await agent.close();
    }
  });

  test("a typed prompt returns schema-valid data, natively and through the text path", async () => {
    const schema = z.object({ city: z.string(), population: z.number() });
    const native = new TestModel();
    const text = new FunctionModel(() => 'Here: {"city":"Oslo","population":709000}');
    const data: unknown[] = [];
    for (const model of [native, text]) {
      const agent = await agentWith({ model });
      try {
        data.push((await (await agent.session()).prompt("Which city?", { result: schema })).data);
      } finally {
        await agent.close();
      }
    }
    assert.deepEqual(schema.parse(data[0]), data[0]);
    assert.deepEqual(data[1], { city: "Oslo", population: 709000 });
    assert.equal(native.calls[0].responseFormat?.name, "result", "native structured output was asked for");
    assert.equal(text.calls[0].responseFormat, undefined);
  });

  test("usage is summed over the turns and matches the turn events", async () => {
    const model = new TestModel({ script: [{ toolCalls: [{ name: "add", args: { a: 1, b: 1 } }] }, "two"] });
    const events: FlueEvent[] = [];
    const agent = await agentWith({ model, tools: [add], onEvent: (event) => events.push(event) });
    try {
      const response = await (await agent.session()).prompt("one plus one");
      const turns = events.flatMap((event) => event.type === "turn" ? [event.usage] : []);
      assert.equal(turns.length, 2);
      const sum = (key: "inputTokens" | "outputTokens" | "totalTokens") =>
        turns.reduce((total, usage) => total + usage[key], 0);
      assert.deepEqual(response.usage, {
        inputTokens: sum("inputTokens"),
        outputTokens: sum("outputTokens"),
        totalTokens: sum("totalTokens"),
      });
      assert.ok(response.usage.inputTokens > 0 && response.usage.outputTokens > 0);
    } finally {
      await agent.close();
    }
  });

  test("events come in order, correlated, with exactly one terminal event", async () => {
    const model = new TestModel({
      script: [{ text: "adding now", toolCalls: [{ name: "add", args: { a: 1, b: 2 } }] }, "three it is"],
    });
    const agent = await agentWith({ model, tools: [add] });
    try {
      const stream = (await agent.session()).stream("add");
      const events: FlueEvent[] = [];
      for await (const event of stream) events.push(event);
      await stream.result;
      const types = events.map((event) => event.type);
      const compact = types.filter((type, index) => type !== "text_delta" || types[index - 1] !== "text_delta");
      assert.deepEqual(compact, [
        "operation_start",
        "turn_start",
        "text_delta",
        "turn",
        "tool_start",
        "tool_end",
        "turn_start",
        "text_delta",
        "turn",
        "operation",
      ]);
      assert.equal(types.filter((type) => TERMINAL.includes(type)).length, 1);
      for (let i = 1; i < events.length; i++) assert.ok(events[i].eventIndex > events[i - 1].eventIndex);
      const turnIds = events.flatMap((event) => event.type === "turn_start" ? [event.turnId] : []);
      for (const event of events) {
        assert.equal(event.operationId, events[0].operationId);
        if (event.type === "tool_start" || event.type === "tool_end") assert.equal(event.turnId, turnIds[0]);
      }
      const toolEnd = events.find((event) => event.type === "tool_end");
      assert.ok(toolEnd?.type === "tool_end" && toolEnd.result === "3" && !toolEnd.isError);
    } finally {
      await agent.close();
    }
  });

  test("each turn is committed as it ends, so a failed turn keeps the earlier ones and the session resumes", async () => {
    const store = new MemoryStore();
    const failing = new TestModel({
      script: [{ toolCalls: [{ name: "add", args: { a: 1, b: 2 } }] }, { error: new Error("provider exploded") }],
    });
    const first = await agentWith({ model: failing, tools: [add], store });
    try {
      await assert.rejects((await first.session()).prompt("add"), /provider exploded/);
    } finally {
      await first.close();
    }
    const resumed = new TestModel({ script: ["resumed"] });
    const second = await agentWith({ model: resumed, tools: [add], store });
    try {
      const session = await second.session();
      const stored = (await session.history()).map((entry) => entry.message);
      assert.deepEqual(stored.map((message) => message.role), ["user", "assistant", "tool"]);
      assert.equal(stored[2].content, "3");
      assert.equal((await session.prompt("go on")).text, "resumed");
      assert.deepEqual(resumed.calls[0].messages.map((message) => message.role), [
        "system",
        "user",
        "assistant",
        "tool",
        "user",
      ]);
    } finally {
      await second.close();
    }
  });

  test("maxTurns stops a model that keeps calling tools, with every turn committed", async () => {
    const model = new FunctionModel(() => ({ toolCalls: [{ name: "add", args: { a: 1, b: 1 } }] }));
    const agent = await agentWith({ model, tools: [add], maxTurns: 3 });
    try {
      const session = await agent.session();
      const error = await session.prompt("loop").then(() => assert.fail("expected MaxTurnsError"), (error) => error);
      assert.ok(error instanceof MaxTurnsError, String(error));
      assert.equal(error.maxTurns, 3);
      assert.equal(model.calls.length, 3);
      assert.equal((await session.history()).length, 1 + 3 * 2);
      // A session's maxTurns applies over the agent's, and a call's over the session's.
      const strict = await agent.session("strict", { maxTurns: 2 });
      const sessionError = await strict.prompt("loop").then(() => assert.fail("expected MaxTurnsError"), (e) => e);
      assert.ok(sessionError instanceof MaxTurnsError && sessionError.maxTurns === 2, String(sessionError));
      assert.ok(sessionError instanceof BudgetExceededError && sessionError.budget === "maxTurns");
      const callError = await strict.prompt("loop", { maxTurns: 1 }).then(
        () => assert.fail("expected error"),
        (e) => e,
      );
      assert.ok(callError instanceof MaxTurnsError && callError.maxTurns === 1, String(callError));
    } finally {
      await agent.close();
    }
  });

  test("maxTokens ends the operation with BudgetExceededError after the turn that passed it", async () => {
    const model = new FunctionModel(() => ({ toolCalls: [{ name: "add", args: { a: 1, b: 1 } }] }));
    const events: FlueEvent[] = [];
    const agent = await agentWith({ model, tools: [add], maxTokens: 100_000, onEvent: (event) => events.push(event) });
    try {
      const session = await agent.session("budgeted", { maxTokens: 2 });
      const error = await session.prompt("loop", { maxTokens: 1 }).then(
        () => assert.fail("expected BudgetExceededError"),
        (error) => error,
      );
      assert.ok(error instanceof BudgetExceededError, String(error));
      assert.equal(error.name, "BudgetExceededError");
      assert.equal(error.budget, "maxTokens");
      assert.equal(error.limit, 1, "the call's limit wins over the session's and the agent's");
      assert.ok(error.spent > 1, `spent ${error.spent}`);
      assert.match(error.message, /"maxTokens" budget: spent \d+ tokens of 1/);
      assert.equal(model.calls.length, 1, "no model call after the limit was passed");
      const terminal = events.filter((event) => TERMINAL.includes(event.type));
      assert.deepEqual(terminal.map((event) => event.type), ["error"]);
      assert.equal(terminal[0].type === "error" && terminal[0].error.name, "BudgetExceededError");
      // The session's own limit applies when the call sets none.
      const sessionError = await session.prompt("loop").then(() => assert.fail("expected an error"), (e) => e);
      assert.ok(sessionError instanceof BudgetExceededError && sessionError.limit === 2, String(sessionError));
    } finally {
      await agent.close();
    }
  });

  test("a subagent task's spending counts against the calling operation's maxTokens", async () => {
    const model = new FunctionModel((request) => {
      if (request.operation?.taskId !== undefined) return "word ".repeat(20_000);
      return request.messages.at(-1)?.role === "tool" ? "never" : {
        toolCalls: [{ name: "task", args: { prompt: "write a long report", agent: "writer" } }],
      };
    });
    const agent = await agentWith({ model, subagents: { writer: { description: "Writes long reports" } } });
    try {
      const session = await agent.session();
      const error = await session.prompt("delegate", { maxTokens: 5_000 }).then(
        () => assert.fail("expected BudgetExceededError"),
        (error) => error,
      );
      assert.ok(error instanceof BudgetExceededError, String(error));
      assert.equal(error.budget, "maxTokens");
      assert.ok(error.spent > 20_000 / 4, `the child's tokens are counted: spent ${error.spent}`);
      assert.equal(model.calls.length, 2, "the parent made no call after the task passed the budget");
    } finally {
      await agent.close();
    }
  });

  test("timeoutMs ends a stuck model call with BudgetExceededError naming the time spent", async () => {
    const model = new FunctionModel((request) =>
      new Promise((_, reject) => {
        request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true });
      })
    );
    const agent = await agentWith({ model, timeoutMs: 60_000 });
    try {
      const session = await agent.session();
      const error = await session.prompt("hang", { timeoutMs: 30 }).then(
        () => assert.fail("expected BudgetExceededError"),
        (error) => error,
      );
      assert.ok(error instanceof BudgetExceededError, String(error));
      assert.equal(error.budget, "timeoutMs");
      assert.equal(error.limit, 30);
      assert.ok(error.spent >= 30, `spent ${error.spent}`);
      assert.deepEqual(await session.history(), [], "a failed first turn leaves no trace");
      // The session is usable afterwards: the timer of the failed operation does not leak into the next one.
      const ok = await agentWith({ model: new TestModel({ script: ["fine"] }), timeoutMs: 60_000 });
      try {
        assert.equal((await (await ok.session()).prompt("again")).text, "fine");
      } finally {
        await ok.close();
      }
    } finally {
      await agent.close();
    }
  });

  test("a budget option that is not a positive number is a clear error", async () => {
    const agent = await agentWith({ model: new TestModel({ script: ["never"] }) });
    try {
      const session = await agent.session();
      await assert.rejects(session.prompt("x", { maxTokens: -5 }), /Option "maxTokens" must be a positive whole/);
      await assert.rejects(agent.session("s", { timeoutMs: 1.5 }), /Session option "timeoutMs" must be a positive/);
      await assert.rejects(
        session.prompt("x", { maxCostUsd: 1 }),
        /No price is known for model "test", so "maxCostUsd" cannot be enforced/,
      );
    } finally {
      await agent.close();
    }
    await assert.rejects(agentWith({ maxCostUsd: 0 }), /Option "maxCostUsd" must be a positive number/);
  });

  test("cost is priced per turn, reported on results and turn events, and maxCostUsd ends the operation", async () => {
    await using server = startFakeOpenAI({
      steps: [
        { text: "priced", usage: { inputTokens: 1000, outputTokens: 500 } },
        { toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }], usage: { inputTokens: 1000, outputTokens: 500 } },
        { toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }], usage: { inputTokens: 1000, outputTokens: 500 } },
        { text: "never reached", usage: { inputTokens: 1000, outputTokens: 500 } },
      ],
    });
    const events: FlueEvent[] = [];
    const agent = await agentWith({
      model: "fake:gpt-4o",
      providers: { fake: { baseURL: server.url, apiKey: "sk-fake" } },
      tools: [add],
      onEvent: (event) => events.push(event),
    });
    try {
      const session = await agent.session();
      // gpt-4o lists at $2.50 in and $10 out per million tokens: 1000 in and 500 out cost $0.0075.
      const priced = await session.prompt("hi");
      assert.ok(Math.abs(priced.usage.costUsd! - 0.0075) < 1e-12, String(priced.usage.costUsd));
      const turn = events.find((event) => event.type === "turn");
      assert.ok(turn?.type === "turn" && Math.abs(turn.usage.costUsd! - 0.0075) < 1e-12, "the turn event is priced");
      const operation = events.find((event) => event.type === "operation");
      assert.ok(operation?.type === "operation" && operation.usage?.costUsd !== undefined, "so is the operation");

      const error = await session.prompt("loop", { maxCostUsd: 0.01 }).then(
        () => assert.fail("expected BudgetExceededError"),
        (error) => error,
      );
      assert.ok(error instanceof BudgetExceededError, String(error));
      assert.equal(error.budget, "maxCostUsd");
      assert.equal(error.limit, 0.01);
      assert.ok(Math.abs(error.spent - 0.015) < 1e-12, String(error.spent));
      assert.equal(server.requests.length, 3, "the operation stopped after the second turn passed $0.01");
    } finally {
      await agent.close();
    }
  });

  test("prices in options override the built-in table", async () => {
    const model = new FunctionModel(() => "ok", { id: "house-model" });
    const agent = await agentWith({ model, prices: { "house-model": { inputPerMillion: 1e6, outputPerMillion: 0 } } });
    try {
      const response = await (await agent.session()).prompt("hello");
      assert.equal(response.usage.costUsd, response.usage.inputTokens, "a dollar per input token");
    } finally {
      await agent.close();
    }
  });

  test("toolTimeoutMs stops a slow tool, keeps the output it had, and the operation goes on", async () => {
    const progress = defineTool({
      name: "progress",
      description: "Works in steps until told to stop, then reports how far it got",
      input: z.object({}),
      run: async (_input, context) => {
        const done: string[] = [];
        const deadline = performance.now() + (context.timeoutMs ?? Infinity);
        for (let step = 1; step <= 1000; step++) {
          if (performance.now() >= deadline) return `stopped at the time limit after: ${done.join(",")}`;
          done.push(`step${step}`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return "finished";
      },
    });
    const stuck = defineTool({
      name: "stuck",
      description: "Never finishes unless aborted",
      input: z.object({}),
      run: (_input, context) =>
        new Promise((_, reject) =>
          context.signal.addEventListener("abort", () => reject(context.signal.reason), { once: true })
        ),
    });
    const model = new FunctionModel((request) =>
      request.messages.at(-1)?.role === "tool" ? "done" : {
        toolCalls: [{ name: "progress", args: {} }, { name: "stuck", args: {} }],
      }
    );
    const agent = await agentWith({ model, tools: [progress, stuck], toolTimeoutMs: 60_000 });
    try {
      const session = await agent.session();
      const response = await session.prompt("work", { toolTimeoutMs: 40 });
      assert.equal(response.text, "done");
      const results = (await session.history()).filter((entry) => entry.message.role === "tool");
      const byName = new Map(results.map((entry) => [entry.message.role === "tool" && entry.message.name, entry]));
      assert.match(byName.get("progress")!.message.content, /^stopped at the time limit after: step1,step2/);
      assert.match(
        byName.get("stuck")!.message.content,
        /Tool "stuck" did not finish within "toolTimeoutMs" \(40 ms\) and was stopped/,
      );
    } finally {
      await agent.close();
    }
  });

  test("abort during the model call ends with AbortError and one 'aborted' event", async () => {
    let started: () => void;
    const inCall = new Promise<void>((resolve) => started = resolve);
    const model = new FunctionModel((request) =>
      new Promise((_, reject) => {
        started();
        request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true });
      })
    );
    const events: FlueEvent[] = [];
    const agent = await agentWith({ model, onEvent: (event) => events.push(event) });
    try {
      const session = await agent.session();
      const handle = session.prompt("wait");
      await inCall;
      handle.abort("changed my mind");
      await assert.rejects(handle, AbortError);
      const terminal = events.filter((event) => TERMINAL.includes(event.type));
      assert.deepEqual(terminal.map((event) => event.type), ["aborted"]);
      assert.deepEqual(await session.history(), []);
    } finally {
      await agent.close();
    }
  });

  test("a long operation compacts between turns and continues from the compacted history", async () => {
    const window = 2_000;
    const lookup = defineTool({
      name: "lookup",
      description: "Looks a record up",
      input: z.object({ key: z.string() }),
      run: ({ key }) => `${key}: ${"record data ".repeat(25)}`,
    });
    const model = new FunctionModel((request) => {
      if (isSummaryRequest(request)) return "Summary: records were looked up one at a time; keep going.";
      const done = request.messages.findLast((message) => message.role === "tool");
      const step = done ? Number(/^k(\d+)/.exec(done.content)?.[1] ?? 0) + 1 : 0;
      return step >= 20 ? `Looked up ${step} records` : { toolCalls: [{ name: "lookup", args: { key: `k${step}` } }] };
    }, { contextWindow: window });
    const events: FlueEvent[] = [];
    const agent = await agentWith({ model, tools: [lookup], maxTurns: 50, onEvent: (event) => events.push(event) });
    try {
      const response = await (await agent.session()).prompt("Look up k0 to k19");
      assert.equal(response.text, "Looked up 20 records");
      assert.ok(events.some((event) => event.type === "compaction"), "the history was compacted");
      const requests = model.calls.filter((request) => !isSummaryRequest(request));
      const size = (request: ModelRequest) => JSON.stringify(request.messages).length / 4;
      assert.ok(requests.every((request) => size(request) < window), "every request stayed inside the window");
      assert.ok(requests.at(-1)!.messages.some((message) => message.content.startsWith(SUMMARY_HEADING)));
    } finally {
      await agent.close();
    }
  });

  test("a request refused as too long is retried once from the compacted history", async () => {
    const model = new FunctionModel((request) => {
      if (isSummaryRequest(request)) return "Summary: the user said hello three times.";
      const compacted = request.messages.some((message) => message.content.startsWith(SUMMARY_HEADING));
      if (request.messages.length > 6 && !compacted) {
        throw new ModelError("This model's maximum context length is 8 tokens", { status: 400 });
      }
      return `reply ${request.messages.length}`;
    });
    const agent = await agentWith({ model });
    try {
      const session = await agent.session();
      for (const text of ["hello", "hello again", "hello once more"]) await session.prompt(text);
      const response = await session.prompt("and now?");
      assert.match(response.text, /^reply \d+$/);
      assert.ok(model.calls.some(isSummaryRequest), "the session compacted after the refusal");
    } finally {
      await agent.close();
    }
  });

  test("the openai-compatible path works end to end against a real HTTP server", async () => {
    await using server = startFakeOpenAI({
      steps: [
        { status: 429, retryAfter: 0 },
        {
          toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }, { name: "add", arguments: { a: 3, b: 4 } }],
          usage: { inputTokens: 10, outputTokens: 5 },
        },
        { text: "3 and 7, as you asked", usage: { inputTokens: 20, outputTokens: 3 } },
        { text: '{"city":"Oslo"}', usage: { inputTokens: 5, outputTokens: 4 } },
      ],
    });
    const agent = await agentWith({
      model: "fake:fake-model",
      providers: { fake: { baseURL: server.url, apiKey: "sk-fake", supportsStructuredOutput: true } },
      tools: [add],
    });
    try {
      const session = await agent.session();
      const stream = session.stream("add things");
      let deltas = 0;
      for await (const event of stream) if (event.type === "text_delta") deltas++;
      const response = await stream.result;
      assert.equal(response.text, "3 and 7, as you asked");
      assert.ok(deltas >= 2, "the reply streamed");
      assert.deepEqual(response.usage, { inputTokens: 30, outputTokens: 8, totalTokens: 38 });
      assert.equal(response.model, "fake-model");
      assert.equal(server.requests.length, 3, "the 429 was retried");
      const second = server.requests[2].body as { messages: { role: string; content: string }[] };
      assert.deepEqual(second.messages.filter((m) => m.role === "tool").map((m) => m.content), ["3", "7"]);
      assert.ok(server.requests.every((request) => request.headers.authorization === "Bearer sk-fake"));
      const typed = await session.prompt("Which city?", { result: z.object({ city: z.string() }) });
      assert.deepEqual(typed.data, { city: "Oslo" });
      const format = (server.requests[3].body as { response_format?: { type: string } }).response_format;
      assert.equal(format?.type, "json_schema");
    } finally {
      await agent.close();
    }
  });
}
