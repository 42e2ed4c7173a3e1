// A separate process working on a shared PostgreSQL schema, as another Flue server would. It prints "ready" once
// connected and starts when a line arrives on stdin, so a test can start several workers at the same moment.
//
// Usage:
//   deno run -A postgres_worker.ts append <url> <schema> <label> <batches>
//     Appends <batches> batches of two entries to one shared session.
//   deno run -A postgres_worker.ts claim <url> <schema> <worker> <leaseMs> <workMs>
//     Claims dispatches until none is left, printing "claimed <dispatchId>" for each, working on it for <workMs> and
//     completing it; a test may kill it at any point.
import { PostgresStore } from "../postgres_store.ts";

const [mode, url, schema, label, count, workMs] = Deno.args;
const store = new PostgresStore({ url, schema, maxConnections: 2 });
const key = { agent: "shared", instanceId: "1", session: "default" };
const entry = (content: string) => ({
  message: { role: "user" as const, content },
  source: "prompt" as const,
  operationId: label,
  timestamp: new Date().toISOString(),
});

try {
  await store.connect();
  console.log("ready");
  await Deno.stdin.readable.getReader().read();
  if (mode === "append") {
    for (let batch = 0; batch < Number(count); batch++) {
      await store.append(key, [entry(`${label}-${batch}-a`), entry(`${label}-${batch}-b`)]);
    }
  } else if (mode === "claim") {
    const leaseMs = Number(count);
    let idle = 0;
    // Bounded: stops after 100 empty polls in a row (at least 2 s, longer than the test's leases).
    while (idle < 100) {
      const record = await store.claimDispatch({ worker: label, leaseMs });
      if (record === undefined) {
        idle++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      idle = 0;
      console.log(`claimed ${record.dispatchId}`);
      // The work, during which the other worker claims and a kill lands while the lease is held.
      await new Promise((resolve) => setTimeout(resolve, Number(workMs)));
      if (!await store.completeDispatch(record.dispatchId, label, { by: label })) {
        console.log(`lost ${record.dispatchId}`);
      }
    }
  } else {
    throw new Error(`Unknown mode "${mode}"`);
  }
  console.log("done");
} finally {
  await store.close();
}
