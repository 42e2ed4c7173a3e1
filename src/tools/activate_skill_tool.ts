/**
 * The `activate_skill` tool: the model loads a skill's instructions by name. It is offered only when the agent has
 * skills; the system prompt lists them with their descriptions.
 *
 * @module
 */

import { z } from "zod";
import { defineTool, type FlueTool } from "./tool.ts";

/** What the tool needs of a skill. */
export interface ActivatableSkill {
  /** The skill's name. */
  readonly name: string;
  /** What it does. */
  readonly description: string;
  /** Its instructions. */
  readonly instructions: string;
}

/** The input of the `activate_skill` tool. */
export interface ActivateSkillInput {
  /** The skill's name, as listed in the system prompt. */
  name: string;
}

/**
 * Creates the `activate_skill` tool over a fixed set of skills. An unknown name is a tool error that lists the
 * available skills, so the model can correct itself.
 *
 * @example Loading a skill's instructions
 * ```ts
 * import { createActivateSkillTool } from "./activate_skill_tool.ts";
 *
 * const tool = createActivateSkillTool([{ name: "triage", description: "Triage an issue", instructions: "Label it." }]);
 * const text = await tool.run({ name: "triage" }, { signal: new AbortController().signal, toolCallId: "1", emit() {} });
 * if (!String(text).includes("Label it.")) throw new Error("unexpected");
 * ```
 *
 * @param skills The skills the model may load; at least one.
 * @returns The tool.
 */
export function createActivateSkillTool(skills: readonly ActivatableSkill[]): FlueTool<ActivateSkillInput> {
  const byName = new Map(skills.map((skill) => [skill.name, skill]));
  const names = [...byName.keys()];
  return defineTool({
    name: "activate_skill",
    description: "Loads the instructions of a skill listed in the system prompt, so you can follow them. " +
      `Available skills: ${names.join(", ")}.`,
    input: z.object({ name: z.string().describe("The skill's name, as listed in the system prompt") }),
    run: ({ name }) => {
      const skill = byName.get(name);
      if (!skill) throw new Error(`No skill named "${name}": available skills are ${names.join(", ")}`);
      return `# Skill: ${skill.name}\n\n${skill.instructions}`;
    },
  });
}
