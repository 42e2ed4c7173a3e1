/**
 * The program the code tool's subprocess runs, and reading its report back: the value travels as JSON on stdout after
 * a random marker, on the last line.
 *
 * @module
 */

/** The languages a snippet may be written in. */
type Language = "javascript" | "typescript";

/** The longest value returned as JSON; a longer one comes back inspected and cut. */
export const MAX_VALUE_CHARS = 100_000;

/** What the subprocess reports after the marker. */
export interface Payload {
  /** Whether the snippet produced a value other than `undefined`. */
  hasValue: boolean;
  /** The value as JSON data. */
  value?: unknown;
  /** The value as `Deno.inspect` printed it, when JSON could not carry it. */
  inspected?: string;
  /** What the snippet threw, or failed to compile with. */
  error?: { name: string; message: string };
}

/**
 * Finds the subprocess's report on the last marker line of stdout.
 *
 * @param tail The end of stdout.
 * @param marker The run's marker.
 * @returns The report and the bytes its line (with the line break before it) takes, or `undefined` when absent.
 */
export function findReport(tail: string, marker: string): { payload: Payload; lineBytes: number } | undefined {
  const at = tail.lastIndexOf(`\n${marker}`);
  if (at === -1) return undefined;
  const line = tail.slice(at);
  try {
    const payload = JSON.parse(line.slice(marker.length + 1)) as Payload;
    return { payload, lineBytes: new TextEncoder().encode(line).length };
  } catch {
    return undefined;
  }
}

/**
 * Replaces the snippet's `data:` URLs in stack traces with `<snippet>`, keeping the line and column: the model needs
 * the position, not the whole encoded program.
 *
 * @param text Output of the subprocess.
 * @returns The text with module URLs shortened.
 */
export function hideModuleUrls(text: string): string {
  return text.replace(/data:application\/(?:type|java)script(?:;base64)?,[^\s)]*?(:\d+:\d+)/g, "<snippet>$1")
    .replace(/data:application\/(?:type|java)script(?:;base64)?,[^\s)]*/g, "<snippet>");
}

/**
 * Base64 of a text's UTF-8 bytes, for a `data:` URL.
 *
 * @param text The text.
 * @returns Its base64 encoding.
 */
export function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let index = 0; index < bytes.length; index += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(binary);
}

/**
 * The subprocess's entry module. It imports the snippet's module variants in order until one compiles, runs it, and
 * writes the outcome after the marker through a `Deno.stdout` reference taken before the snippet runs, then exits so
 * stray timers cannot keep it alive.
 *
 * @param variants The snippet's module sources, in the order to try.
 * @param language Which media type the snippet's modules are imported as.
 * @param marker The random marker that starts the report line.
 * @returns The program's JavaScript source.
 */
export function runnerProgram(variants: string[], language: Language, marker: string): string {
  const mediaType = language === "typescript" ? "application/typescript" : "application/javascript";
  return `
const stdout = Deno.stdout;
const exit = Deno.exit;
const inspect = Deno.inspect;
const stringify = JSON.stringify;
const encoder = new TextEncoder();
const report = (payload) => {
  const bytes = encoder.encode("\\n" + ${JSON.stringify(marker)} + stringify(payload) + "\\n");
  for (let written = 0; written < bytes.length;) written += stdout.writeSync(bytes.subarray(written));
};
const describe = (error) => {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  let name = error.name;
  let message = error.message;
  // Deno reports a module that does not compile as a TypeError whose message starts "SyntaxError: ".
  if (message.startsWith("SyntaxError: ")) {
    name = "SyntaxError";
    message = message.slice("SyntaxError: ".length);
  }
  message = message.split("\\n").filter((line) => !/^\\s*at data:/.test(line)).join("\\n").trim();
  const frame = /data:application\\/(?:type|java)script,[^\\s)]*?:(\\d+):(\\d+)/.exec(String(error.stack ?? ""));
  if (frame && !message.includes(" | ")) message += " (at line " + frame[1] + ")";
  return { name, message };
};
const variants = ${JSON.stringify(variants)};
let snippet;
let compileError;
for (const source of variants) {
  try {
    // Parentheses and quotes are escaped too, so the URL in a stack trace ends at the first ")".
    const encoded = encodeURIComponent(source).replace(/[()'!*]/g, (c) => "%" + c.charCodeAt(0).toString(16));
    snippet = await import(${JSON.stringify(`data:${mediaType},`)} + encoded);
    break;
  } catch (error) {
    compileError = error;
  }
}
if (!snippet) {
  report({ hasValue: false, error: describe(compileError) });
  exit(1);
}
try {
  const value = await snippet.default();
  if (value === undefined) {
    report({ hasValue: false });
  } else {
    let json;
    try {
      json = stringify(value, (_key, item) => typeof item === "bigint" ? item.toString() : item);
    } catch {
      json = undefined;
    }
    if (json !== undefined && json.length <= ${MAX_VALUE_CHARS}) {
      report({ hasValue: true, value: JSON.parse(json) });
    } else {
      report({ hasValue: true, inspected: inspect(value, { depth: 6 }).slice(0, ${MAX_VALUE_CHARS}) });
    }
  }
  exit(0);
} catch (error) {
  report({ hasValue: false, error: describe(error) });
  exit(1);
}
`;
}
