// Type-checked by typed_client_test.ts: each @ts-expect-error must be an error, and the rest must check.
import { FlueClient } from "../flue_client.ts";
import type * as summarize from "./summarize_workflow.ts";

type Client = FlueClient<{ summarize: typeof summarize }>;

export async function use(client: Client): Promise<string> {
  const { result, runId } = await client.runWorkflow("summarize", { text: "one two three" });
  const summary: string = result.summary;
  const words: number = result.words;
  await client.startWorkflow("summarize", { text: "hi", maxWords: 2 });
  return `${runId} ${summary} ${words}`;
}

// Never called: only its type errors matter.
export async function misuse(client: Client): Promise<void> {
  // @ts-expect-error the payload needs "text"
  await client.runWorkflow("summarize", { txt: "hi" });
  // @ts-expect-error no workflow of that name
  await client.runWorkflow("summarise", { text: "hi" });
  const { result } = await client.runWorkflow("summarize", { text: "hi" });
  // @ts-expect-error the result has no such field
  result.missing;
}
