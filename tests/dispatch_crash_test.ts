import assert from "node:assert/strict";
import { join } from "node:path";
import type { DispatchRecord } from "../src/store/dispatch_queue.ts";
import { SqliteStore } from "../src/store/sqlite_store.ts";

const fixture = new URL("./fixtures/dispatch_server_process.ts", import.meta.url).pathname;
const SESSIONS = ["s0", "s1", "s2", "s3"];

interface ServerProcess {
  child: Deno.ChildProcess;
  url: string;
}

/** Starts the server process and waits until it listens. */
async function startServer(path: string, delayMs: number): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fixture, path, String(delayMs)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  const said = new TextDecoder().decode(value).trim();
  try {
    return { child, url: `http://127.0.0.1:${JSON.parse(said).port}` };
  } catch {
    child.kill("SIGKILL");
    const { stderr } = await child.output();
    assert.fail(`The server process did not start: "${said}"\n${new TextDecoder().decode(stderr)}`);
  }
}

async function stopped(server: ServerProcess): Promise<Deno.CommandStatus> {
  const status = await server.child.status;
  await server.child.stdout.cancel();
  await server.child.stderr.cancel();
  return status;
}

/** `POST /agents/assistant/1/dispatch` with an idempotency key; returns the status and the receipt. */
async function postDispatch(
  server: ServerProcess,
  session: string,
  message: string,
  idempotencyKey: string,
): Promise<{ status: number; body: { dispatchId: string; acceptedAt: string; created: boolean } }> {
  const response = await fetch(`${server.url}/agents/assistant/1/dispatch`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
    body: JSON.stringify({ message, session }),
  });
  return { status: response.status, body: await response.json() };
}

/** Polls the store until `done` holds, for at most `timeoutMs`. */
async function waitFor(
  store: SqliteStore,
  done: (records: DispatchRecord[]) => boolean,
  timeoutMs: number,
): Promise<DispatchRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await store.listDispatches({ limit: 1000 });
    if (done(records)) return records;
    if (Date.now() > deadline) {
      const counts = Object.groupBy(records, (record) => record.status);
      assert.fail(`Timed out; statuses: ${
        JSON.stringify(Object.fromEntries(
          Object.entries(counts).map(([status, list]) => [status, list!.length]),
        ))
      }`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function withProject(body: (path: string, store: SqliteStore) => Promise<void>): Promise<void> {
  await new Deno.Command(Deno.execPath(), { args: ["cache", fixture], stdout: "null", stderr: "null" }).output();
  const dir = await Deno.makeTempDir({ prefix: "flue-dispatch-crash-" });
  const path = join(dir, "flue.db");
  const store = new SqliteStore({ path });
  try {
    await body(path, store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("every input dispatched over HTTP is handled once, in order, across a SIGKILL of the server", async () => {
  await withProject(async (path, store) => {
    const started = performance.now();
    const ids: string[] = [];
    const post = async (server: ServerProcess, index: number) => {
      const session = SESSIONS[index % SESSIONS.length];
      const { status, body } = await postDispatch(server, session, `input ${index}`, `input-${index}`);
      assert.equal(status, 202);
      return body;
    };
    // The first 60 inputs go to the first server, round-robin over four sessions, while its worker runs.
    const first = await startServer(path, 10);
    for (let index = 0; index < 60; index++) ids.push((await post(first, index)).dispatchId);
    await waitFor(store, (records) => records.filter((record) => record.status === "done").length >= 30, 60_000);
    first.child.kill("SIGKILL");
    await stopped(first);
    const killedAt = performance.now();
    const atKill = await store.listDispatches({ limit: 1000 });
    const doneAtKill = atKill.filter((record) => record.status === "done").length;
    const runningAtKill = atKill.filter((record) => record.status === "running");
    assert.ok(doneAtKill < 60, "the kill landed before the work was done");
    // Inputs the dead worker had begun: their retry must continue from the stored turns, not add the input again.
    let begunAtKill = 0;
    for (const record of runningAtKill) {
      const history = await store.load(record.key);
      if (history.some((entry) => entry.operationId === record.dispatchId)) begunAtKill++;
    }

    const second = await startServer(path, 10);
    // A client that did not hear some answers sends those inputs again: the idempotency key returns the receipt.
    for (const index of [0, 30, 59]) {
      const repeat = await post(second, index);
      assert.equal(repeat.created, false);
      assert.equal(repeat.dispatchId, ids[index]);
    }
    for (let index = 60; index < 100; index++) ids.push((await post(second, index)).dispatchId);
    const records = await waitFor(
      store,
      (list) => list.length === 100 && list.every((record) => record.status === "done"),
      60_000,
    );
    const recoveredAt = performance.now();
    second.child.kill("SIGTERM");
    assert.equal((await stopped(second)).code, 0);

    for (const [position, session] of SESSIONS.entries()) {
      const history = await store.load({ agent: "assistant", instanceId: "1", session });
      const users = history.filter((entry) => entry.message.role === "user").map((entry) => entry.message.content);
      const expected = ids.map((_, index) => index).filter((index) => index % SESSIONS.length === position);
      assert.deepEqual(
        users,
        expected.map((index) => `input ${index}`),
        `session ${session}: each input once, in order`,
      );
      for (const index of expected) {
        const own = history.filter((entry) => entry.operationId === ids[index]);
        const answers = own.filter((entry) => entry.message.role === "assistant" && !entry.message.toolCalls?.length);
        assert.deepEqual(answers.map((entry) => entry.message.content), [`handled input ${index}`]);
        assert.equal(own.filter((entry) => entry.message.role === "tool").length, 1, `input ${index}: one tool result`);
      }
    }
    const retried = records.filter((record) => record.attempts.length > 1);
    assert.ok(retried.every((record) => record.attempts[0].error?.name === "LeaseExpired"));
    console.log(
      `dispatch crash test: killed after ${doneAtKill} of 60 done (${runningAtKill.length} running, ${begunAtKill} ` +
        `of them with turns stored, ${retried.length} retried); first server ${Math.round(killedAt - started)} ms, ` +
        `restart to all 100 done ${Math.round(recoveredAt - killedAt)} ms`,
    );
  });
});

Deno.test("a server given SIGTERM finishes its running dispatch, claims nothing more, and exits 0", async () => {
  await withProject(async (path, store) => {
    const server = await startServer(path, 150);
    const running = await postDispatch(server, "a", "long task", "long");
    // Queued behind the running input of its session: a draining worker must leave it for the next process.
    const later = await postDispatch(server, "a", "later", "later");
    await waitFor(store, (records) => records.some((record) => record.status === "running"), 30_000);
    server.child.kill("SIGTERM");
    assert.equal((await stopped(server)).code, 0);
    const records = await store.listDispatches();
    assert.equal(records.filter((record) => record.status === "running").length, 0, "nothing left running");
    const finished = records.find((record) => record.dispatchId === running.body.dispatchId);
    assert.equal(finished?.status, "done");
    assert.equal((finished?.result as { text: string }).text, "handled long task");
    const waiting = records.find((record) => record.dispatchId === later.body.dispatchId);
    assert.equal(waiting?.status, "accepted");
    assert.deepEqual(waiting?.attempts, []);
  });
});
