/**
 * Cutting tool output to size, so one large file or command cannot flood the model's context.
 *
 * @module
 */

/** Default cap on the bytes of one tool result. */
export const DEFAULT_MAX_OUTPUT_BYTES: number = 50_000;

/** Default cap on the characters of one line shown to the model. */
export const DEFAULT_MAX_LINE_LENGTH: number = 2_000;

/** A text cut to a byte budget. */
export interface CutText {
  /** The text that fits, ending on a whole character. */
  text: string;
  /** Whether anything was cut. */
  truncated: boolean;
  /** The UTF-8 size of the whole text. */
  totalBytes: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes, never inside a character. No note is added: the caller knows what
 * the reader should do next.
 *
 * @param text The text.
 * @param maxBytes The byte budget.
 * @returns The text that fits and whether it was cut.
 */
export function cutToBytes(text: string, maxBytes: number): CutText {
  // Each UTF-16 unit is at most 3 UTF-8 bytes, so short texts need no encoding.
  if (text.length * 3 <= maxBytes) return { text, truncated: false, totalBytes: byteLength(text) };
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return { text, truncated: false, totalBytes: bytes.length };
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) so the cut falls between characters.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end -= 1;
  return { text: decoder.decode(bytes.subarray(0, end)), truncated: true, totalBytes: bytes.length };
}

/**
 * Cuts one line to `maxLength` characters, with a note saying how long it was.
 *
 * @param line The line, without its line break.
 * @param maxLength The most characters kept.
 * @returns The line, or its start and a note.
 */
export function cutLine(line: string, maxLength: number): string {
  if (line.length <= maxLength) return line;
  return `${line.slice(0, maxLength)}... [line cut at ${maxLength} of ${line.length} characters]`;
}

/**
 * The UTF-8 size of a text.
 *
 * @param text The text.
 * @returns Its size in bytes.
 */
export function byteLength(text: string): number {
  return encoder.encode(text).length;
}
