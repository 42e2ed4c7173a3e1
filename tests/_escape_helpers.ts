/**
 * Shared setup of the sandbox escape suite: a project directory with a marker file beside it (outside every
 * workspace), agents built through the public API, and a scripted hostile model.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Agent, type AgentOptions, init, type Message, SandboxUnavailableError } from "../mod.ts";
import { TestModel, type TestToolCall } from "../testing.ts";
import { isBubblewrapAvailable } from "../src/sandbox/commands/run_command.ts";

/** Whether commands can run confined here; without bubblewrap the suite proves the refusal instead. */
export const isConfined: boolean = await isBubblewrapAvailable();

/** What the marker file outside the workspace holds; an escape that reads or changes it is caught by this. */
export const MARKER_TEXT = "marker outside every workspace\n";

/** What a project file outside a virtual workspace holds; it must never reach the model or a command's output. */
export const PROJECT_ONLY_TEXT = "PROJECT-ONLY-CONTENT-7f3a\n";

/** A temporary layout: `<root>/project` (the project) and `<root>/outside/marker.txt` (outside it). */
export interface EscapeProject {
  /** The temporary root holding both. */
  root: string;
  /** The project directory, real path. */
  projectDir: string;
  /** A directory beside the project. */
  outsideDir: string;
  /** The marker file in `outsideDir`. */
  markerPath: string;
  /** Builds an agent on this project with the memory store; it is closed when the test ends. */
  open(options?: Partial<AgentOptions>): Promise<Agent>;
  /** Asserts that nothing outside the project changed: the outside directory holds only the unchanged marker. */
  assertOutsideUnchanged(): Promise<void>;
}

/**
 * Runs a test in a fresh temporary layout and removes it afterwards, closing every agent opened on it.
 *
 * @param test The test body.
 * @returns Resolves when the test and the clean-up are done.
 */
export async function withProject(test: (project: EscapeProject) => Promise<void>): Promise<void> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue-escape-" }));
  const projectDir = `${root}/project`;
  const outsideDir = `${root}/outside`;
  const markerPath = `${outsideDir}/marker.txt`;
  await Deno.mkdir(projectDir);
  await Deno.mkdir(outsideDir);
  await Deno.writeTextFile(markerPath, MARKER_TEXT);
  await Deno.writeTextFile(`${projectDir}/project-only.txt`, PROJECT_ONLY_TEXT);
  const agents: Agent[] = [];
  try {
    await test({
      root,
      projectDir,
      outsideDir,
      markerPath,
      async open(options = {}) {
        const agent = await init({ model: "test", store: "memory", projectDir, ...options });
        agents.push(agent);
        return agent;
      },
      async assertOutsideUnchanged() {
        const names = (await Array.fromAsync(Deno.readDir(outsideDir))).map((entry) => entry.name);
        assert.deepEqual(names, ["marker.txt"], "something was created outside the project");
        assert.equal(await Deno.readTextFile(markerPath), MARKER_TEXT, "the marker outside was changed");
      },
    });
  } finally {
    await Promise.all(agents.map((agent) => agent.close()));
    await Deno.remove(root, { recursive: true });
  }
}

/**
 * A test whose attempt needs bubblewrap. Where bubblewrap is missing it proves that commands are refused with
 * `SandboxUnavailableError` instead of running unconfined, and says which of the two it tested.
 *
 * @param name The test's name.
 * @param run The attempt, given a fresh project.
 */
export function confinedTest(name: string, run: (project: EscapeProject) => Promise<void>): void {
  Deno.test(name, async () => {
    await withProject(async (project) => {
      if (!isConfined) {
        const agent = await project.open({ allowShell: true, allowedCommands: ["pwd"] });
        const session = await agent.session();
        await assert.rejects(session.shell("pwd"), SandboxUnavailableError);
        console.log("bubblewrap: refusal tested");
        return;
      }
      await run(project);
      console.log("bubblewrap: confined path tested");
    });
  });
}

/** What a scripted hostile model saw after its tool calls, and how the run ended. */
export interface HostileRun {
  /** The final answer the run reached. */
  text: string;
  /** The tool results the model received, in call order. */
  results: Extract<Message, { role: "tool" }>[];
  /** The model, with every request it received. */
  model: TestModel;
}

/**
 * Opens an agent whose model makes the given tool calls in one turn and then answers "finished", and runs one prompt.
 *
 * @param project The project to open the agent on.
 * @param options Agent options (policy, sandbox, env ...).
 * @param toolCalls The calls the hostile model makes.
 * @param secrets Secrets granted to the prompt.
 * @returns What the model saw and the final answer.
 */
export async function runHostileModel(
  project: EscapeProject,
  options: Partial<AgentOptions>,
  toolCalls: TestToolCall[],
  secrets?: string[],
): Promise<HostileRun> {
  const model = new TestModel({ script: [{ toolCalls }, "finished"] });
  const agent = await project.open({ ...options, model });
  const session = await agent.session();
  const response = await session.prompt("Do the task", { secrets });
  const last = model.calls.at(-1)!;
  const results = last.messages.filter((message): message is Extract<Message, { role: "tool" }> =>
    message.role === "tool"
  );
  assert.equal(results.length, toolCalls.length, "every tool call was answered");
  return { text: response.text, results, model };
}
