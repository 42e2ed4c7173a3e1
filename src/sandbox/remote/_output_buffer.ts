/**
 * Collects a remote command's streamed output up to a byte cap, counting what it drops.
 *
 * @module
 */

import type { Redactor } from "../../telemetry/redactor.ts";
import { cutOutput } from "../_memory_support.ts";

const encoder = new TextEncoder();

/** One stream's output: kept up to a little past the cap (so a secret across the cut is still redacted whole). */
export class OutputBuffer {
  readonly #maxBytes: number;
  #text = "";
  #keptBytes = 0;
  #totalBytes = 0;

  /**
   * @param maxBytes The cap on bytes returned.
   */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * Adds a chunk.
   *
   * @param chunk Decoded output.
   */
  push(chunk: string): void {
    const bytes = encoder.encode(chunk).length;
    this.#totalBytes += bytes;
    if (this.#keptBytes > this.#maxBytes * 2 + 4096) return;
    this.#text += chunk;
    this.#keptBytes += bytes;
  }

  /**
   * The output, redacted and then cut at the cap with a note of the bytes dropped.
   *
   * @param redactor Removes the command's secrets.
   * @returns The text and whether it was cut.
   */
  result(redactor: Redactor): { text: string; truncated: boolean } {
    const redacted = redactor.redactText(this.#text);
    const cut = cutOutput(redacted, this.#maxBytes);
    if (!cut.truncated && this.#totalBytes <= this.#keptBytes) return cut;
    const head = cut.truncated ? cut.text.slice(0, cut.text.lastIndexOf("\n[output cut at")) : cut.text;
    const dropped = this.#totalBytes - encoder.encode(head).length;
    // Worded as local commands word it, so the model reads one note whichever sandbox ran the command.
    return {
      text: `${head}${head.endsWith("\n") ? "" : "\n"}[output truncated: ${dropped} more bytes]`,
      truncated: true,
    };
  }
}
