import type { FlueContext } from "flue";
import { z } from "zod";
import triager from "../agents/triager.ts";

/** The new issue: flue run triage --payload '{"title":"...","body":"..."}' */
const Issue = z.object({ title: z.string().trim().min(1), body: z.string() });

/** What the classify-issue skill returns (its output_schema, typed for this program). */
const Classification = z.object({
  labels: z.array(z.enum(["bug", "enhancement", "documentation", "question", "needs-repro"])).min(1),
  severity: z.enum(["critical", "high", "medium", "low"]),
  component: z.string().min(1),
  evidence: z.array(z.string()),
  rationale: z.string(),
});

/** What the duplicate-finder subagent returns (the find-duplicates skill's output_schema). */
const DuplicateSearch = z.object({
  duplicates: z.array(z.object({
    number: z.number().int().positive(),
    title: z.string(),
    state: z.enum(["open", "closed"]),
    path: z.string(),
    similarity: z.number().min(0).max(1),
  })),
  searched: z.number().int().min(0),
});

/** What the maintainer answers after writing the report. */
const MaintainerReply = z.object({
  reportPath: z.string().describe("Where the report was written"),
  comment: z.string().min(1).describe("The reply to post on the issue"),
});

/** The workflow's result. */
const TriageResult = z.object({
  title: z.string(),
  labels: z.array(z.string()).min(1),
  severity: Classification.shape.severity,
  component: z.string(),
  evidence: z.array(z.string()),
  duplicateOf: z.number().int().nullable(),
  duplicates: DuplicateSearch.shape.duplicates,
  searchedIssues: z.number().int(),
  comment: z.string(),
  reportPath: z.string(),
  session: z.string(),
  subagentSession: z.string(),
});

/** The typed result of `flue run triage`. */
export type TriageResult = z.infer<typeof TriageResult>;

/**
 * Triages one issue: classifies it with a skill, has a subagent look for duplicates, and has the maintainer role write
 * the report into the workspace and draft the reply.
 */
export async function run(ctx: FlueContext<unknown>): Promise<TriageResult> {
  const parsed = Issue.safeParse(ctx.payload);
  if (!parsed.success) {
    throw new TypeError(
      `Invalid payload ${JSON.stringify(ctx.payload) ?? "(none)"}: pass an issue as {"title": "...", "body": "..."}, ` +
        "such as --payload @payloads/crash.json",
    );
  }
  const issue = parsed.data;
  const slug = slugOf(issue.title);
  const agent = await ctx.init(triager);
  // One session per issue: triaging the same issue again continues its history and its workspace.
  const session = await agent.session(slug);

  const classification = (await session.skill("classify-issue", { args: issue, result: Classification })).data;
  ctx.log.info("classified", { labels: classification.labels, severity: classification.severity });

  const search = await session.task(
    "Find existing issues in issues/ that report the same problem as this new issue. Answer with the duplicates " +
      `you found (none is a good answer).\n\n\`\`\`json\n${JSON.stringify(issue, null, 2)}\n\`\`\``,
    { agent: "duplicate-finder", result: DuplicateSearch },
  );
  const { duplicates, searched } = search.data;
  ctx.log.info("searched for duplicates", { searched, found: duplicates.length, subagentSession: search.session });

  // AGENTS.md: a found duplicate adds the `duplicate` label; the report and the reply show the final labels.
  const labels = duplicates.length ? [...classification.labels, "duplicate"] : classification.labels;
  const reportPath = `triage/${slug}.md`;
  // A report from an earlier triage of this issue must not pass for this one's.
  if (await session.fs.exists(reportPath)) await session.fs.remove(reportPath);
  const reply = await session.prompt(
    `Write the triage report of this issue to "${reportPath}" with the write tool, then give the reply to post on ` +
      `the issue.\n\n\`\`\`json\n${
        JSON.stringify({ reportPath, issue, classification: { ...classification, labels }, duplicates }, null, 2)
      }\n\`\`\``,
    { role: "maintainer", result: MaintainerReply },
  );
  // Trust the file, not the model's word: the report must be where AGENTS.md says.
  if (!(await session.fs.exists(reportPath))) {
    throw new Error(
      `The maintainer did not write the report to "${reportPath}" (it answered "${reply.data.reportPath}")`,
    );
  }

  return TriageResult.parse({
    title: issue.title,
    labels,
    severity: classification.severity,
    component: classification.component,
    evidence: classification.evidence,
    duplicateOf: duplicates[0]?.number ?? null,
    duplicates,
    searchedIssues: searched,
    comment: reply.data.comment,
    reportPath,
    session: session.name,
    subagentSession: search.session,
  });
}

/** The issue title in lower case, words joined by "-" (AGENTS.md, "Reports"). */
function slugOf(title: string): string {
  const slug = title.toLowerCase().match(/[\p{L}\p{N}]+/gu)?.join("-").slice(0, 60).replace(/-+$/, "");
  return slug || "issue";
}
