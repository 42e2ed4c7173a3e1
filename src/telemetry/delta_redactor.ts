/**
 * Redaction of streamed text. A secret the model writes arrives in pieces (`text_delta`, `thinking_delta`), and no
 * single piece holds the whole value, so redacting each piece alone lets a reader who joins them see the secret. This
 * holds back the end of the text while it could still be the start of a secret, and releases it once the next piece
 * shows it is not (or, redacted, when the stream moves on).
 *
 * @module
 */

import type { EventPayload } from "../events/event_types.ts";
import type { Redactor } from "./redactor.ts";

type DeltaPayload = Extract<EventPayload, { type: "text_delta" | "thinking_delta" }>;

/**
 * Redacts the event payloads of one model run, joining streamed pieces where a secret could be split across them.
 *
 * @example A secret split across two pieces
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeltaRedactor } from "./delta_redactor.ts";
 * import { Redactor } from "./redactor.ts";
 *
 * const deltas = new DeltaRedactor(new Redactor({ KEY: "open sesame" }));
 * const pieces = [
 *   ...deltas.redact({ type: "text_delta", turnId: "t", text: "say open " }),
 *   ...deltas.redact({ type: "text_delta", turnId: "t", text: "sesame now" }),
 *   ...deltas.flush(),
 * ];
 * assert.equal(pieces.map((piece) => "text" in piece ? piece.text : "").join(""), "say [REDACTED:KEY] now");
 * ```
 */
export class DeltaRedactor {
  readonly #redactor: Redactor;
  /** Held-back text by delta type. */
  readonly #held = new Map<DeltaPayload["type"], DeltaPayload>();

  /**
   * @param redactor The session's redactor.
   */
  constructor(redactor: Redactor) {
    this.#redactor = redactor;
  }

  /**
   * Redacts one payload.
   *
   * @param payload The event payload.
   * @returns What to emit now, in order: held-back text this payload releases, then the payload itself (a delta
   * without its held-back end; nothing when all of it is held back).
   */
  redact(payload: EventPayload): EventPayload[] {
    if (this.#redactor.isEmpty) return [payload];
    if (payload.type !== "text_delta" && payload.type !== "thinking_delta") {
      return [...this.flush(), this.#redactor.redact(payload)];
    }
    const held = this.#held.get(payload.type);
    const released: EventPayload[] = [];
    let text = payload.text;
    if (held && held.turnId === payload.turnId) text = held.text + text;
    else if (held) released.push({ ...held, text: this.#redactor.redactText(held.text) });
    this.#held.delete(payload.type);
    const redacted = this.#redactor.redactText(text);
    const cut = redacted.length - this.#redactor.secretPrefixLength(redacted);
    if (cut < redacted.length) this.#held.set(payload.type, { ...payload, text: redacted.slice(cut) });
    if (cut > 0) released.push({ ...payload, text: redacted.slice(0, cut) });
    return released;
  }

  /**
   * Releases the held-back text: the stream ended, so it did not become a secret.
   *
   * @returns The deltas to emit.
   */
  flush(): EventPayload[] {
    const released = [...this.#held.values()].map((held) => ({ ...held, text: this.#redactor.redactText(held.text) }));
    this.#held.clear();
    return released;
  }
}
