/** The files `flue init` writes. */

import { SERVER_ENTRY_TS } from "../deploy/server_entry.ts";

/** The version of zod generated projects import (the one Flue itself is built on). */
export const ZOD_SPECIFIER = "npm:zod@4.6.7";

/**
 * npm packages whose install scripts Deno is told not to run, so a new project's first run prints no "Ignored build
 * scripts" warning: optional native compressors that the memory sandbox's shell (`npm:just-bash`) can load, which it
 * does without when absent. Deno never ran these scripts anyway; denying them only says so.
 */
export const DENIED_BUILD_SCRIPTS: string[] = ["npm:@mongodb-js/zstd", "npm:node-liblzma"];

/**
 * The `deno.json` entries of a generated project: imports, tasks, unstable features and the `flue` key. `flue init`
 * merges them into an existing configuration.
 *
 * @param version Flue's version; the project imports `jsr:@flue/cli@^<version>`.
 * @returns The entries.
 */
export function projectConfig(version: string): {
  imports: Record<string, string>;
  tasks: Record<string, string>;
  unstable: string[];
  allowScripts: { deny: string[] };
  flue: Record<string, unknown>;
} {
  const spec = `jsr:@flue/cli@^${version}`;
  const cli = "deno run -A jsr:@flue/cli/cli";
  return {
    imports: { flue: spec, "flue/testing": `${spec}/testing`, zod: ZOD_SPECIFIER },
    tasks: {
      dev: `${cli} dev`,
      run: `${cli} run`,
      flue: cli,
      test: "deno test -A",
      serve: "deno serve -A --host 127.0.0.1 --port 2024 server.ts",
    },
    // Deno KV (the kv store, which main.ts uses on Deno Deploy) is unstable in Deno 2.
    unstable: ["kv"],
    allowScripts: { deny: DENIED_BUILD_SCRIPTS },
    flue: { model: "test", sandbox: "virtual" },
  };
}

/**
 * The generated project's files other than `deno.json` and `.gitignore`, by relative path.
 *
 * @returns The files.
 */
export function projectFiles(): Record<string, string> {
  return {
    "AGENTS.md": AGENTS_MD,
    ".agents/skills/review-text/SKILL.md": REVIEW_TEXT_SKILL,
    "src/agents/assistant.ts": ASSISTANT_TS,
    "src/workflows/summarize.ts": SUMMARIZE_TS,
    "src/workflows/summarize_test.ts": SUMMARIZE_TEST_TS,
    "server.ts": SERVER_TS,
    "main.ts": SERVER_ENTRY_TS,
  };
}

const SERVER_TS =
  `// Serves this project's agents and workflows over HTTP: \`deno task serve\` (docs/server.md lists the routes).
// Beyond 127.0.0.1 every route but /health needs FLUE_API_TOKEN, sent as "Authorization: Bearer <token>";
// without one, only requests from this machine are answered. On Deno Deploy (platform "auto" sees DENO_DEPLOYMENT_ID)
// the store is Deno KV and the sandbox the in-memory one, as Deploy has no writable disk (docs/deploy.md).
import { createProjectApp } from "flue";

const app = await createProjectApp(import.meta.dirname!, { worker: true, platform: "auto" });

export default { fetch: app.fetch } satisfies Deno.ServeDefaultExport;
`;

const AGENTS_MD = `# Project instructions

Agents read this file before every prompt. Describe the project, its conventions, and what a good answer looks like.
`;

/**
 * The file `flue skill new` writes: front matter with the name and description, commented examples of the other
 * fields, and a body to fill in.
 *
 * @param name The skill's name.
 * @param description What it does and when to use it (one line).
 * @returns The file's text.
 */
export function skillTemplate(name: string, description: string): string {
  return `---
name: ${name}
description: ${JSON.stringify(description)}
# The arguments session.skill("${name}", { args }) takes, as JSON Schema; checked before the model is called.
# input_schema:
#   type: object
#   properties:
#     path: { type: string }
#   required: [path]
# The result, as JSON Schema; enforced like a typed prompt (re-prompted, then ResultValidationError).
# output_schema:
#   type: object
#   properties:
#     summary: { type: string }
#   required: [summary]
# The only tools a call of this skill sees; leave it out to keep every tool the agent has.
# allowed-tools: [read, grep, glob]
---
# ${name}

Write the steps the model should follow when it runs this skill: what to look at, what to do, and what a good
result looks like.
`;
}

const REVIEW_TEXT_SKILL = `---
name: review-text
description: Review a piece of writing for clarity and return the problems found
input_schema:
  type: object
  properties:
    text: { type: string, description: The text to review }
  required: [text]
output_schema:
  type: object
  properties:
    problems:
      type: array
      items: { type: string }
    verdict: { type: string, enum: [clear, unclear] }
  required: [problems, verdict]
allowed-tools: [read, grep]
---
# Review text

Read the text in the arguments. List each sentence that is hard to follow and say why, then give a verdict: "clear"
when nothing needs changing, "unclear" otherwise.
`;

const ASSISTANT_TS = `import { createAgent } from "flue";

// A persistent agent. The model comes from the "flue" key of deno.json ("test" runs key-less);
// set it there, or here with model: "openai:gpt-5.5".
export default createAgent(() => ({
  instructions: "You are a concise, helpful assistant.",
}));
`;

const SUMMARIZE_TS = `import { createAgent, type FlueContext } from "flue";
import { z } from "zod";

const summarizer = createAgent(() => ({ instructions: "You summarise text faithfully and briefly." }));

const Summary = z.object({
  summary: z.string().describe("One or two sentences"),
  keywords: z.array(z.string()).describe("Up to five keywords"),
});

/** The input, checked before the run starts: a bad payload exits 2 (HTTP 422) and nothing runs. */
export const payload = z.object({ text: z.string().min(1).describe("The text to summarise") });

/** Summarises \`payload.text\`: flue run summarize --payload '{"text":"..."}' */
export async function run(ctx: FlueContext<z.infer<typeof payload>>): Promise<z.infer<typeof Summary>> {
  const text = ctx.payload.text;
  const agent = await ctx.init(summarizer);
  const session = await agent.session();
  ctx.log.info("summarising", { characters: text.length });
  const response = await session.prompt(\`Summarise this text:\\n\\n\${text}\`, { result: Summary });
  return response.data;
}
`;

const SUMMARIZE_TEST_TS = `import assert from "node:assert/strict";
import { MemoryStore, runWorkflow } from "flue";
import * as summarize from "./summarize.ts";

Deno.test("summarize returns a summary and keywords", async () => {
  const store = new MemoryStore();
  const { result } = await runWorkflow(summarize, {
    name: "summarize",
    payload: { text: "Deno is a runtime for JavaScript and TypeScript." },
    store,
    defaults: { model: "test", sandbox: "memory" },
  });
  const summary = result as { summary: string; keywords: string[] };
  assert(typeof summary.summary === "string");
  assert(Array.isArray(summary.keywords));
});
`;
