// Runs a workflow in its own process on a shared sqlite file: prints the run id once the run is recorded, then waits
// for a line on stdin before it finishes. Usage: deno run -A other_process_run.ts <db path>
import { runWorkflow } from "../../agent/workflow.ts";
import { SqliteStore } from "../../store/sqlite_store.ts";

const store = new SqliteStore({ path: Deno.args[0] });
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
let announced = false;
await runWorkflow({
  async run(ctx) {
    ctx.log.info("waiting for go");
    await lines.read();
    ctx.log.info("going");
    return { from: "other process" };
  },
}, {
  name: "remote",
  store,
  onEvent(event) {
    if (!announced && event.runId) {
      announced = true;
      console.log(event.runId);
    }
  },
});
await store.close();
