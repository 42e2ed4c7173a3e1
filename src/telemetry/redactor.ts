/**
 * Removes secret values from text and from any JSON-like value before it reaches a prompt, an event, a log line,
 * stored history, an error message or a trace.
 *
 * @module
 */

/** Secret values shorter than this are not redacted: they would match ordinary text everywhere. */
const MIN_SECRET_LENGTH = 4;

/** Replaces secret values with `[REDACTED:NAME]`. */
export class Redactor {
  readonly #secrets: [name: string, value: string][];

  /**
   * @param secrets Secret names and values, such as the agent's `env`.
   */
  constructor(secrets: Record<string, string | undefined> = {}) {
    this.#secrets = Object.entries(secrets)
      .filter((entry): entry is [string, string] =>
        typeof entry[1] === "string" && entry[1].length >= MIN_SECRET_LENGTH
      )
      // Longer values first, so a secret that contains another is replaced whole.
      .sort((a, b) => b[1].length - a[1].length);
  }

  /** Whether there is anything to redact. */
  get isEmpty(): boolean {
    return this.#secrets.length === 0;
  }

  /**
   * Redacts a string.
   *
   * @param text Any text.
   * @returns The text with every secret value replaced.
   */
  redactText(text: string): string {
    let result = text;
    for (const [name, value] of this.#secrets) {
      if (result.includes(value)) result = result.split(value).join(`[REDACTED:${name}]`);
    }
    return result;
  }

  /**
   * How many characters at the end of a text could be the start of a secret that the text continuing would complete;
   * a stream of text holds them back (see `delta_redactor.ts`).
   *
   * @param text Text already redacted.
   * @returns The length of the longest end of `text` that is a shorter start of a secret value; 0 when none is.
   */
  secretPrefixLength(text: string): number {
    let longest = 0;
    for (const [, value] of this.#secrets) {
      // Candidate starts are the places holding the secret's first character, tried from the longest end.
      let start = text.indexOf(value[0], Math.max(0, text.length - value.length + 1));
      while (start !== -1 && text.length - start > longest) {
        if (value.startsWith(text.slice(start))) {
          longest = text.length - start;
          break;
        }
        start = text.indexOf(value[0], start + 1);
      }
    }
    return longest;
  }

  /**
   * Redacts every string inside a JSON-like value, returning a copy only where something changed.
   *
   * @param value Any value.
   * @returns The value with secrets replaced.
   */
  redact<T>(value: T): T {
    if (this.#secrets.length === 0) return value;
    return this.#redactValue(value, 0) as T;
  }

  #redactValue(value: unknown, depth: number): unknown {
    if (typeof value === "string") return this.redactText(value);
    if (value === null || typeof value !== "object" || depth > 32) return value;
    if (value instanceof Error) {
      const message = this.redactText(value.message);
      if (message !== value.message) value.message = message;
      return value;
    }
    if (Array.isArray(value)) {
      let changed = false;
      const copy = value.map((item) => {
        const redacted = this.#redactValue(item, depth + 1);
        if (redacted !== item) changed = true;
        return redacted;
      });
      return changed ? copy : value;
    }
    let changed = false;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const redacted = this.#redactValue(item, depth + 1);
      if (redacted !== item) changed = true;
      copy[key] = redacted;
    }
    return changed ? copy : value;
  }
}
