import assert from "node:assert/strict";
import { join } from "node:path";
import { formatCliError, userFrame } from "./error_report.ts";
import { styles } from "./terminal.ts";

const style = styles(false);

Deno.test("formatCliError() prints the message, the user's frame and the causes, without class names", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-error-report-" });
  try {
    const path = join(dir, "workflow.ts");
    await Deno.writeTextFile(
      path,
      `export function run() {\n  throw new Error("database unreachable", { cause: new TypeError("connection refused") });\n}\n`,
    );
    const module = await import(`file://${path}`);
    let thrown: unknown;
    try {
      module.run();
    } catch (error) {
      thrown = error;
    }
    const text = formatCliError(thrown, { style, debug: false, cwd: dir });
    const lines = text.trimEnd().split("\n");
    assert.equal(lines[0], "error: database unreachable");
    assert.equal(lines[1], "    at workflow.ts:2:9");
    assert.equal(lines[2], "  caused by: connection refused");
    assert.doesNotMatch(text, /TypeError|Error:/);
    assert.match(text, /--debug or FLUE_DEBUG=1/);

    const debug = formatCliError(thrown, { style, debug: true, cwd: dir });
    assert.match(debug, /error: database unreachable\n\s+at (Module\.)?run \(file:\/\/.*workflow\.ts:2:9\)/);
    assert.match(debug, /caused by: connection refused\n\s+at /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("formatCliError() reports a module that does not parse as a syntax error, not a TypeError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flue-error-report-" });
  try {
    const path = join(dir, "broken.ts");
    await Deno.writeTextFile(path, "export function run() { return 1 +; }\n");
    const thrown = await import(`file://${path}`).then(() => undefined, (error) => error);
    const text = formatCliError(thrown, { style, debug: false, cwd: dir });
    assert.match(text, /^error: syntax error: Expression expected/);
    assert.doesNotMatch(text, /TypeError/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("userFrame() skips Flue's own frames and dependency caches", () => {
  const error = new Error("x");
  error.stack = [
    "Error: x",
    `    at a (${new URL("../agent/workflow.ts", import.meta.url).href}:10:5)`,
    "    at b (file:///root/.cache/deno/npm/registry.npmjs.org/zod/4.0.0/index.js:1:1)",
    "    at c (file:///home/me/project/src/workflows/triage.ts:42:7)",
  ].join("\n");
  assert.equal(userFrame(error, "/home/me/project"), "src/workflows/triage.ts:42:7");
  assert.equal(userFrame(error, "/elsewhere"), "/home/me/project/src/workflows/triage.ts:42:7");
  assert.equal(userFrame("not an error", "/"), undefined);
});
