// The server/client example (`examples/server_client/`) run as a user runs it: `deno task start` in its directory.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./_cli_helpers.ts";

const EXAMPLE = join(ROOT, "examples", "server_client");

Deno.test("the server/client example runs key-less and every FlueClient check passes", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(join(EXAMPLE, "deno.json")));
  const args = (tasks.start as string).split(" ").slice(1);
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: EXAMPLE,
    env: { NO_COLOR: "1", OPENAI_API_KEY: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, `${stdout}\n${new TextDecoder().decode(output.stderr)}`);
  for (const check of ["health", "manifest", "prompt", "stream", "dispatch", "workflow"]) {
    assert.match(stdout, new RegExp(`^ok +${check}: `, "m"), check);
  }
  assert.match(stdout, /^ok +manifest: assistant, summarize$/m);
  assert.match(stdout, /^ok +dispatch: dispatch_\S+ done$/m);
  assert.match(stdout, /^all checks passed$/m);
  assert.doesNotMatch(stdout, /FAIL/);
});
