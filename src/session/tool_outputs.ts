/**
 * The whole text of tool results that were cut for the model's context. Each is stored in the session's history as an
 * entry of source `output` (written with the turn that produced it, never part of the model's context), so it survives
 * a restart and works with every store and every sandbox, read-only ones included. The model reads it with the
 * `read_output` tool.
 *
 * @module
 */

import type { Message } from "../model/message.ts";
import type { HistoryEntry, NewHistoryEntry } from "../store/store.ts";
import type { SavedOutputs } from "../tools/builtin/read_output_tool.ts";

/** How many whole texts stay in memory; older ones are read back from the store when asked for. */
const HELD_TEXTS = 4;

interface SavedOutput {
  /** Where it is stored, once it is. */
  seq?: number;
  /** The whole text, while held in memory. */
  text?: string;
}

/** A session's saved tool outputs. */
export class ToolOutputs implements SavedOutputs {
  readonly #load: (afterSeq: number) => Promise<HistoryEntry[]>;
  readonly #saved = new Map<string, SavedOutput>();
  #pending: { message: Message; id: string }[] = [];
  #held: string[] = [];

  /**
   * @param load Reads the session's stored entries after a position, to fetch a text no longer held in memory.
   */
  constructor(load: (afterSeq: number) => Promise<HistoryEntry[]>) {
    this.#load = load;
  }

  /**
   * Notes the output entries among stored entries.
   *
   * @param entries Stored entries, in order.
   */
  addStored(entries: readonly HistoryEntry[]): void {
    for (const entry of entries) {
      if (entry.source !== "output" || entry.message.role !== "tool") continue;
      this.#remember(entry.message.toolCallId, { seq: entry.seq, text: entry.message.content });
    }
  }

  /**
   * Keeps a cut result's whole text until the turn is committed.
   *
   * @param id The tool call id the cut result names.
   * @param toolName The tool's name.
   * @param text The whole text, already redacted.
   */
  save(id: string, toolName: string, text: string): void {
    this.#pending.push({ id, message: { role: "tool", toolCallId: id, name: toolName, content: text } });
    this.#remember(id, { text });
  }

  /**
   * The entries to store with the turn being committed, and forgets them as pending.
   *
   * @param operationId The operation.
   * @param timestamp The commit's time.
   * @returns The entries, source `output`.
   */
  takePending(operationId: string, timestamp: string): NewHistoryEntry[] {
    const entries = this.#pending.map(({ message }): NewHistoryEntry => ({
      message,
      source: "output",
      operationId,
      timestamp,
    }));
    this.#pending = [];
    return entries;
  }

  /**
   * The whole text saved under an id (the latest, if a provider reused the id).
   *
   * @param id The tool call id.
   * @returns The text, or `undefined`.
   */
  async get(id: string): Promise<string | undefined> {
    const saved = this.#saved.get(id);
    if (!saved) return undefined;
    if (saved.text !== undefined) return saved.text;
    if (saved.seq === undefined) return undefined;
    const entry = (await this.#load(saved.seq - 1)).find((stored) => stored.seq === saved.seq);
    if (entry?.message.role !== "tool") return undefined;
    this.#remember(id, { seq: saved.seq, text: entry.message.content });
    return entry.message.content;
  }

  /** The saved ids, oldest first. */
  ids(): readonly string[] {
    return [...this.#saved.keys()];
  }

  /** Forgets everything, as after the session's history was deleted. */
  reset(): void {
    this.#saved.clear();
    this.#pending = [];
    this.#held = [];
  }

  #remember(id: string, output: SavedOutput): void {
    const known = this.#saved.get(id);
    this.#saved.delete(id);
    this.#saved.set(id, { seq: output.seq ?? known?.seq, text: output.text });
    this.#held = this.#held.filter((held) => held !== id);
    this.#held.push(id);
    while (this.#held.length > HELD_TEXTS) {
      const dropped = this.#saved.get(this.#held.shift()!);
      // A text not stored yet cannot be read back, so it stays until its turn is committed.
      if (dropped?.seq !== undefined) dropped.text = undefined;
    }
  }
}
