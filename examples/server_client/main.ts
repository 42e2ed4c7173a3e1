/**
 * Starts this project's server on a free loopback port and drives it with `FlueClient`: health, a prompt, a streamed
 * prompt, a durable dispatch and a workflow run. Key-less: the project's model is `test`. Run with `deno task start`.
 */
import { FlueClient, serve } from "flue";

const server = await serve({ dir: import.meta.dirname!, hostname: "127.0.0.1", port: 0, handleSignals: false });
const client = new FlueClient({ baseUrl: server.url });
const failures: string[] = [];
const check = (label: string, passed: boolean, shown: unknown) => {
  console.log(`${passed ? "ok  " : "FAIL"} ${label}: ${typeof shown === "string" ? shown : JSON.stringify(shown)}`);
  if (!passed) failures.push(label);
};

try {
  check("health", await client.health(), "up");
  const manifest = await client.manifest();
  const names = [...manifest.agents.map((agent) => agent.name), ...manifest.workflows.map((flow) => flow.name)];
  check("manifest", names.includes("assistant") && names.includes("summarize"), names.join(", "));

  const reply = await client.prompt("assistant", "demo", "Hello, who are you?");
  check("prompt", reply.text.length > 0, reply.text);

  let deltas = "";
  let finished = false;
  for await (const event of client.stream("assistant", "demo", "Tell me more")) {
    if (event.type === "text_delta") deltas += event.text;
    if (event.type === "operation") finished = true;
  }
  check("stream", finished && deltas.length > 0, `${deltas.length} characters streamed`);

  const receipt = await client.dispatch("assistant", "demo", "Remember this for later", { session: "inbox" });
  const dispatched = await client.waitForDispatch(receipt.dispatchId, { pollMs: 20 });
  check("dispatch", dispatched.status === "done", `${receipt.dispatchId} ${dispatched.status}`);

  const run = await client.runWorkflow("summarize", { text: "Flue runs agents on Deno with a server and a client" });
  const result = run.result as { summary?: unknown; words?: unknown };
  check("workflow", typeof result.summary === "string" && result.words === 11, result);
} finally {
  await server.shutdown();
}

if (failures.length > 0) {
  console.error(`${failures.length} check(s) failed: ${failures.join(", ")}`);
  Deno.exit(1);
}
console.log("all checks passed");
