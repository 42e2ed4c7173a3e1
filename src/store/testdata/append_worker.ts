// Appends `count` batches of two entries, labelled `label`, to the sqlite store at `path`, as a separate process would.
// It prints "ready" once the store is open and starts appending when a line arrives on stdin, so a test can start
// several workers' appends at the same moment.
// Usage: deno run -A append_worker.ts <path> <label> <count>
import { SqliteStore } from "../sqlite_store.ts";

const [path, label, count] = Deno.args;
const store = new SqliteStore({ path });
const key = { agent: "shared", instanceId: "1", session: "default" };
const entry = (content: string) => ({
  message: { role: "user" as const, content },
  source: "prompt" as const,
  operationId: label,
  timestamp: new Date().toISOString(),
});
try {
  console.log("ready");
  await Deno.stdin.readable.getReader().read();
  for (let batch = 0; batch < Number(count); batch++) {
    await store.append(key, [entry(`${label}-${batch}-a`), entry(`${label}-${batch}-b`)]);
    // A real process does other work between appends; without this pause the first worker re-takes the lock at once
    // and finishes before the other's busy handler wakes, so the appends would never interleave.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
} finally {
  await store.close();
}
