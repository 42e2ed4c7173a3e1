import assert from "node:assert/strict";
import { z } from "zod";
import { ModelError } from "../errors.ts";
import type { ModelRequest } from "../model/chat_model.ts";
import { FunctionModel, type FunctionModelReply } from "../model/test_models/function_model.ts";
import { MemoryStore } from "../store/memory_store.ts";
import type { Store } from "../store/store.ts";
import { defineTool } from "../tools/tool.ts";
import type { AgentResolver } from "./agent_resolver.ts";
import { dispatch } from "./dispatch.ts";
import { type DispatchSettlement, DispatchWorker, type DispatchWorkerOptions } from "./dispatch_worker.ts";
import { type Agent, init } from "./init.ts";

type Handler = (request: ModelRequest, call: number) => FunctionModelReply | Promise<FunctionModelReply>;

/** A store, one agent named `assistant` on it driven by `handler`, and a worker whose settlements can be awaited. */
function setup(handler: Handler, options: Partial<DispatchWorkerOptions> & { store?: Store } = {}) {
  const store = options.store ?? new MemoryStore();
  const agents = new Map<string, Agent>();
  const note = defineTool({
    name: "note",
    description: "Notes something",
    input: z.object({ text: z.string() }),
    run: ({ text }) => `noted ${text}`,
  });
  const model = new FunctionModel((request, info) => handler(request, info.callIndex));
  const resolver: AgentResolver = {
    agentNames: () => ["assistant"],
    async getAgent(name, id) {
      let agent = agents.get(id);
      if (!agent) {
        agent = await init({ name, id, model, store, sandbox: "memory", tools: [note] });
        agents.set(id, agent);
      }
      return agent;
    },
  };
  const settlements: DispatchSettlement[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const worker = new DispatchWorker({
    store,
    agents: resolver,
    leaseMs: 5000,
    pollMs: 20,
    backoff: { initialMs: 5, maxMs: 20 },
    ...options,
    onSettled: (settlement) => {
      settlements.push(settlement);
      for (const waiter of waiters) if (settlements.length >= waiter.count) waiter.resolve();
    },
  });
  /** Resolves once `count` attempts have settled. */
  const settled = (count: number) =>
    new Promise<void>((resolve) => {
      if (settlements.length >= count) resolve();
      else waiters.push({ count, resolve });
    });
  const history = async (session = "default", id = "1") =>
    await (await (await resolver.getAgent("assistant", id)).session(session)).history();
  const close = async () => {
    await worker.stop();
    for (const agent of agents.values()) await agent.close();
    await store.close();
  };
  return { store, worker, settlements, settled, history, close, resolver };
}

const lastUserText = (request: ModelRequest) =>
  request.messages.findLast((message) => message.role === "user")?.content;

Deno.test("DispatchWorker prompts the session with the dispatched message and records the answer", async () => {
  const t = setup((request) => `echo: ${lastUserText(request)}`);
  try {
    t.worker.start();
    const { dispatchId } = await dispatch(t.store, { agent: "assistant", id: "1", message: "Hello" });
    t.worker.wake();
    await t.settled(1);
    const record = await t.store.getDispatch(dispatchId);
    assert.equal(record?.status, "done");
    assert.deepEqual((record?.result as { text: string }).text, "echo: Hello");
    const history = await t.history();
    assert.deepEqual(history.map((entry) => [entry.message.role, entry.message.content]), [
      ["user", "Hello"],
      ["assistant", "echo: Hello"],
    ]);
    assert.ok(history.every((entry) => entry.operationId === dispatchId && entry.source === "dispatch"));
  } finally {
    await t.close();
  }
});

Deno.test("DispatchWorker runs one session's inputs in order and other sessions alongside", async () => {
  let active = 0;
  let mostActive = 0;
  const t = setup(async (request) => {
    active++;
    mostActive = Math.max(mostActive, active);
    await new Promise((resolve) => setTimeout(resolve, 15));
    active--;
    return `done ${lastUserText(request)}`;
  }, { concurrency: 4 });
  try {
    for (let index = 0; index < 3; index++) {
      for (const session of ["a", "b"]) {
        await dispatch(t.store, { agent: "assistant", id: "1", session, message: `${session}${index}` });
      }
    }
    t.worker.start();
    await t.settled(6);
    for (const session of ["a", "b"]) {
      const users = (await t.history(session)).filter((entry) => entry.message.role === "user");
      assert.deepEqual(users.map((entry) => entry.message.content), [`${session}0`, `${session}1`, `${session}2`]);
    }
    assert.equal(mostActive, 2, "the two sessions ran alongside, each one input at a time");
  } finally {
    await t.close();
  }
});

Deno.test("DispatchWorker retries a failed attempt after a backoff and stores the input once", async () => {
  const t = setup((_request, call) => {
    if (call === 0) throw new ModelError("Server error", { status: 500, isRetryable: true });
    return "recovered";
  });
  try {
    t.worker.start();
    const { dispatchId } = await dispatch(t.store, { agent: "assistant", id: "1", message: "Hello" });
    await t.settled(2);
    assert.deepEqual(t.settlements.map((settlement) => settlement.outcome), ["retry", "done"]);
    const record = await t.store.getDispatch(dispatchId);
    assert.equal(record?.status, "done");
    assert.equal(record?.attempts.length, 2);
    assert.equal(record?.attempts[0].error?.name, "ModelError");
    assert.deepEqual((await t.history()).map((entry) => entry.message.content), ["Hello", "recovered"]);
  } finally {
    await t.close();
  }
});

Deno.test("DispatchWorker continues from the turns an earlier attempt stored instead of repeating the input", async () => {
  const seen: number[] = [];
  const t = setup((request, call) => {
    seen.push(request.messages.filter((message) => message.role === "user").length);
    if (call === 0) return { toolCalls: [{ name: "note", args: { text: "first" } }] };
    if (call === 1) throw new ModelError("Overloaded", { status: 503, isRetryable: true });
    return "finished";
  });
  try {
    t.worker.start();
    await dispatch(t.store, { agent: "assistant", id: "1", message: "Do it" });
    await t.settled(2);
    assert.deepEqual(t.settlements.map((settlement) => settlement.outcome), ["retry", "done"]);
    const history = await t.history();
    assert.deepEqual(history.map((entry) => entry.message.role), ["user", "assistant", "tool", "assistant"]);
    assert.equal(history[3].message.content, "finished");
    assert.deepEqual(seen, [1, 1, 1], "the retry sent the stored conversation with the input once");
  } finally {
    await t.close();
  }
});

Deno.test("DispatchWorker completes without calling the model when a dead worker already stored the answer", async () => {
  let calls = 0;
  const t = setup(() => {
    calls++;
    return "the answer";
  }, { leaseMs: 30 });
  try {
    const { dispatchId } = await dispatch(t.store, { agent: "assistant", id: "1", message: "Hello" });
    // A worker claims it, stores the whole answer, and dies before recording the dispatch as done.
    const claimed = await t.store.claimDispatch({ worker: "ghost", leaseMs: 30 });
    const agent = await t.resolver.getAgent("assistant", "1");
    const session = await agent.session() as unknown as {
      resumablePrompt(text: string, options: { operationId: string; resume: boolean }): Promise<unknown>;
    };
    await session.resumablePrompt("Hello", { operationId: claimed!.dispatchId, resume: false });
    assert.equal(calls, 1);
    t.worker.start();
    await t.settled(1);
    const record = await t.store.getDispatch(dispatchId);
    assert.equal(record?.status, "done");
    assert.equal((record?.result as { text: string }).text, "the answer");
    assert.equal(record?.attempts[0].error?.name, "LeaseExpired");
    assert.equal(calls, 1, "the model was not called again");
    assert.deepEqual((await t.history()).map((entry) => entry.message.content), ["Hello", "the answer"]);
  } finally {
    await t.close();
  }
});

Deno.test("DispatchWorker sets a failure no retry can fix aside as dead at once", async () => {
  const t = setup(() => {
    throw new ModelError("Invalid API key", { status: 401, isRetryable: false });
  });
  try {
    t.worker.start();
    const refused = await dispatch(t.store, { agent: "assistant", id: "1", session: "a", message: "Hello" });
    const { record: empty } = await t.store.enqueueDispatch({
      key: { agent: "assistant", instanceId: "1", session: "b" },
      input: { text: "no message field" },
      maxAttempts: 5,
    });
    await t.settled(2);
    assert.deepEqual(t.settlements.map((settlement) => settlement.outcome), ["dead", "dead"]);
    const dead = await t.store.listDispatches({ status: ["dead"] });
    assert.deepEqual(dead.map((record) => record.dispatchId), [refused.dispatchId, empty.dispatchId]);
    assert.equal(dead[0].error?.name, "ModelError");
    assert.match(dead[1].error?.message ?? "", /has no message: its input must be \{ "message": "..." \}/);
    assert.ok(dead.every((record) => record.attempts.length === 1));
  } finally {
    await t.close();
  }
});

Deno.test("DispatchWorker makes a dispatch dead after its last attempt, and a replay runs it again", async () => {
  let isBroken = true;
  const t = setup(() => {
    if (isBroken) throw new ModelError("Server error", { status: 500, isRetryable: true });
    return "fixed";
  });
  try {
    t.worker.start();
    const { dispatchId } = await dispatch(t.store, { agent: "assistant", id: "1", message: "Hello", maxAttempts: 2 });
    await t.settled(2);
    assert.deepEqual(t.settlements.map((settlement) => settlement.outcome), ["retry", "dead"]);
    assert.equal((await t.store.getDispatch(dispatchId))?.status, "dead");
    isBroken = false;
    await t.store.replayDispatch(dispatchId);
    t.worker.wake();
    await t.settled(3);
    assert.equal((await t.store.getDispatch(dispatchId))?.status, "done");
    assert.deepEqual((await t.history()).map((entry) => entry.message.content), ["Hello", "fixed"]);
  } finally {
    await t.close();
  }
});

Deno.test("DispatchWorker aborts the work when a renewal finds the lease taken over", async () => {
  class LeaseLosingStore extends MemoryStore {
    override renewDispatchLease(): Promise<boolean> {
      return Promise.resolve(false);
    }
  }
  let aborted = false;
  const t = setup(
    (request) =>
      new Promise((_, reject) => {
        request.signal?.addEventListener("abort", () => {
          aborted = true;
          reject(request.signal!.reason);
        });
      }),
    { store: new LeaseLosingStore(), leaseMs: 30 },
  );
  try {
    t.worker.start();
    const { dispatchId } = await dispatch(t.store, { agent: "assistant", id: "1", message: "Hello" });
    await t.settled(1);
    assert.equal(t.settlements[0].outcome, "lost");
    assert.equal(aborted, true);
    const record = await t.store.getDispatch(dispatchId);
    assert.equal(record?.status, "running", "left to the worker that took it over");
    assert.equal(record?.attempts[0].endedAt, undefined);
  } finally {
    await t.close();
  }
});

Deno.test("DispatchWorker.stop() lets a running dispatch finish before it resolves", async () => {
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const t = setup(async () => {
    started.resolve();
    await release.promise;
    return "finished";
  });
  try {
    t.worker.start();
    const { dispatchId } = await dispatch(t.store, { agent: "assistant", id: "1", message: "Hello" });
    await started.promise;
    const stopping = t.worker.stop();
    await dispatch(t.store, { agent: "assistant", id: "1", session: "other", message: "Not claimed" });
    release.resolve();
    await stopping;
    assert.equal((await t.store.getDispatch(dispatchId))?.status, "done");
    assert.deepEqual(
      (await t.store.listDispatches({ status: ["accepted"] })).length,
      1,
      "no new claims while stopping",
    );
    assert.throws(() => t.worker.start(), /was stopped: create a new worker/);
  } finally {
    await t.close();
  }
});

Deno.test("DispatchWorker.stop() aborts work past its drain deadline and hands it back for another attempt", async () => {
  const started = Promise.withResolvers<void>();
  const t = setup((request) => {
    started.resolve();
    return new Promise((_, reject) => request.signal?.addEventListener("abort", () => reject(request.signal!.reason)));
  }, { drainMs: 20 });
  try {
    t.worker.start();
    const { dispatchId } = await dispatch(t.store, { agent: "assistant", id: "1", message: "Hello" });
    await started.promise;
    await t.worker.stop();
    assert.equal(t.settlements[0].outcome, "released");
    const record = await t.store.getDispatch(dispatchId);
    assert.equal(record?.status, "failed");
    assert.ok(Date.parse(record!.availableAt) <= Date.now());
    assert.equal(record?.error?.message, "The dispatch worker stopped before the dispatch finished");
    assert.deepEqual(await t.history(), [], "nothing half-done was stored");
  } finally {
    await t.close();
  }
});

Deno.test("DispatchWorker.stop({ drainMs }) uses that deadline instead of the worker's own", async () => {
  const started = Promise.withResolvers<void>();
  const t = setup((request) => {
    started.resolve();
    return new Promise((_, reject) => request.signal?.addEventListener("abort", () => reject(request.signal!.reason)));
  }, { drainMs: 60_000 });
  try {
    t.worker.start();
    await dispatch(t.store, { agent: "assistant", id: "1", message: "Hello" });
    await started.promise;
    await t.worker.stop({ drainMs: 20 }); // would hang for a minute on the worker's own deadline
    assert.equal(t.settlements[0].outcome, "released");
  } finally {
    await t.close();
  }
});

Deno.test("DispatchWorker rejects invalid options with a message naming the option", () => {
  const store = new MemoryStore();
  const agents: AgentResolver = { agentNames: () => [], getAgent: () => Promise.reject(new Error("none")) };
  assert.throws(
    () => new DispatchWorker({ store, agents, leaseMs: 10 }),
    /leaseMs must be a whole number of at least 30/,
  );
  assert.throws(() => new DispatchWorker({ store, agents, concurrency: 0 }), /concurrency must be/);
  assert.throws(() => new DispatchWorker({ store, agents, backoff: { initialMs: 10, maxMs: 5 } }), /maxMs \(5\)/);
  assert.throws(() => new DispatchWorker({ store: {} as Store, agents }), /needs a store with a dispatch queue/);
  assert.throws(() => new DispatchWorker({ store, agents: {} as AgentResolver }), /needs an agent resolver/);
});
