import assert from "node:assert/strict";
import { parse } from "jsonc-parser";
import { type ConfigAdditions, mergeDenoConfig } from "./_init_merge.ts";

const ADDITIONS: ConfigAdditions = {
  imports: { flue: "jsr:@flue/cli@^0.1.0", zod: "npm:zod@4.6.7" },
  tasks: { dev: "deno run -A jsr:@flue/cli/cli dev", test: "deno test -A" },
  unstable: ["kv"],
  allowScripts: { deny: ["npm:node-liblzma"] },
  links: ["../flue"],
  flue: { model: "test" },
};

function merge(text: string, force = false) {
  return mergeDenoConfig(text, ADDITIONS, { existing: parse(text) ?? {}, force });
}

Deno.test("mergeDenoConfig() keeps compatible entries: a test task, a zod 4 import, another Flue version, the flue key", () => {
  const text = JSON.stringify({
    imports: { zod: "npm:zod@^4.1.0", flue: "jsr:@flue/cli@^0.0.9" },
    tasks: { test: "deno test -A --parallel" },
    flue: { model: "openai:gpt-5.5" },
    unstable: ["kv", "cron"],
  });
  const result = merge(text);
  assert.deepEqual(result.conflicts, []);
  const merged = parse(result.text);
  assert.equal(merged.imports.zod, "npm:zod@^4.1.0");
  assert.equal(merged.imports.flue, "jsr:@flue/cli@^0.0.9");
  assert.equal(merged.tasks.test, "deno test -A --parallel");
  assert.equal(merged.tasks.dev, ADDITIONS.tasks.dev);
  assert.deepEqual(merged.flue, { model: "openai:gpt-5.5" });
  assert.deepEqual(merged.unstable, ["kv", "cron"]);
  assert.deepEqual(merged.links, ["../flue"]);
});

Deno.test("mergeDenoConfig() reports conflicts by name and changes them only with force", () => {
  const text = JSON.stringify({ imports: { zod: "npm:zod@3.25.0" }, tasks: { dev: "vite" } });
  const refused = merge(text);
  assert.deepEqual(refused.conflicts, ['imports."zod" ("npm:zod@3.25.0")', 'tasks."dev" ("vite")']);
  const forced = parse(merge(text, true).text);
  assert.equal(forced.imports.zod, "npm:zod@4.6.7");
  assert.equal(forced.tasks.dev, ADDITIONS.tasks.dev);
});

Deno.test("mergeDenoConfig() adds to allowScripts.deny but never denies what the project allows", () => {
  assert.deepEqual(parse(merge('{ "allowScripts": { "deny": ["npm:x"] } }').text).allowScripts, {
    deny: ["npm:x", "npm:node-liblzma"],
  });
  assert.deepEqual(parse(merge('{ "allowScripts": { "allow": ["npm:node-liblzma"] } }').text).allowScripts, {
    allow: ["npm:node-liblzma"],
  });
  assert.deepEqual(parse(merge('{ "allowScripts": ["npm:sharp"] }').text).allowScripts, ["npm:sharp"]);
});
