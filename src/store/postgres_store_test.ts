import assert from "node:assert/strict";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { createStore } from "./create_store.ts";
import { PostgresStore } from "./postgres_store.ts";
import { defineStoreContractTests } from "./store_contract.ts";
import {
  dropSchema,
  SKIP_MESSAGE,
  TEST_POSTGRES_URL,
  testSchemaName,
  withAdmin,
} from "./testdata/postgres_test_support.ts";

const WORKER = fileURLToPath(new URL("./testdata/postgres_worker.ts", import.meta.url));
const url = TEST_POSTGRES_URL;

if (url === undefined) {
  console.log(SKIP_MESSAGE);
  Deno.test({ name: `PostgresStore contract and multi-process tests (${SKIP_MESSAGE})`, ignore: true, fn() {} });
} else {
  defineStoreContractTests("PostgresStore", () => {
    const schema = testSchemaName();
    return Promise.resolve({
      store: new PostgresStore({ url, schema, maxConnections: 4 }),
      cleanup: () => dropSchema(url, schema),
    });
  });
}

/** Runs `body` on a store in a fresh schema, then drops the schema. */
async function withStore(body: (store: PostgresStore, schema: string, url: string) => Promise<void>): Promise<void> {
  const schema = testSchemaName();
  const store = new PostgresStore({ url: url!, schema });
  try {
    await body(store, schema, url!);
  } finally {
    await store.close();
    await dropSchema(url!, schema);
  }
}

interface Worker {
  child: Deno.ChildProcess;
  lines: string[];
  /** Resolves with the first line that matches, or, with `onlyNew`, the first such line printed from now on. */
  waitFor(pattern: RegExp, onlyNew?: boolean): Promise<string>;
  finished: Promise<Deno.CommandStatus>;
}

/** Starts a worker process and waits until it is connected. */
async function startWorker(args: string[]): Promise<Worker> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-lock", WORKER, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        for (const waiter of waiters.filter((item) => item.pattern.test(line))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  })();
  const finished = Promise.all([child.status, reading]).then(([status]) => status);
  const worker: Worker = {
    child,
    lines,
    waitFor: (pattern, onlyNew = false) => {
      const seen = onlyNew ? undefined : lines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return Promise.race([
        new Promise<string>((resolve) => waiters.push({ pattern, resolve })),
        finished.then((status) => {
          throw new Error(`The worker exited (code ${status.code}) before printing ${pattern}: ${lines.join(" | ")}`);
        }),
      ]);
    },
    finished,
  };
  await worker.waitFor(/^ready$/);
  return worker;
}

async function release(workers: Worker[]): Promise<void> {
  for (const worker of workers) {
    const writer = worker.child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
  }
}

Deno.test({
  name: "PostgresStore keeps seq gapless while two processes append to one session at once",
  ignore: url === undefined,
  fn: () =>
    withStore(async (store, schema, url) => {
      await store.connect();
      const batches = 30;
      const workers = await Promise.all(
        ["left", "right"].map((label) => startWorker(["append", url, schema, label, String(batches)])),
      );
      await release(workers);
      const statuses = await Promise.all(workers.map((worker) => worker.finished));
      assert.deepEqual(statuses.map((status) => status.code), [0, 0]);
      const history = await store.load({ agent: "shared", instanceId: "1", session: "default" });
      assert.deepEqual(history.map((item) => item.seq), Array.from({ length: batches * 4 }, (_, seq) => seq));
      for (let index = 0; index < history.length; index += 2) {
        // Each batch of two stays together: "x-n-a" is always followed by "x-n-b".
        assert.equal(history[index + 1].message.content, String(history[index].message.content).replace(/a$/, "b"));
      }
      const labels = new Set(history.map((item) => String(item.message.content).split("-")[0]));
      assert.deepEqual([...labels].sort(), ["left", "right"]);
    }),
});

Deno.test({
  name: "PostgresStore: two processes share the queue, never claim one dispatch twice, and a killed one loses nothing",
  ignore: url === undefined,
  fn: () =>
    withStore(async (store, schema, url) => {
      const sessions = 6;
      const total = 36;
      for (let n = 0; n < total; n++) {
        const key = { agent: "shared", instanceId: "1", session: `s${n % sessions}` };
        await store.enqueueDispatch({ key, input: { n }, maxAttempts: 3 });
      }
      // The doomed worker works 300 ms per dispatch, the survivor 50 ms, so the survivor cannot drain the queue before the
      // doomed one's second claim, and the kill lands while that claim's lease (1 s, not renewed) is held.
      const [doomed, survivor] = await Promise.all([
        startWorker(["claim", url, schema, "doomed", "1000", "300"]),
        startWorker(["claim", url, schema, "survivor", "1000", "50"]),
      ]);
      await release([doomed, survivor]);
      await doomed.waitFor(/^claimed /);
      const inFlight = (await doomed.waitFor(/^claimed /, true)).split(" ")[1];
      doomed.child.kill("SIGKILL");
      await doomed.finished;
      const status = await survivor.finished;
      assert.equal(status.code, 0, survivor.lines.join("\n"));

      const records = await store.listDispatches({ limit: 1000 });
      assert.equal(records.length, total);
      assert.deepEqual(records.filter((record) => record.status !== "done").map((record) => record.status), []);
      const claims = [...doomed.lines, ...survivor.lines].filter((line) => line.startsWith("claimed "));
      const claimedBy = (worker: Worker) => worker.lines.filter((line) => line.startsWith("claimed ")).length;
      assert.ok(claimedBy(doomed) > 0 && claimedBy(survivor) > 0, "both workers claimed dispatches");
      assert.deepEqual(survivor.lines.filter((line) => line.startsWith("lost ")), []);
      for (const record of records) {
        const attempts = record.attempts;
        // A second attempt only follows an expired lease of the killed worker; no dispatch ran twice otherwise.
        assert.ok(attempts.length === 1 || attempts.length === 2, JSON.stringify(record));
        if (attempts.length === 2) {
          assert.equal(attempts[0].worker, "doomed");
          assert.equal(attempts[0].error?.name, "LeaseExpired");
        }
        assert.equal(attempts.at(-1)!.worker, (record.result as { by: string }).by);
      }
      assert.equal(claims.length, records.reduce((sum, record) => sum + record.attempts.length, 0));
      const taken = records.find((record) => record.dispatchId === inFlight)!;
      assert.deepEqual(taken.attempts.map((attempt) => [attempt.worker, attempt.error?.name]), [
        ["doomed", "LeaseExpired"],
        ["survivor", undefined],
      ]);
      // Per-session order: within a session, each dispatch's final attempt started after the previous one's.
      for (let session = 0; session < sessions; session++) {
        const started = records.filter((record) => record.key.session === `s${session}`)
          .map((record) => Date.parse(record.attempts.at(-1)!.startedAt));
        assert.deepEqual(started, [...started].sort((a, b) => a - b));
      }
    }),
});

Deno.test({
  name: "PostgresStore migrates a new schema once when several stores open it at once",
  ignore: url === undefined,
  fn: async () => {
    const schema = testSchemaName();
    const stores = Array.from({ length: 5 }, () => new PostgresStore({ url: url!, schema, maxConnections: 1 }));
    try {
      await Promise.all(stores.map((store) => store.connect()));
      const [row] = await withAdmin(url!, (sql) => sql`SELECT version FROM ${sql(`${schema}.schema_version`)}`);
      assert.equal(row.version, 1);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await dropSchema(url!, schema);
    }
  },
});

Deno.test({
  name: "PostgresStore refuses a schema written by a newer Flue",
  ignore: url === undefined,
  fn: () =>
    withStore(async (store, schema, url) => {
      await store.connect();
      await withAdmin(url, (sql) => sql`UPDATE ${sql(`${schema}.schema_version`)} SET version = 99`);
      const newer = new PostgresStore({ url, schema });
      try {
        await assert.rejects(newer.connect(), /schema "flue_test_\w+" has version 99, newer than the 1.*upgrade Flue/);
      } finally {
        await newer.close();
      }
    }),
});

Deno.test({
  name: "PostgresStore names the server but never the password when the login fails",
  ignore: url === undefined,
  fn: async () => {
    const parsed = new URL(url!);
    parsed.password = "wrong-secret-4f9a";
    const store = new PostgresStore({ url: parsed.href, schema: testSchemaName() });
    try {
      const error = await store.load({ agent: "a", instanceId: "1", session: "s" }).then(
        () => assert.fail("the login should fail"),
        (error: Error) => error,
      );
      assert.match(error.message, /refused the login.*check the user name and password/);
      assert.match(error.message, /postgres:\/\/flue:\*\*\*@127\.0\.0\.1/);
      assert.doesNotMatch(`${error.message} ${(error.cause as Error).message}`, /wrong-secret-4f9a/);
    } finally {
      await store.close();
    }
  },
});

Deno.test("PostgresStore says the server cannot be reached when nothing listens, without the password", async () => {
  const port = await freePort();
  const store = new PostgresStore({
    url: `postgres://flue:s3cret-pass@127.0.0.1:${port}/flue`,
    connectTimeoutMs: 2000,
  });
  try {
    const error = await store.connect().then(() => assert.fail("nothing listens"), (error: Error) => error);
    assert.match(
      error.message,
      /Cannot reach PostgreSQL at postgres:\/\/flue:\*\*\*@127\.0\.0\.1:\d+\/flue .*start the server/,
    );
    assert.doesNotMatch(error.message, /s3cret-pass/);
  } finally {
    await store.close();
  }
});

Deno.test("PostgresStore rejects bad options with a TypeError that never shows the password", () => {
  assert.throws(
    () => new PostgresStore({ url: "mysql://root:hunter22@db/flue" }),
    (error: Error) =>
      error instanceof TypeError && /must start with postgres:\/\//.test(error.message) &&
      !error.message.includes("hunter22"),
  );
  assert.throws(
    () => new PostgresStore({ url: "postgres://flue:hunter22@bad host/flue" }),
    (error: Error) => /invalid host "bad host"/.test(error.message) && !error.message.includes("hunter22"),
  );
  assert.throws(() => new PostgresStore({ url: "postgres://h/db", schema: "a;drop" }), /plain identifier.*"a;drop"/);
  assert.throws(() => new PostgresStore({ url: "postgres://h/db", maxConnections: 0 }), /maxConnections.*positive/);
  assert.equal(
    new PostgresStore({ url: "postgres://u:hunter22@h:5/db?sslmode=require" }).url,
    "postgres://u:***@h:5/db",
  );
});

Deno.test("createStore() builds a postgres store from a name or a configuration, redacting its URL in errors", async () => {
  const store = createStore({ kind: "postgres", url: "postgres://u:hunter22@127.0.0.1:1/db", schema: "app" }, {
    projectDir: ".",
  });
  assert.equal(store.kind, "postgres");
  assert.equal((store as PostgresStore).schema, "app");
  await store.close();
  assert.throws(
    () =>
      createStore({ kind: "postgres", url: "postgres://u:hunter22@h/db", colour: "red" } as never, { projectDir: "." }),
    (error: Error) =>
      /Unknown key "colour" in the postgres store configuration/.test(error.message) &&
      !error.message.includes("hunter22"),
  );
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

Deno.test("mod.ts loads npm:postgres only through a dynamic import, so programs that never choose it skip it", async () => {
  const mod = fileURLToPath(new URL("../../mod.ts", import.meta.url));
  const output = await new Deno.Command(Deno.execPath(), { args: ["info", "--json", mod], stdout: "piped" }).output();
  assert.ok(output.success);
  const graph = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string; dependencies?: { specifier: string; code?: unknown; isDynamic?: boolean }[] }[];
  };
  const loads = graph.modules.flatMap((module) =>
    (module.dependencies ?? [])
      .filter((dependency) => dependency.specifier === "postgres" && dependency.code !== undefined)
      .map((dependency) => ({ from: module.specifier.split("/").pop(), isDynamic: dependency.isDynamic === true }))
  );
  assert.deepEqual(loads, [{ from: "_postgres_connection.ts", isDynamic: true }]);
});
