/**
 * Where recording and replay hook into model resolution: `FLUE_RECORD=<file>` (or the `record` option) wraps each
 * model an agent resolves in a `RecordingModel`; `FLUE_REPLAY=<file>` replaces it with a `ReplayModel`, so a recorded
 * run is repeated key-less.
 *
 * @module
 */

import type { ChatModel } from "./chat_model.ts";
import { RecordingModel } from "./recording_model.ts";
import { ReplayCursor, ReplayModel } from "./replay_model.ts";

/** What {@linkcode withRecordReplay} needs. */
export interface RecordReplayOptions {
  /** The cassette to record to (the agent's `record` option); `FLUE_RECORD` when omitted. */
  record?: string;
  /** Secret values by name, removed from recordings. */
  secrets?: Record<string, string>;
  /** Reads an environment variable; the process environment by default (unreadable counts as unset). */
  readVariable?: (name: string) => string | undefined;
}

const cursors = new Map<string, ReplayCursor>();

/**
 * Wraps a model factory so its models record to, or replay from, a cassette as the options and environment say.
 * Every model replaying one file in a process shares one cursor, so an agent's role and task models take their
 * recorded exchanges from one sequence, as they were recorded into one file.
 *
 * @param create Makes the model for a spec (a model string or object).
 * @param options The `record` option, the secrets, and how to read variables.
 * @returns The wrapped factory.
 * @throws {TypeError} When both `FLUE_REPLAY` and a recording are asked for.
 */
export function withRecordReplay<Spec>(
  create: (spec: Spec) => ChatModel,
  options: RecordReplayOptions = {},
): (spec: Spec) => ChatModel {
  const read = options.readVariable ?? readProcessVariable;
  const replay = read("FLUE_REPLAY");
  const record = options.record ?? read("FLUE_RECORD");
  if (replay && record) {
    throw new TypeError(`Both a recording ("${record}") and FLUE_REPLAY ("${replay}") are set: choose one`);
  }
  if (replay) {
    let cursor = cursors.get(replay);
    if (!cursor) cursors.set(replay, cursor = new ReplayCursor(replay));
    const shared = cursor;
    return () => new ReplayModel(shared);
  }
  if (!record) return create;
  return (spec) => new RecordingModel(create(spec), { path: record, secrets: options.secrets });
}

function readProcessVariable(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}
