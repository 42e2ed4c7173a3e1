// Opens the sqlite store at `path` at the moment `startAt` (epoch ms), appends one entry, and prints "ok" or the error,
// so a test can make several processes open a new database file at the same instant.
// Usage: deno run -A open_race_worker.ts <path> <startAt>
import { SqliteStore } from "../sqlite_store.ts";

const [path, startAt] = Deno.args;
// Sleep until just before the moment, then spin: timers alone spread the processes too far apart to collide.
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now() - 20)));
while (Date.now() < Number(startAt)) {
  // spin
}
try {
  const store = new SqliteStore({ path });
  await store.append({ agent: "a", instanceId: "i", session: "s" }, [
    {
      message: { role: "user", content: "x" },
      source: "prompt",
      operationId: "o",
      timestamp: new Date().toISOString(),
    },
  ]);
  await store.close();
  console.log("ok");
} catch (error) {
  console.log(`failed: ${(error as Error).message}`);
}
