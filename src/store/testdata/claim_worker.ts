// Claims and completes dispatches from the sqlite store at `path` until none is left, as a separate worker process
// would, then prints the ids it claimed as JSON. It prints "ready" once the store is open and starts when a line
// arrives on stdin, so a test can start several workers' claims at the same moment.
// Usage: deno run -A claim_worker.ts <path> <worker id>
import { SqliteStore } from "../sqlite_store.ts";

const [path, worker] = Deno.args;
const store = new SqliteStore({ path });
const claimed: string[] = [];
try {
  console.log("ready");
  await Deno.stdin.readable.getReader().read();
  for (;;) {
    const record = await store.claimDispatch({ worker, leaseMs: 60_000 });
    if (record === undefined) break;
    claimed.push(record.dispatchId);
    if (!await store.completeDispatch(record.dispatchId, worker, { by: worker })) throw new Error("lease lost");
    // Yield as a real worker would between dispatches, so the processes' claims interleave.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  console.log(JSON.stringify(claimed));
} finally {
  await store.close();
}
