/**
 * The issue-triage example (`examples/triage/`) run through the CLI as a user runs it: `deno task triage` is
 * `deno run -A --config deno.json ../../cli.ts run triage`, from the example's directory. State goes to a temporary
 * directory (`FLUE_STATE_DIR`), so the checkout stays clean; the run's events are read back with `flue logs --json`
 * and the sessions' histories from that sqlite store.
 */

import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { type FlueEvent, type HistoryEntry, SqliteStore } from "../mod.ts";
import { type CliRun, ROOT, runCli } from "./_cli_helpers.ts";

const EXAMPLE = join(ROOT, "examples", "triage");

interface TriageResult {
  title: string;
  labels: string[];
  severity: string;
  component: string;
  evidence: string[];
  duplicateOf: number | null;
  duplicates: { number: number; title: string; state: string; path: string; similarity: number }[];
  searchedIssues: number;
  comment: string;
  reportPath: string;
  session: string;
  subagentSession: string;
}

interface TriageRun {
  runId: string;
  result: TriageResult;
  events: FlueEvent[];
  history(session: string): Promise<HistoryEntry[]>;
  report: string;
}

/** The state (sqlite store, sandboxes) goes to a temporary directory; no key is needed. */
function environment(stateDir: string): Record<string, string> {
  return { FLUE_STATE_DIR: stateDir, OPENAI_API_KEY: "" };
}

/** `deno task triage ...` from the example's directory. */
async function triage(stateDir: string, args: string[]): Promise<CliRun> {
  return await runCli(["run", "triage", ...args], { cwd: EXAMPLE, config: "deno.json", env: environment(stateDir) });
}

/** Runs the workflow on a payload file and opens what it recorded. */
async function withTriage(
  payload: string,
  extraArgs: string[],
  body: (run: TriageRun) => void | Promise<void>,
): Promise<void> {
  const stateDir = await Deno.makeTempDir({ prefix: "flue-triage-" });
  try {
    const cli = await triage(stateDir, ["--payload", `@payloads/${payload}`, "--json", ...extraArgs]);
    assert.equal(cli.code, 0, cli.stderr);
    const { runId, result } = JSON.parse(cli.stdout) as { runId: string; result: TriageResult };
    // The run's events as `flue logs` prints them, one JSON object a line.
    const logs = await runCli(["logs", runId, "--json"], {
      cwd: EXAMPLE,
      config: "deno.json",
      env: environment(stateDir),
    });
    assert.equal(logs.code, 0, logs.stderr);
    const events = logs.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as FlueEvent);
    // Session histories are not in the run log: read them from the store the run used.
    const store = new SqliteStore({ path: join(stateDir, "flue.db") });
    try {
      const key = (session: string) => ({ agent: "triager", instanceId: "default", session });
      const workspace = join(stateDir, "sandboxes", "triager", "default", result.session);
      await body({
        runId,
        result,
        events,
        history: (session) => store.load(key(session)),
        report: await Deno.readTextFile(join(workspace, result.reportPath)),
      });
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
}

function toolCalls(events: FlueEvent[], taskId?: string): string[] {
  return events.flatMap((event) => event.type === "tool_start" && event.taskId === taskId ? [event.toolName] : []);
}

Deno.test("triage example: a crash report is a high-severity bug in the parser and a duplicate of #12", async () => {
  await withTriage("crash.json", [], async ({ result, events, history, report }) => {
    assert.deepEqual(result.labels, ["bug", "duplicate"]);
    assert.equal(result.severity, "high");
    assert.equal(result.component, "parser");
    assert.deepEqual(result.evidence, ["src/parser/date_parser.ts:2"]);
    assert.equal(result.duplicateOf, 12);
    assert.equal(result.duplicates[0].path, "issues/12-parsedate-throws-on-empty-due-date.md");
    assert.equal(result.searchedIssues, 5);
    assert.match(result.comment, /duplicate of #12/);

    // The maintainer role wrote the report into the session's virtual workspace.
    assert.equal(result.reportPath, "triage/app-crashes-when-parsedate-gets-an-empty-due-date.md");
    assert.match(report, /^# Triage: App crashes when parseDate gets an empty due date$/m);
    assert.match(report, /\| bug, duplicate \| high \| parser \|/);
    assert.match(report, /- #12 parseDate throws on an empty due date \(open, similarity 0\.\d+\)/);
    assert.match(report, /Next step: close as a duplicate of #12\./);

    // The skill ran as a `skill` operation, searching the code with grep.
    const operations = events.flatMap((event) =>
      event.type === "operation_start" && event.taskId === undefined ? [event.operationKind] : []
    );
    assert.deepEqual(operations, ["skill", "task", "prompt"]);
    assert.deepEqual(toolCalls(events), ["grep", "write"]);

    // The task ran the duplicate-finder subagent in a child session, which loaded its skill and read the issues.
    const start = events.find((event) => event.type === "task_start");
    assert.ok(start?.type === "task_start");
    assert.equal(start.subagent, "duplicate-finder");
    assert.equal(start.depth, 1);
    assert.equal(start.childSession, result.subagentSession);
    const end = events.find((event) => event.type === "task_end" && event.taskId === start.taskId);
    assert.ok(end?.type === "task_end" && !end.isError);
    const childTools = toolCalls(events, start.taskId);
    assert.deepEqual(childTools.slice(0, 2), ["activate_skill", "glob"]);
    assert.deepEqual(childTools.slice(2), Array(5).fill("read"));
    assert.ok(events.every((event) => event.type !== "error"));

    // Each session has its own history: the child's holds its tool calls, the caller's only its own.
    const child = await history(result.subagentSession);
    assert.match(child[0].message.content, /^Find existing issues in issues\//);
    assert.ok(child.some((entry) => entry.message.role === "tool" && entry.message.name === "activate_skill"));
    const caller = await history(result.session);
    assert.deepEqual(caller.map((entry) => entry.source).filter((s, i, all) => all.indexOf(s) === i), [
      "skill",
      "prompt",
    ]);
    assert.ok(!caller.some((entry) => entry.message.role === "tool" && entry.message.name === "activate_skill"));
  });
});

Deno.test("triage example: a feature request is a low-severity enhancement of the export component", async () => {
  await withTriage("feature.json", [], ({ result, events, report }) => {
    assert.deepEqual(result.labels, ["enhancement"]);
    assert.equal(result.severity, "low");
    assert.equal(result.component, "export");
    assert.deepEqual(result.evidence, ["src/export/csv_export.ts:4"]);
    assert.equal(result.duplicateOf, null);
    assert.deepEqual(result.duplicates, []);
    assert.doesNotMatch(result.comment, /duplicate/);
    assert.match(report, /\| enhancement \| low \| export \|/);
    assert.match(report, /Next step: plan it with the next release\./);
    assert.ok(events.some((event) => event.type === "task_end" && !event.isError));
  });
});

Deno.test("triage example: --model test replaces the pinned model in the agent and its subagent", async () => {
  await withTriage("crash.json", ["--model", "test"], ({ result, events }) => {
    // The unscripted test model calls the tools the prompts name and answers with schema-valid placeholders.
    const models = new Set(events.flatMap((event) => event.type === "turn_start" ? [event.model] : []));
    assert.deepEqual([...models], ["test"]);
    assert.ok(events.some((event) => event.type === "turn_start" && event.taskId !== undefined));
    assert.ok(result.labels.length > 0);
    assert.equal(result.reportPath, "triage/app-crashes-when-parsedate-gets-an-empty-due-date.md");
  });
});

Deno.test("triage example: the severity rules come from AGENTS.md, so editing it changes the triage", async () => {
  // A copy of the example outside the checkout, mapping "flue" to the checkout's files by absolute path.
  const project = await Deno.makeTempDir({ prefix: "flue-triage-project-" });
  try {
    await cp(EXAMPLE, project, { recursive: true, filter: (source) => !source.includes(`${EXAMPLE}/.flue`) });
    const config = JSON.parse(await Deno.readTextFile(join(project, "deno.json")));
    config.imports.flue = join(ROOT, "mod.ts");
    config.imports["flue/testing"] = join(ROOT, "testing.ts");
    await Deno.writeTextFile(join(project, "deno.json"), JSON.stringify(config));
    const agents = await Deno.readTextFile(join(project, "AGENTS.md"));
    const stricter = agents.replace("- `critical`: data loss", "- `critical`: crashes, data loss");
    assert.notEqual(stricter, agents);
    await Deno.writeTextFile(join(project, "AGENTS.md"), stricter);

    const cli = await runCli(["run", "triage", "--payload", "@payloads/crash.json", "--json"], {
      cwd: project,
      config: "deno.json",
      env: environment(join(project, ".flue")),
    });
    assert.equal(cli.code, 0, cli.stderr);
    const { result } = JSON.parse(cli.stdout) as { result: TriageResult };
    assert.equal(result.severity, "critical");
    assert.deepEqual(result.labels, ["bug", "duplicate"]);
  } finally {
    await Deno.remove(project, { recursive: true });
  }
});

Deno.test("triage example: a payload without a title is refused before any model call", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "flue-triage-" });
  try {
    const cli = await triage(stateDir, ["--payload", '{"body":"no title"}']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /Invalid payload \{"body":"no title"\}: pass an issue as \{"title": "\.\.\.", "body"/);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
