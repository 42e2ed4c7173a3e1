import assert from "node:assert/strict";
import { workflowEnvironment } from "./_workflow_env.ts";

Deno.test("workflowEnvironment() keeps keys and tokens and leaves out the system variables", () => {
  const env = workflowEnvironment({
    PATH: "/usr/bin",
    HOME: "/root",
    PWD: "/work",
    LC_ALL: "C.UTF-8",
    DENO_DIR: "/cache",
    OPENAI_API_KEY: "sk-test",
    GITHUB_TOKEN: "ghp_x",
  });
  assert.deepEqual(env, { OPENAI_API_KEY: "sk-test", GITHUB_TOKEN: "ghp_x" });
});
