// Two Flue server processes on one PostgreSQL database, as users run them behind a load balancer: dispatches spread
// across both, one is killed with SIGKILL and the other takes its leased work over, nothing is lost or repeated, and
// what one server stored (histories, workflow runs) is served by the other. Needs FLUE_TEST_POSTGRES_URL.
import assert from "node:assert/strict";
import type { DispatchRecord } from "../src/store/dispatch_queue.ts";
import { PostgresStore } from "../src/store/postgres_store.ts";
import type { HistoryEntry, RunRecord } from "../src/store/store.ts";
import type { FlueEvent } from "../src/events/event_types.ts";
import {
  dropSchema,
  SKIP_MESSAGE,
  TEST_POSTGRES_URL,
  testSchemaName,
} from "../src/store/testdata/postgres_test_support.ts";

const fixture = new URL("./fixtures/postgres_server_process.ts", import.meta.url).pathname;
// Every server of a deployment shares one token, so the load balancer may send any request to any of them.
const TOKEN = `h12-test-token-${crypto.randomUUID()}`;
const LEASE_MS = 1000;
const WAIT_MS = 60_000;
const SESSIONS = Array.from({ length: 12 }, (_, index) => `s${index}`);
const INPUTS = 100;

interface Receipt {
  dispatchId: string;
  created: boolean;
}

interface ServerProcess {
  child: Deno.ChildProcess;
  url: string;
  worker: string;
  stderr(): string;
  /** The exit status, within a bound (then the process is killed and the wait fails). */
  exited(): Promise<Deno.CommandStatus>;
}

/** Starts a server process on the shared schema and waits until it listens. */
async function startServer(url: string, schema: string, worker: string, delayMs: number): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", fixture, url, schema, worker, String(delayMs), String(LEASE_MS)],
    env: { FLUE_API_TOKEN: TOKEN },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Read standard error all along, so a chatty server never blocks on a full pipe.
  let stderr = "";
  const collecting = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) stderr += text;
  })();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  const deadline = setTimeout(() => child.kill("SIGKILL"), WAIT_MS);
  while (!said.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    said += value;
  }
  clearTimeout(deadline);
  const draining = (async () => {
    while (!(await lines.read()).done);
  })();
  const exited = async () => {
    const timer = setTimeout(() => child.kill("SIGKILL"), WAIT_MS);
    const status = await child.status;
    clearTimeout(timer);
    await Promise.all([collecting, draining]);
    return status;
  };
  try {
    const { port } = JSON.parse(said.split("\n")[0]);
    return { child, url: `http://127.0.0.1:${port}`, worker, stderr: () => stderr, exited };
  } catch {
    child.kill("SIGKILL");
    await exited().catch(() => {});
    assert.fail(`Server "${worker}" did not start: "${said.trim()}"\n${stderr}`);
  }
}

/** Kills what still runs; for `finally`. */
async function killAll(servers: ServerProcess[]): Promise<void> {
  for (const server of servers) {
    try {
      server.child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }
  await Promise.all(servers.map((server) => server.exited()));
}

/** One request with the token; returns the status and the JSON body. */
async function call<Body>(
  server: ServerProcess,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${server.url}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  return { status: response.status, body: await response.json() };
}

/** Polls the shared store until `isDone` holds, for at most WAIT_MS. */
async function waitForDispatches(
  store: PostgresStore,
  isDone: (records: DispatchRecord[]) => boolean,
): Promise<DispatchRecord[]> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const records = await store.listDispatches({ limit: 1000 });
    if (isDone(records)) return records;
    if (Date.now() > deadline) assert.fail(`Timed out; statuses: ${JSON.stringify(countBy(records, statusOf))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const statusOf = (record: DispatchRecord) => record.status;
const finisher = (record: DispatchRecord) => record.attempts.at(-1)?.worker ?? "none";
const allDone = (records: DispatchRecord[]) => records.length === INPUTS && records.every((r) => r.status === "done");

/** The sessions with finished dispatches from two workers. */
function sessionsServedByBoth(records: DispatchRecord[]): string[] {
  const done = records.filter((record) => record.status === "done");
  return SESSIONS.filter((session) => {
    return new Set(done.filter((record) => record.key.session === session).map(finisher)).size === 2;
  });
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** Runs `body` with two servers on a fresh schema; kills them and drops the schema afterwards. */
async function withTwoServers(
  delayMs: number,
  body: (a: ServerProcess, b: ServerProcess, store: PostgresStore) => Promise<void>,
): Promise<void> {
  const url = TEST_POSTGRES_URL!;
  await new Deno.Command(Deno.execPath(), { args: ["cache", fixture], stdout: "null", stderr: "null" }).output();
  const schema = testSchemaName();
  const store = new PostgresStore({ url, schema, maxConnections: 2 });
  const servers: ServerProcess[] = [];
  try {
    // Both start at once, so both race to create the schema (an advisory lock makes one wait).
    const started = await Promise.allSettled([
      startServer(url, schema, "server-a", delayMs),
      startServer(url, schema, "server-b", delayMs),
    ]);
    for (const result of started) if (result.status === "fulfilled") servers.push(result.value);
    for (const result of started) if (result.status === "rejected") throw result.reason;
    await body(servers[0], servers[1], store);
  } catch (error) {
    for (const server of servers) console.error(`--- ${server.worker} stderr ---\n${server.stderr()}`);
    throw error;
  } finally {
    await killAll(servers);
    await store.close();
    await dropSchema(url, schema);
  }
}

/** The user messages and final answers of a session, read over HTTP. */
async function historyOf(server: ServerProcess, session: string): Promise<HistoryEntry[]> {
  const { status, body } = await call<{ entries: HistoryEntry[]; hasMore: boolean }>(
    server,
    `/agents/assistant/1/history?session=${session}&limit=10000`,
  );
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.hasMore, false);
  return body.entries;
}

if (TEST_POSTGRES_URL === undefined) {
  console.log(SKIP_MESSAGE);
  Deno.test({ name: `Two servers on one PostgreSQL database (${SKIP_MESSAGE})`, ignore: true, fn() {} });
} else {
  Deno.test("two servers share the dispatch queue; after one is killed the other finishes its work, once, in order", async () => {
    await withTwoServers(40, async (a, b, store) => {
      const started = performance.now();
      // Input n goes to session n mod 12; each session's inputs alternate between the servers. Sessions post in
      // parallel, each one's inputs in order, so acceptance order within a session is the order below.
      const plan = Array.from({ length: INPUTS }, (_, index) => {
        const session = SESSIONS[index % SESSIONS.length];
        const position = Math.floor(index / SESSIONS.length);
        return { index, session, position, server: (position + index) % 2 === 0 ? a : b };
      });
      const ids: string[] = [];
      await Promise.all(SESSIONS.map(async (session) => {
        for (const input of plan.filter((item) => item.session === session)) {
          const { status, body } = await call<Receipt>(input.server, "/agents/assistant/1/dispatch", {
            body: { message: `input ${input.index}`, session },
            headers: { "idempotency-key": `input-${input.index}` },
          });
          assert.equal(status, 202, JSON.stringify(body));
          ids[input.index] = body.dispatchId;
        }
      }));
      const postedAt = performance.now();

      // A dispatch posted to one server is visible on the other at once.
      const seen = await call<DispatchRecord>(b, `/dispatches/${ids[0]}`);
      assert.equal(seen.status, 200);
      assert.equal(seen.body.dispatchId, ids[0]);

      // Kill server A mid-way: once both servers finished a share, several sessions were served by both (twelve
      // sessions for eight worker slots: a freed slot takes the oldest waiting input, often another session's), and
      // while A holds leases.
      await waitForDispatches(store, (records) => {
        const finished = countBy(records.filter((record) => record.status === "done"), finisher);
        const isHolding = records.some((record) => record.status === "running" && record.leaseOwner === a.worker);
        const isShared = sessionsServedByBoth(records).length >= 3;
        return (finished[a.worker] ?? 0) >= 10 && (finished[b.worker] ?? 0) >= 10 && isShared && isHolding;
      });
      a.child.kill("SIGKILL");
      assert.equal((await a.exited()).signal, "SIGKILL");
      const killedAt = performance.now();
      const atKill = await store.listDispatches({ limit: 1000 });
      const doneAtKill = atKill.filter((record) => record.status === "done").length;
      const heldByA = atKill.filter((record) => record.status === "running" && record.leaseOwner === a.worker);
      assert.ok(doneAtKill < INPUTS, `the kill landed before the work was done (${doneAtKill} done)`);
      assert.ok(heldByA.length > 0, "server A held leases when it was killed");
      // Inputs A had begun: B must continue from their stored turns rather than add the input again.
      let begunByA = 0;
      for (const record of heldByA) {
        if ((await store.load(record.key)).some((entry) => entry.operationId === record.dispatchId)) begunByA++;
      }

      // A client that never heard server A's answer sends the same inputs to server B: the idempotency key is
      // store-wide, so B returns A's receipt instead of admitting them again.
      for (const input of plan.filter((item) => item.server === a).slice(0, 5)) {
        const repeat = await call<Receipt>(b, "/agents/assistant/1/dispatch", {
          body: { message: `input ${input.index}`, session: input.session },
          headers: { "idempotency-key": `input-${input.index}` },
        });
        assert.equal(repeat.status, 202);
        assert.equal(repeat.body.dispatchId, ids[input.index]);
        assert.equal(repeat.body.created, false);
      }

      let takenOverAt: number | undefined;
      const records = await waitForDispatches(store, (list) => {
        const held = heldByA.map((record) => list.find((item) => item.dispatchId === record.dispatchId));
        if (takenOverAt === undefined && held.every((record) => record?.status === "done")) {
          takenOverAt = performance.now();
        }
        return allDone(list);
      });
      const finishedAt = performance.now();

      // Both servers did a substantial share, and several sessions were served by both before the kill.
      const byWorker = countBy(records, finisher);
      assert.deepEqual(Object.keys(byWorker).sort(), [a.worker, b.worker]);
      assert.ok(byWorker[a.worker] >= 10 && byWorker[b.worker] >= 10, `shares: ${JSON.stringify(byWorker)}`);
      const sessionsOnBoth = sessionsServedByBoth(atKill);
      assert.ok(sessionsOnBoth.length >= 3, `sessions served by both: ${sessionsOnBoth.join(", ")}`);
      // Work that server A held when it died was retried by B after the lease expired, and says so. Nothing else
      // fails here, so an expired lease is the only reason for a retry.
      const retried = records.filter((record) => record.attempts.length > 1);
      for (const record of retried) {
        assert.ok(record.attempts.slice(0, -1).every((attempt) => attempt.error?.name === "LeaseExpired"));
      }
      for (const record of heldByA) {
        const final = records.find((item) => item.dispatchId === record.dispatchId)!;
        assert.equal(final.attempts.at(-2)?.worker, a.worker);
        assert.equal(final.attempts.at(-2)?.error?.name, "LeaseExpired");
      }

      // Never two inputs of a session at once, whichever servers ran them: each input's first attempt starts after
      // the previous input of its session finished. Both times come from the database's clock, read in different
      // transactions, so they may differ by a round trip; a real overlap would be a whole input (two model calls).
      for (const session of SESSIONS) {
        const inOrder = plan.filter((input) => input.session === session)
          .map((input) => records.find((record) => record.dispatchId === ids[input.index])!);
        for (const [position, record] of inOrder.entries()) {
          if (position === 0) continue;
          const previousEnd = Date.parse(inOrder[position - 1].finishedAt!);
          const gap = Date.parse(record.attempts[0].startedAt) - previousEnd;
          assert.ok(gap > -20, `${session}: ${record.dispatchId} started ${-gap} ms before the previous input ended`);
        }
      }

      // Each input once, in posting order per session, answered once by a model that saw every earlier input of its
      // session, whichever server stored it. Read from server B over HTTP.
      for (const session of SESSIONS) {
        const history = await historyOf(b, session);
        const expected = plan.filter((input) => input.session === session);
        const users = history.filter((entry) => entry.message.role === "user").map((entry) => entry.message.content);
        assert.deepEqual(users, expected.map((input) => `input ${input.index}`), `session ${session}: once, in order`);
        for (const input of expected) {
          const own = history.filter((entry) => entry.operationId === ids[input.index]);
          const answers = own.filter((entry) => entry.message.role === "assistant" && !entry.message.toolCalls?.length);
          assert.deepEqual(answers.map((entry) => entry.message.content), [
            `handled input ${input.index} after ${input.position}`,
          ]);
          assert.equal(own.filter((entry) => entry.message.role === "tool").length, 1, `input ${input.index}`);
        }
      }

      b.child.kill("SIGTERM");
      assert.equal((await b.exited()).code, 0);
      console.log(
        `postgres servers: ${INPUTS} dispatches posted in ${Math.round(postedAt - started)} ms; server A killed ` +
          `after ${doneAtKill} done, holding ${heldByA.length} leases (${begunByA} with turns stored); B finished A's leased work ` +
          `${Math.round((takenOverAt ?? finishedAt) - killedAt)} ms after the kill (lease ${LEASE_MS} ms); ` +
          `all done ${Math.round(finishedAt - started)} ms after the first post; finished by ` +
          `${JSON.stringify(byWorker)}; ${retried.length} retried; sessions served by both before the kill: ` +
          `${sessionsOnBoth.length} of ${SESSIONS.length}`,
      );
    });
  });

  Deno.test("a prompt and a workflow run on one server are read, streamed and continued on the other", async () => {
    await withTwoServers(5, async (a, b) => {
      const prompt = (server: ServerProcess, message: string) =>
        call<{ result: { text: string } }>(server, "/agents/assistant/1", { body: { message, session: "shared" } });
      const first = await prompt(a, "hello from A");
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.result.text, "handled hello from A after 0");
      const history = await historyOf(b, "shared");
      assert.deepEqual(
        history.filter((entry) => entry.message.role !== "tool").map((entry) => entry.message.content).at(-1),
        "handled hello from A after 0",
      );
      assert.equal(history[0].message.content, "hello from A");
      // Each server's open session takes in what the other appended before its next turn.
      assert.equal((await prompt(b, "hello from B")).body.result.text, "handled hello from B after 1");
      assert.equal((await prompt(a, "again on A")).body.result.text, "handled again on A after 2");

      const start = await call<{ runId: string }>(a, "/workflows/steps?id=w1", { body: { steps: 5, stepMs: 150 } });
      assert.equal(start.status, 202, JSON.stringify(start.body));
      const { runId } = start.body;
      const running = await call<RunRecord>(b, `/runs/${encodeURIComponent(runId)}`);
      assert.equal(running.status, 200);
      assert.equal(running.body.status, "running", "B sees the run while A runs it");
      // Cancelling is not shared: only the process running the work can abort it (docs/postgres.md says so).
      const abort = await call<{ aborted: boolean }>(b, `/runs/${encodeURIComponent(runId)}/abort`, { method: "POST" });
      assert.deepEqual([abort.status, abort.body.aborted], [200, false]);

      // B follows a run it does not run by reading the store: the stream ends with run_end.
      const streamed = await readRunStream(b, runId);
      assert.equal(streamed.at(-1)?.type, "run_end");
      assert.deepEqual(streamed.map((event) => event.eventIndex), streamed.map((_, index) => index));
      const logs = streamed.flatMap((event) => event.type === "log" ? [event.message] : []);
      assert.deepEqual(logs, [1, 2, 3, 4, 5].map((step) => `step ${step} on server-a`));

      const page = await call<{ events: FlueEvent[] }>(b, `/runs/${encodeURIComponent(runId)}/events?limit=1000`);
      assert.equal(page.status, 200);
      assert.deepEqual(page.body.events, streamed);
      const ended = await call<RunRecord>(b, `/runs/${encodeURIComponent(runId)}`);
      assert.equal(ended.body.status, "done");
      assert.deepEqual(ended.body.result, { steps: 5 });

      // The token is required on every server.
      const anonymous = await fetch(`${b.url}/runs/${encodeURIComponent(runId)}`);
      assert.equal(anonymous.status, 401);
      await anonymous.body?.cancel();

      a.child.kill("SIGTERM");
      b.child.kill("SIGTERM");
      assert.deepEqual([(await a.exited()).code, (await b.exited()).code], [0, 0]);
    });
  });
}

/** Reads `GET /runs/:id/stream` until the server ends it (after `run_end`), within WAIT_MS. */
async function readRunStream(server: ServerProcess, runId: string): Promise<FlueEvent[]> {
  const response = await fetch(`${server.url}/runs/${encodeURIComponent(runId)}/stream`, {
    headers: { authorization: `Bearer ${TOKEN}`, accept: "text/event-stream" },
    signal: AbortSignal.timeout(WAIT_MS),
  });
  assert.equal(response.status, 200);
  const text = await response.text();
  return text.split("\n\n")
    .map((block) => block.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim()))
    .filter((data) => data.length > 0)
    .map((data) => JSON.parse(data.join("\n")));
}
