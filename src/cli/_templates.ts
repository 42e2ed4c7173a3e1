/** The files `flue init` writes, as functions of where `flue` is imported from. */

/** Where the generated project gets Flue from. */
export interface FlueSource {
  /** Import-map entries for `flue` and its dependencies. */
  imports: Record<string, string>;
  /** How the project's tasks start the CLI. */
  cli: string;
}

/**
 * The generated project's files, by relative path.
 *
 * @param source Where Flue comes from.
 * @returns The files.
 */
export function projectFiles(source: FlueSource): Record<string, string> {
  const denoJson = {
    imports: source.imports,
    tasks: {
      run: `deno run -A --config deno.json ${source.cli} run`,
      flue: `deno run -A --config deno.json ${source.cli}`,
      test: "deno test -A",
    },
    flue: { model: "test", sandbox: "virtual" },
  };
  return {
    "deno.json": `${JSON.stringify(denoJson, null, 2)}\n`,
    ".gitignore": ".flue/\n",
    "AGENTS.md": AGENTS_MD,
    "src/agents/assistant.ts": ASSISTANT_TS,
    "src/workflows/summarize.ts": SUMMARIZE_TS,
    "src/workflows/summarize_test.ts": SUMMARIZE_TEST_TS,
  };
}

const AGENTS_MD = `# Project instructions

Agents read this file before every prompt. Describe the project, its conventions, and what a good answer looks like.
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

/** Summarises \`payload.text\`: flue run summarize --payload '{"text":"..."}' */
export async function run(ctx: FlueContext<{ text?: string }>): Promise<z.infer<typeof Summary>> {
  const text = ctx.payload?.text;
  if (!text) throw new TypeError('payload.text is required: --payload \\'{"text":"..."}\\'');
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
