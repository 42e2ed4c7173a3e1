import assert from "node:assert/strict";
import { ROOT } from "./_cli_helpers.ts";

Deno.test("the demo runs key-less with the task's permissions and prints its typed result", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const args = (tasks.demo as string).split(" ").slice(1);
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", OPENAI_API_KEY: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.match(stdout, /→ glob/);
  assert.match(stdout, /→ grep/);
  assert.match(stdout, /→ estimate_effort/);
  assert.match(stdout, /ready: +no/);
  assert.match(stdout, /FIXME +src\/date_parser\.ts:4/);
  assert.match(stdout, /TODO +src\/http_client\.ts:2/);
  assert.match(stdout, /effort: +4\.5 h/);
  assert.ok(!stdout.includes("\x1b["), "NO_COLOR is respected");
});
