/**
 * Subagent profiles: the named kinds of child session a task can run, declared with the `subagents` agent option.
 *
 * @module
 */

import type { ChatModel, ThinkingLevel } from "../model/chat_model.ts";

/** A kind of subagent a task can run: its own instructions, model and tools, over the calling session's. */
export interface SubagentProfile {
  /** What the subagent is for; shown to the model when it chooses whom to delegate to. */
  description: string;
  /** The subagent's instructions, used instead of the caller's; the caller's when omitted. */
  instructions?: string;
  /** The subagent's model; the caller's when omitted. */
  model?: string | ChatModel;
  /** The subagent's reasoning effort; the caller's when omitted. */
  thinkingLevel?: ThinkingLevel;
  /** The role its session runs as, unless the task names one. */
  role?: string;
  /**
   * The names of the tools it may use (`read`, `bash`, a custom tool, `task`, ...). It only narrows what the caller
   * has: a tool the policy or the caller left out stays out. All of the caller's tools when omitted.
   */
  tools?: string[];
  /** The most model calls one of its tasks may make; the agent's `maxTurns` when omitted. */
  maxTurns?: number;
}

const PROFILE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const PROFILE_FIELDS = ["description", "instructions", "model", "thinkingLevel", "role", "tools", "maxTurns"];
const THINKING_LEVELS = ["off", "minimal", "low", "medium", "high", "xhigh"];

/**
 * Checks the `subagents` agent option.
 *
 * @param subagents The option's value.
 * @param toolNames Every tool name the agent could offer (built-in, custom and command tools).
 * @throws {TypeError} When a profile's name or a field is invalid; the message names the profile and the field.
 */
export function validateSubagents(subagents: unknown, toolNames: readonly string[]): void {
  if (subagents === undefined) return;
  if (subagents === null || typeof subagents !== "object" || Array.isArray(subagents)) {
    throw new TypeError(`Option "subagents" must map names to profiles, such as { reviewer: { description: "..." } }`);
  }
  for (const [name, profile] of Object.entries(subagents as Record<string, SubagentProfile>)) {
    const where = `Invalid subagent ${JSON.stringify(name)}`;
    if (!PROFILE_NAME.test(name)) throw new TypeError(`${where}: use a letter, then letters, digits, "_" or "-"`);
    if (profile === null || typeof profile !== "object") {
      throw new TypeError(`${where}: expected a profile such as { description: "Reviews code" }`);
    }
    const unknown = Object.keys(profile).find((key) => !PROFILE_FIELDS.includes(key));
    if (unknown) {
      throw new TypeError(`${where}: unknown field "${unknown}" (known fields are ${PROFILE_FIELDS.join(", ")})`);
    }
    if (typeof profile.description !== "string" || profile.description.trim() === "") {
      throw new TypeError(`${where}: field "description" must be non-empty text saying what the subagent is for`);
    }
    for (const field of ["instructions", "role"] as const) {
      if (profile[field] !== undefined && typeof profile[field] !== "string") {
        throw new TypeError(`${where}: field "${field}" must be text, got ${JSON.stringify(profile[field])}`);
      }
    }
    if (profile.model !== undefined && typeof profile.model !== "string" && typeof profile.model !== "object") {
      throw new TypeError(`${where}: field "model" must be a model string such as "openai:gpt-5.5", or a ChatModel`);
    }
    if (profile.thinkingLevel !== undefined && !THINKING_LEVELS.includes(profile.thinkingLevel)) {
      throw new TypeError(
        `${where}: field "thinkingLevel" must be one of ${THINKING_LEVELS.join(", ")}, got ` +
          JSON.stringify(profile.thinkingLevel),
      );
    }
    if (
      profile.maxTurns !== undefined &&
      (!Number.isInteger(profile.maxTurns) || profile.maxTurns < 1 || profile.maxTurns > 1000)
    ) {
      throw new TypeError(`${where}: field "maxTurns" must be a whole number from 1 to 1000`);
    }
    if (profile.tools !== undefined) {
      if (!Array.isArray(profile.tools) || profile.tools.some((tool) => typeof tool !== "string")) {
        throw new TypeError(`${where}: field "tools" must be a list of tool names, such as ["read", "grep"]`);
      }
      const missing = profile.tools.find((tool) => !toolNames.includes(tool));
      if (missing !== undefined) {
        throw new TypeError(
          `${where}: field "tools" names the unknown tool ${JSON.stringify(missing)}; known tools are ` +
            toolNames.join(", "),
        );
      }
    }
  }
}

/**
 * Looks a profile up.
 *
 * @param subagents The agent's profiles.
 * @param name The profile's name.
 * @returns The profile.
 * @throws {TypeError} When there is no such profile; the message lists the known ones.
 */
export function findSubagent(subagents: Readonly<Record<string, SubagentProfile>>, name: string): SubagentProfile {
  if (Object.hasOwn(subagents, name)) return subagents[name];
  const known = Object.keys(subagents).sort();
  throw new TypeError(
    known.length
      ? `Unknown subagent ${JSON.stringify(name)}: known subagents are ${known.join(", ")}`
      : `Unknown subagent ${JSON.stringify(name)}: the agent declares none; add it to the "subagents" option`,
  );
}
