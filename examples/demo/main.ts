/**
 * The Flue demo: a release-readiness check that runs key-less.
 *
 * An agent works in a private virtual workspace seeded from `examples/demo/workspace/`: file operations run in a Deno
 * subprocess limited by `--allow-read`/`--allow-write` to that workspace. It finds the source files and the changelog,
 * searches for open TODO/FIXME notes, estimates the effort with a custom tool, writes a report into its workspace, and
 * returns a typed result validated by a zod schema. History and events go to a sqlite store.
 *
 * The model is a `FunctionModel`: a small deterministic planner standing in for an LLM, deciding each step from the
 * tool results it receives. Swap `model` for `"openai:gpt-5.5"` and the same agent runs on a real model.
 *
 * Run: deno task demo
 */

import { fileURLToPath } from "node:url";
import { z } from "zod";
import { defineTool, type FlueEvent, init } from "../../mod.ts";
import { FunctionModel } from "../../testing.ts";
import type { Message, ModelRequest } from "../../mod.ts";

const color = Deno.env.get("NO_COLOR") === undefined && Deno.stdout.isTerminal();
const paint = (code: number) => (text: string) => color ? `\x1b[${code}m${text}\x1b[0m` : text;
const dim = paint(2);
const bold = paint(1);
const cyan = paint(36);
const green = paint(32);
const red = paint(31);

const Report = z.object({
  ready: z.boolean().describe("Whether the release can go out as it is"),
  changelogHasUnreleased: z.boolean(),
  openItems: z.array(
    z.object({ file: z.string(), line: z.number().int(), kind: z.enum(["TODO", "FIXME"]), text: z.string() }),
  ),
  effortHours: z.number().min(0),
  reportPath: z.string(),
});

const estimateEffort = defineTool({
  name: "estimate_effort",
  description: "Estimates hours of work for open TODO/FIXME items: FIXME 3 h, TODO 1.5 h",
  input: z.object({ items: z.array(z.object({ kind: z.enum(["TODO", "FIXME"]), text: z.string() })) }),
  run: ({ items }) => {
    const hours = items.reduce((sum, item) => sum + (item.kind === "FIXME" ? 3 : 1.5), 0);
    return JSON.stringify({ hours, items: items.length });
  },
});

/** A deterministic planner: each step reads the tool results so far, the way a model would. */
function planner(request: ModelRequest): string | { toolCalls: { name: string; args: Record<string, unknown> }[] } {
  const results = toolResults(request.messages);
  if (!results.has("glob")) {
    return {
      toolCalls: [{ name: "glob", args: { pattern: "src/**/*.ts" } }, { name: "read", args: { path: "CHANGELOG.md" } }],
    };
  }
  if (!results.has("grep")) return { toolCalls: [{ name: "grep", args: { pattern: "(TODO|FIXME):", path: "src" } }] };
  const items = parseGrep(results.get("grep")!);
  if (!results.has("estimate_effort")) {
    return {
      toolCalls: [{ name: "estimate_effort", args: { items: items.map(({ kind, text }) => ({ kind, text })) } }],
    };
  }
  const { hours } = JSON.parse(results.get("estimate_effort")!);
  const changelogHasUnreleased = /\t## Unreleased$/m.test(results.get("read") ?? "");
  const ready = items.every((item) => item.kind !== "FIXME") && changelogHasUnreleased;
  if (!results.has("write")) {
    const lines = items.map((item) => `- ${item.kind} ${item.file}:${item.line}: ${item.text}`);
    const content = `# Release check\n\nReady: ${ready ? "yes" : "no"}\nEffort: ${hours} h\n\n${lines.join("\n")}\n`;
    return { toolCalls: [{ name: "write", args: { path: "RELEASE_CHECK.md", content } }] };
  }
  return JSON.stringify({
    ready,
    changelogHasUnreleased,
    openItems: items,
    effortHours: hours,
    reportPath: "RELEASE_CHECK.md",
  });
}

function toolResults(messages: readonly Message[]): Map<string, string> {
  const results = new Map<string, string>();
  for (const message of messages) if (message.role === "tool") results.set(message.name, message.content);
  return results;
}

function parseGrep(output: string): { file: string; line: number; kind: "TODO" | "FIXME"; text: string }[] {
  return output.split("\n").flatMap((row) => {
    const match = /^(.+?):(\d+):.*\b(TODO|FIXME):\s*(.*)$/.exec(row);
    return match
      ? [{ file: match[1], line: Number(match[2]), kind: match[3] as "TODO" | "FIXME", text: match[4].trim() }]
      : [];
  });
}

function printEvent(event: FlueEvent): void {
  switch (event.type) {
    case "turn_start":
      console.log(dim(`── model turn (${event.model})`));
      break;
    case "tool_start":
      console.log(`  ${cyan("→")} ${bold(event.toolName)} ${dim(JSON.stringify(event.args).slice(0, 100))}`);
      break;
    case "tool_end": {
      const first = event.result.split("\n").slice(0, 3).join(" | ");
      const mark = event.isError ? red("✗") : green("✓");
      console.log(
        `  ${mark} ${event.toolName} ${dim(`${Math.round(event.durationMs)} ms`)} ${dim(first.slice(0, 110))}`,
      );
      break;
    }
    case "turn":
      console.log(dim(`   ${event.usage.totalTokens} tokens, stop: ${event.stopReason}`));
      break;
    case "error":
      console.log(red(`error: ${event.error.message}`));
      break;
  }
}

const projectDir = await Deno.makeTempDir({ prefix: "flue-demo-" });
const seed = fileURLToPath(new URL("./workspace", import.meta.url));
const agent = await init({
  name: "release-checker",
  model: new FunctionModel(planner, { id: "planner" }),
  instructions: "You check whether a project is ready to release.",
  sandbox: "virtual",
  seedFrom: seed,
  allowWrite: true,
  tools: [estimateEffort],
  projectDir,
  onEvent: printEvent,
});

try {
  console.log(bold("Flue demo: release-readiness check (key-less)\n"));
  const session = await agent.session("release-1.2");
  const response = await session.prompt("Is this project ready to release? Write a report.", { result: Report });
  const report = response.data;
  console.log(`\n${bold("Typed result")} ${dim("(validated by the zod schema)")}`);
  console.log(`  ready:           ${report.ready ? green("yes") : red("no")}`);
  console.log(
    `  changelog:       ${report.changelogHasUnreleased ? "has an Unreleased section" : "no Unreleased section"}`,
  );
  console.log(`  effort:          ${report.effortHours} h`);
  for (const item of report.openItems) console.log(`  ${item.kind.padEnd(5)}  ${item.file}:${item.line}  ${item.text}`);
  console.log(`\n${bold("Report written in the sandbox")} (${report.reportPath}):`);
  console.log(dim((await session.fs.readFile(report.reportPath)).trimEnd().replace(/^/gm, "  ")));
  const history = await session.history();
  console.log(
    `\n${response.usage.totalTokens} tokens over ${
      history.filter((entry) => entry.message.role === "assistant").length
    } turns; ` +
      `${history.length} history entries stored in sqlite; attempts: ${response.attempts}`,
  );
} finally {
  await agent.close();
  await Deno.remove(projectDir, { recursive: true });
}
