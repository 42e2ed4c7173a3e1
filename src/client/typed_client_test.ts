import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startTestServer } from "../server/testdata/test_server.ts";
import { FlueClient } from "./flue_client.ts";
import * as summarize from "./testdata/summarize_workflow.ts";
import { use } from "./testdata/typed_client_usage.ts";

async function denoCheck(source: string): Promise<{ code: number; output: string }> {
  const dir = await Deno.makeTempDir({ dir: fileURLToPath(new URL("./testdata/", import.meta.url)) });
  try {
    const path = `${dir}/check.ts`;
    await Deno.writeTextFile(path, source);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code, output: new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("FlueClient typed by workflow modules: deno check accepts right payloads and rejects wrong ones", async () => {
  const usage = fileURLToPath(new URL("./testdata/typed_client_usage.ts", import.meta.url));
  const checked = await new Deno.Command(Deno.execPath(), { args: ["check", usage], stderr: "piped" }).output();
  assert.equal(checked.code, 0, new TextDecoder().decode(checked.stderr));

  // The types are not vacuous: using the result as the wrong type fails the check.
  const wrong = await denoCheck(`import { FlueClient } from "../../flue_client.ts";
import type * as summarize from "../summarize_workflow.ts";
const client = new FlueClient<{ summarize: typeof summarize }>({ baseUrl: "http://127.0.0.1:1" });
const { result } = await client.runWorkflow("summarize", { text: "a" });
export const words: string = result.words;
`);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.output, /Type 'number' is not assignable to type 'string'/);
});

Deno.test("FlueClient typed by workflow modules returns the workflow's result over HTTP", async () => {
  const server = startTestServer({ workflows: { summarize } });
  try {
    const client = new FlueClient<{ summarize: typeof summarize }>({ baseUrl: server.url });
    assert.match(await use(client), /^workflow:summarize:\S+ one two three 3$/);
  } finally {
    await server.close();
  }
});
