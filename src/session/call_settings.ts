/**
 * Which role, model and reasoning effort one call runs with. The narrower the scope that sets a value, the more
 * specific the intent, so it wins: the call, then the role (the call's, else the session's), then the agent (for a
 * task's session: its subagent profile, else the calling session's agent).
 *
 * @module
 */

import type { ChatModel, ThinkingLevel } from "../model/chat_model.ts";
import type { Role, RoleCatalog } from "../project/roles.ts";

/** What a call's settings are chosen from. */
export interface CallSettingsSources {
  /** The call's options. */
  call: { role?: string; model?: string | ChatModel; thinkingLevel?: ThinkingLevel };
  /** The session's role, if it has one. */
  sessionRole?: string;
  /** The agent's (or subagent profile's) model and reasoning effort. */
  agent: { model: ChatModel; thinkingLevel?: ThinkingLevel };
  /** The roles the agent knows. */
  roles?: RoleCatalog;
  /** Turns a model string into a model. */
  resolveModel(spec: string | ChatModel): ChatModel;
}

/** The settings a call runs with. */
export interface CallSettings {
  /** The role, if any. */
  role?: Role;
  /** The model. */
  model: ChatModel;
  /** The reasoning effort, if any. */
  thinkingLevel?: ThinkingLevel;
}

/**
 * Chooses a call's role, model and reasoning effort.
 *
 * | setting         | 1st                  | 2nd                                          | 3rd                   |
 * | --------------- | -------------------- | -------------------------------------------- | --------------------- |
 * | role            | call `role`          | session role                                 | none                  |
 * | model           | call `model`         | role `model`                                 | agent `model`         |
 * | `thinkingLevel` | call `thinkingLevel` | role `thinkingLevel`                         | agent `thinkingLevel` |
 *
 * @param sources The call's options, the session's role, the agent's settings and the known roles.
 * @returns The settings.
 * @throws {TypeError} When the role is unknown; the message lists the known roles.
 */
export function resolveCallSettings(sources: CallSettingsSources): CallSettings {
  const roleName = sources.call.role ?? sources.sessionRole;
  const role = roleName === undefined ? undefined : requireRole(sources.roles, roleName);
  const model = sources.call.model !== undefined
    ? sources.resolveModel(sources.call.model)
    : (role && sources.roles?.modelOf(role, sources.resolveModel)) ?? sources.agent.model;
  const thinkingLevel = sources.call.thinkingLevel ?? role?.thinkingLevel ?? sources.agent.thinkingLevel;
  return { role, model, thinkingLevel };
}

/**
 * Looks a role up, also when the agent has none.
 *
 * @param roles The agent's roles.
 * @param name The role's name.
 * @returns The role.
 * @throws {TypeError} When it is unknown.
 */
export function requireRole(roles: RoleCatalog | undefined, name: string): Role {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`Invalid role ${JSON.stringify(name)}: pass the name of a role`);
  }
  if (!roles) {
    throw new TypeError(`Unknown role ${JSON.stringify(name)}: the agent has no roles; add .agents/roles/${name}.md`);
  }
  return roles.get(name);
}

/**
 * Checks the role `agent.session(name, { role })` asks for: it must exist, and a session already open keeps the role
 * it was opened with.
 *
 * @param roles The agent's roles.
 * @param session The session's name.
 * @param requested The role asked for, if any.
 * @param open The open session's role, when the session is already open.
 * @throws {TypeError} When the role is unknown, or differs from the open session's.
 */
export function checkSessionRole(
  roles: RoleCatalog | undefined,
  session: string,
  requested: string | undefined,
  open: { role: string | undefined } | undefined,
): void {
  if (requested === undefined) return;
  requireRole(roles, requested);
  if (open && open.role !== requested) {
    throw new TypeError(
      `Session ${JSON.stringify(session)} is already open ${
        open.role === undefined ? "without a role" : `with role ${JSON.stringify(open.role)}`
      }: pass { role: ${JSON.stringify(requested)} } per call instead, or use another session name`,
    );
  }
}
