/**
 * The example's key-less model: a deterministic stand-in for an LLM that triages issues the way the project's text
 * tells it to. It knows which skill, role or subagent task a call serves from `request.operation`, reads the rules of
 * AGENTS.md from the system prompt and the skill's instructions from the message (or from `activate_skill`), and learns
 * about the workspace only through real tool calls (`grep`, `glob`, `read`, `write`) that run in the sandbox. Edit
 * AGENTS.md and its answers change.
 *
 * Swap it for a real model (`model: "openai:gpt-5.5"` in the agent, or `flue run triage --model ...`) and the
 * workflow, skills and role stay the same.
 *
 * @module
 */

import type { ModelRequest } from "flue";
import { FunctionModel, type FunctionModelReply } from "flue/testing";
import {
  codeNames,
  currentTurn,
  firstMatch,
  lastJsonBlock,
  rulesUnder,
  significantWords,
  similarity,
  type ToolResult,
  withoutLineNumbers,
} from "./_triage_text.ts";

/**
 * Creates the triage model. One per agent instance: a `FunctionModel` keeps every request it answers.
 *
 * @returns The model.
 */
export function createTriageModel(): FunctionModel {
  return new FunctionModel(reply, { id: "triage-planner" });
}

function reply(request: ModelRequest): FunctionModelReply {
  const first = request.messages[0];
  const system = first?.role === "system" ? first.content : "";
  const { prompt, results } = currentTurn(request.messages);
  // `request.operation` says which operation the call serves: the skill, the role, or the subagent's task.
  const operation = request.operation;
  if (operation?.skill === "classify-issue") return classify(system, prompt, results);
  if (operation?.role === "maintainer") return writeReport(prompt, results);
  if (operation?.taskId !== undefined) return findDuplicates(prompt, results);
  return "I triage notekeeper issues. Run the triage workflow: flue run triage --payload @payloads/crash.json";
}

/** The classify-issue skill: rules from AGENTS.md, the component from a `grep` for the code the issue names. */
function classify(system: string, prompt: string, results: ToolResult[]): FunctionModelReply {
  const issue = lastJsonBlock(prompt) as { title: string; body: string };
  const names = codeNames(`${issue.title}\n${issue.body}`);
  const search = results.find((result) => result.name === "grep");
  if (names.length > 0 && !search) {
    return {
      text: `Looking for where ${names.join(", ")} ${names.length === 1 ? "is" : "are"} defined.`,
      toolCalls: [{
        name: "grep",
        args: { pattern: `(function|class|interface) (${names.join("|")})\\b`, path: "src" },
      }],
    };
  }
  const labelRules = rulesUnder(system, "Labels");
  const type = firstMatch(labelRules, issue.title) ?? firstMatch(labelRules, issue.body);
  const label = type?.rule.name ?? "question";
  const labels = [label];
  const hasReproduction = /steps to reproduce/i.test(issue.body) || /`[^`]+`/.test(issue.body);
  if (label === "bug" && !hasReproduction) labels.push("needs-repro");
  const severityMatch = label === "bug"
    ? firstMatch(rulesUnder(system, "Severity"), `${issue.title}\n${issue.body}`)
    : undefined;
  const evidence = definitions(search?.isError ? "" : search?.content ?? "");
  const component = evidence[0]?.match(/^src\/([^/:]+)\//)?.[1] ?? "unknown";
  const rationale = [
    type ? `"${type.word}" makes it ${label === "enhancement" ? "an" : "a"} ${label}` : "no label rule matched",
    severityMatch ? `"${severityMatch.word}" makes it ${severityMatch.rule.name}` : "severity low",
    evidence.length ? `defined in ${evidence.join(", ")}` : "no code named in the issue was found",
  ].join("; ");
  return JSON.stringify({
    labels,
    severity: severityMatch?.rule.name ?? "low",
    component,
    evidence,
    rationale,
  });
}

/** `path:line` of each definition in `grep` output (`path:line:text` rows). */
function definitions(grepOutput: string): string[] {
  return grepOutput.split("\n").flatMap((row) => {
    const match = /^([^:]+):(\d+):/.exec(row);
    return match ? [`${match[1]}:${match[2]}`] : [];
  });
}

/** The duplicate-finder subagent: loads the find-duplicates skill, then follows it with `glob` and `read`. */
function findDuplicates(prompt: string, results: ToolResult[]): FunctionModelReply {
  const skill = results.find((result) => result.name === "activate_skill" && !result.isError);
  if (!skill) return { toolCalls: [{ name: "activate_skill", args: { name: "find-duplicates" } }] };
  const threshold = Number(/similarity score of (\d(?:\.\d+)?) or more/.exec(skill.content)?.[1]);
  if (!Number.isFinite(threshold)) throw new Error("The find-duplicates skill does not say which score is a duplicate");
  const listing = results.find((result) => result.name === "glob");
  if (!listing) return { toolCalls: [{ name: "glob", args: { pattern: "issues/*.md" } }] };
  const paths = listing.content.split("\n").filter((line) => line.endsWith(".md"));
  const reads = results.filter((result) => result.name === "read");
  if (reads.length === 0 && paths.length > 0) {
    return { toolCalls: paths.slice(0, 50).map((path) => ({ name: "read", args: { path } })) };
  }
  const issue = lastJsonBlock(prompt) as { title: string; body: string };
  const words = significantWords(`${issue.title}\n${issue.body}`);
  const duplicates = reads.filter((result) => !result.isError).flatMap((result) => {
    const text = withoutLineNumbers(result.content);
    const front = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
    if (!front) return [];
    const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(front[1])?.[1]?.trim() ?? "";
    const title = field("title");
    const score = similarity(words, significantWords(`${title}\n${front[2]}`));
    if (score < threshold) return [];
    const state = field("state") === "closed" ? "closed" : "open";
    return [{
      number: Number(field("number")),
      title,
      state,
      path: String(result.args.path),
      similarity: round(score),
    }];
  }).sort((a, b) => b.similarity - a.similarity);
  return JSON.stringify({ duplicates, searched: reads.length });
}

/** The maintainer role: writes the report file with `write`, then answers with the reply to the reporter. */
function writeReport(prompt: string, results: ToolResult[]): FunctionModelReply {
  const input = lastJsonBlock(prompt) as unknown as ReportInput;
  const written = results.find((result) => result.name === "write");
  if (!written) {
    return { toolCalls: [{ name: "write", args: { path: input.reportPath, content: report(input) } }] };
  }
  if (written.isError) throw new Error(`Could not write the report: ${written.content}`);
  const { classification, duplicates } = input;
  const sentences = [
    "Thank you for taking the time to report this.",
    `I labelled it ${
      classification.labels.map((label) => `\`${label}\``).join(", ")
    } with ${classification.severity} ` +
    `severity, in the \`${classification.component}\` component.`,
  ];
  if (duplicates[0]) {
    sentences.push(`It looks like a duplicate of #${duplicates[0].number}: let us follow it up there.`);
  }
  if (classification.labels.includes("needs-repro")) {
    sentences.push("Could you add the steps or the command that shows the problem?");
  }
  return JSON.stringify({ reportPath: input.reportPath, comment: sentences.join(" ") });
}

interface ReportInput {
  reportPath: string;
  issue: { title: string; body: string };
  classification: { labels: string[]; severity: string; component: string; evidence: string[]; rationale: string };
  duplicates: { number: number; title: string; state: string; similarity: number }[];
}

function report({ issue, classification, duplicates }: ReportInput): string {
  const next = duplicates[0]
    ? `close as a duplicate of #${duplicates[0].number}`
    : classification.labels.includes("needs-repro")
    ? "ask the reporter for a reproduction"
    : classification.labels.includes("bug")
    ? `fix in \`src/${classification.component}/\``
    : "plan it with the next release";
  return [
    `# Triage: ${issue.title}`,
    "",
    "| labels | severity | component |",
    "| --- | --- | --- |",
    `| ${classification.labels.join(", ")} | ${classification.severity} | ${classification.component} |`,
    "",
    `Why: ${classification.rationale}.`,
    "",
    "## Evidence",
    "",
    ...(classification.evidence.length ? classification.evidence.map((ref) => `- \`${ref}\``) : ["- none found"]),
    "",
    "## Duplicates",
    "",
    ...(duplicates.length
      ? duplicates.map((d) => `- #${d.number} ${d.title} (${d.state}, similarity ${d.similarity})`)
      : ["- none"]),
    "",
    `Next step: ${next}.`,
    "",
  ].join("\n");
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
