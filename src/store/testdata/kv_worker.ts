// A separate process sharing the Deno KV file at `path` with others. It prints "ready" once the store is open and
// starts when a line arrives on stdin, so a test can start several workers at the same moment.
// Usage: deno run -A --unstable-kv kv_worker.ts append <path> <label> <batches>
//   appends <batches> batches of two entries, labelled <label>, to one shared session;
// Usage: deno run -A --unstable-kv kv_worker.ts claim <path> <worker id>
//   claims dispatches until none is left; for each, appends its input's `n` to the history of the dispatch's own
//   session before completing it (so the history shows the order the session's dispatches ran in), then prints the
//   claimed ids as JSON.
import { KvStore } from "../kv_store.ts";

const [mode, path, label, count] = Deno.args;
const store = new KvStore({ path });
const entry = (content: string) => ({
  message: { role: "user" as const, content },
  source: "dispatch" as const,
  operationId: label,
  timestamp: new Date().toISOString(),
});
// Yield between steps as a real worker would, so the processes' commits interleave.
const pause = () => new Promise((resolve) => setTimeout(resolve, 0));
try {
  await store.listSessions(); // opens the database
  console.log("ready");
  await Deno.stdin.readable.getReader().read();
  if (mode === "append") {
    const key = { agent: "shared", instanceId: "1", session: "default" };
    for (let batch = 0; batch < Number(count); batch++) {
      await store.append(key, [entry(`${label}-${batch}-a`), entry(`${label}-${batch}-b`)]);
      await pause();
    }
  } else {
    const claimed: string[] = [];
    for (;;) {
      const record = await store.claimDispatch({ worker: label, leaseMs: 60_000 });
      if (record === undefined) break;
      claimed.push(record.dispatchId);
      await store.append(record.key, [entry(String((record.input as { n: number }).n))]);
      if (!await store.completeDispatch(record.dispatchId, label, { by: label })) throw new Error("lease lost");
      await pause();
    }
    console.log(JSON.stringify(claimed));
  }
} finally {
  await store.close();
}
