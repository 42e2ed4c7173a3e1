/**
 * Python snippets for the code tool: CPython on WebAssembly (`npm:pyodide`, its standard library bundled) inside the
 * same permission-less Deno subprocess as JavaScript, reading nothing but Pyodide's own files.
 *
 * @module
 */

/**
 * Time allowed for loading CPython, in milliseconds; the snippet's own timeout starts once it is loaded (a loaded
 * machine can take tens of seconds to compile Pyodide's WebAssembly).
 */
export const PYTHON_LOAD_TIMEOUT_MS = 180_000;

/**
 * Passes the subprocess's stderr through, watching for the line that says CPython is loaded (and dropping it).
 *
 * @param line The ready line, without its line break.
 * @param onReady Called once when it passes.
 * @returns The stream transform.
 */
export function readySignal(line: string, onReady: () => void): TransformStream<Uint8Array, Uint8Array> {
  const needle = new TextEncoder().encode(`${line}\n`);
  let seen = false;
  let held = new Uint8Array(0);
  return new TransformStream({
    transform(chunk, controller) {
      if (seen) return controller.enqueue(chunk);
      const joined = new Uint8Array(held.length + chunk.length);
      joined.set(held);
      joined.set(chunk, held.length);
      const at = indexOf(joined, needle);
      if (at !== -1) {
        seen = true;
        onReady();
        if (at > 0) controller.enqueue(joined.subarray(0, at));
        if (at + needle.length < joined.length) controller.enqueue(joined.subarray(at + needle.length));
        held = new Uint8Array(0);
        return;
      }
      // Keep what could be the start of the line; pass the rest on.
      const keep = Math.min(joined.length, needle.length - 1);
      if (joined.length > keep) controller.enqueue(joined.subarray(0, joined.length - keep));
      held = joined.slice(joined.length - keep);
    },
    flush(controller) {
      if (held.length > 0) controller.enqueue(held);
    },
  });
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let start = 0; start + needle.length <= haystack.length; start++) {
    for (let offset = 0; offset < needle.length; offset++) {
      if (haystack[start + offset] !== needle[offset]) continue outer;
    }
    return start;
  }
  return -1;
}

/**
 * Where the Pyodide package lies on disk (Deno's npm cache, or `node_modules`), which the subprocess may read.
 *
 * @returns The directory URL, ending in `/`.
 * @throws {Error} When the package cannot be loaded.
 */
export async function pyodideDirectory(): Promise<URL> {
  // Importing it makes sure it is installed; the subprocess loads the large parts (WebAssembly, standard library).
  // The full specifier, not an import map name: import.meta.resolve is not rewritten when the package is published.
  await import("npm:pyodide@314.0.8");
  const entry = new URL(import.meta.resolve("npm:pyodide@314.0.8"));
  if (entry.protocol !== "file:") throw new Error(`Pyodide resolved to ${entry.href}, not to a local file`);
  return new URL("./", entry);
}

/**
 * The subprocess's entry module for a Python snippet: loads Pyodide from its directory, runs the snippet with
 * `runPythonAsync` (its last expression is the value), and reports the outcome after the marker like the JavaScript
 * runner, with the exception's class as the error's name.
 *
 * @param code The Python source.
 * @param directory Pyodide's directory.
 * @param marker The run's marker.
 * @param maxValueChars The longest value returned as JSON.
 * @returns The program's JavaScript source.
 */
export function pythonRunnerProgram(code: string, directory: URL, marker: string, maxValueChars: number): string {
  return `
const stdout = Deno.stdout;
const stderr = Deno.stderr;
const exit = Deno.exit;
const stringify = JSON.stringify;
const encoder = new TextEncoder();
const write = (stream, text) => {
  const bytes = encoder.encode(text);
  for (let written = 0; written < bytes.length;) written += stream.writeSync(bytes.subarray(written));
};
const report = (payload) => write(stdout, "\\n" + ${JSON.stringify(marker)} + stringify(payload) + "\\n");
let pyodide;
try {
  const { loadPyodide } = await import(${JSON.stringify(new URL("pyodide.mjs", directory).href)});
  pyodide = await loadPyodide({
    indexURL: ${JSON.stringify(decodeURIComponent(directory.pathname))},
    stdout: (line) => write(stdout, line + "\\n"),
    stderr: (line) => write(stderr, line + "\\n"),
  });
  write(stderr, ${JSON.stringify(marker + "ready")} + "\\n");
} catch (error) {
  report({ hasValue: false, error: { name: "PythonUnavailable", message: "CPython could not be loaded: " + error } });
  exit(1);
}
try {
  let value = await pyodide.runPythonAsync(${JSON.stringify(code)});
  if (value === undefined || value === null) {
    report({ hasValue: false });
    exit(0);
  }
  let repr;
  if (typeof value === "object" && typeof value.toJs === "function") {
    repr = value.toString();
    try {
      value = value.toJs({ dict_converter: Object.fromEntries, create_pyproxies: false });
    } catch {
      value = undefined;
    }
  }
  let json;
  try {
    json = value === undefined ? undefined : stringify(value, (_key, item) => typeof item === "bigint" ? item.toString() : item);
  } catch {
    json = undefined;
  }
  if (json !== undefined && json.length <= ${maxValueChars}) report({ hasValue: true, value: JSON.parse(json) });
  else report({ hasValue: true, inspected: String(repr ?? value).slice(0, ${maxValueChars}) });
  exit(0);
} catch (error) {
  const name = typeof error?.type === "string" ? error.type : (error?.name ?? "Error");
  // Frames inside Pyodide's own runner say nothing about the snippet: keep the traceback from the snippet's frame.
  const text = String(error?.message ?? error).trim();
  const at = text.indexOf('File "<exec>"');
  const message = at === -1 ? text.split("\\n").at(-1) : text.slice(at);
  report({ hasValue: false, error: { name, message: message.slice(-4000) } });
  exit(1);
}
`;
}
