/**
 * Removes secret values from text and from any JSON-like value before it reaches a prompt, an event, a log line,
 * stored history, an error message or a trace.
 *
 * @module
 */

/** Secret values shorter than this are not redacted: they would match ordinary text everywhere. */
const MIN_SECRET_LENGTH = 4;

/** Encoded forms shorter than this are not redacted: a few base64 or hex characters occur in ordinary text. */
const MIN_ENCODED_LENGTH = 8;

/**
 * The encoded forms of a secret a command or a model could print: base64 and base64url (at each of the three byte
 * offsets the secret can have inside a longer encoded text, keeping only the characters the secret alone decides),
 * hex in both cases, and percent-encoding.
 *
 * @param value The secret.
 * @returns The forms that differ from the value and are long enough to match safely.
 */
export function encodedSecretForms(value: string): string[] {
  const bytes = new TextEncoder().encode(value);
  const forms = new Set<string>();
  const addBase64 = (text: string) => {
    forms.add(text);
    forms.add(text.replaceAll("+", "-").replaceAll("/", "_"));
  };
  const whole = toBase64(bytes);
  addBase64(whole);
  addBase64(whole.replace(/=+$/, ""));
  for (let offset = 0; offset < 3; offset++) {
    const shifted = new Uint8Array(offset + bytes.length);
    shifted.set(bytes, offset);
    // Characters before `start` mix in bits of the bytes before the secret; those from `end` on, bits after it.
    const start = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    addBase64(toBase64(shifted).slice(start, end));
  }
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  forms.add(hex);
  forms.add(hex.toUpperCase());
  const percent = encodeURIComponent(value);
  forms.add(percent);
  forms.add(percent.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()));
  forms.add(percent.replaceAll("%20", "+"));
  forms.delete(value);
  return [...forms].filter((form) => form.length >= MIN_ENCODED_LENGTH);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Replaces secret values, and their base64, base64url, hex and percent-encoded forms, with `[REDACTED:NAME]`. */
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
      .flatMap(([name, value]): [string, string][] => [
        [name, value],
        ...encodedSecretForms(value).map((form): [string, string] => [name, form]),
      ])
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
