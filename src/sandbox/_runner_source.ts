/**
 * The program the file runner subprocess runs. It is written as one self-contained function, type-checked with the rest
 * of the code, and shipped to the subprocess as its source text (`runnerMain.toString()`) inside a `data:` URL, so it
 * needs no file on disk and works the same from a checkout, from JSR and from a compiled binary.
 *
 * Nothing in `runnerMain` may refer to anything outside it: it runs in a process of its own.
 *
 * @module
 */

/** The configuration the parent passes as the runner's first argument, as JSON. */
export interface RunnerConfig {
  /** The workspace's real path. */
  root: string;
  /** Paths relative to the root that may be read but never written (`.git`). */
  readOnlyPaths: string[];
  /** Paths relative to the root that may be neither read nor written (the state directory). */
  hiddenPaths: string[];
  /** Largest file `readFile` returns, and largest file `grep` searches, in bytes. */
  maxReadBytes: number;
  /** Only tests turn this off, to show that the permission flags hold on their own. */
  checkPaths: boolean;
}

/**
 * The runner. Reads one JSON request per line on stdin (`{id, op, ...}`), answers each with one JSON line on stdout
 * (`{id, ok: true, value}` or `{id, ok: false, error: {name, message}}`), and exits when stdin closes. Answers may come
 * in any order: walks and recursive removals run concurrently with later requests.
 *
 * File operations use Deno's synchronous calls on purpose. An asynchronous call hops to a thread pool and back, which
 * costs more than the system call itself for the small files agents read and write; this process serves nothing else
 * meanwhile, and a call that hangs is ended by the parent's per-request timeout either way. Only directory walks and
 * recursive removals, which can take long, stay asynchronous so that they do not hold up other requests.
 *
 * @returns A promise that settles when stdin has closed and every request is answered.
 */
export async function runnerMain(): Promise<void> {
  const config: RunnerConfig = JSON.parse(Deno.args[0]);
  const root: string = await Deno.realPath(config.root);
  const MAX_LINK_DEPTH = 40;
  const MAX_WALKED_ENTRIES = 200_000;
  const MAX_LINE_TEXT = 400;
  // As the model's tools skip them when walking: version control, dependencies and Flue's state.
  const SKIPPED_DIRECTORIES = [".git", "node_modules", ".flue"];
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  class RunnerError extends Error {
    denied?: string;
    option?: string;
    constructor(name: string, message: string, denied?: string, option?: string) {
      super(message);
      this.name = name;
      this.denied = denied;
      this.option = option;
    }
  }

  function normalize(path: string): string {
    const segments: string[] = [];
    for (const segment of path.split("/")) {
      if (segment === "" || segment === ".") continue;
      if (segment === "..") segments.pop();
      else segments.push(segment);
    }
    return `/${segments.join("/")}`;
  }
  function isInside(base: string, candidate: string): boolean {
    return base === "/" || candidate === base || candidate.startsWith(`${base}/`);
  }
  function relative(absolute: string): string {
    if (absolute === root) return ".";
    return isInside(root, absolute) ? absolute.slice(root.length + 1) : absolute;
  }
  function dirname(path: string): string {
    const index = path.lastIndexOf("/");
    return index <= 0 ? "/" : path.slice(0, index);
  }
  function basename(path: string): string {
    return path.slice(path.lastIndexOf("/") + 1);
  }
  function denied(denied: string, message: string, option = "none"): RunnerError {
    return new RunnerError("PolicyDenied", message, denied, option);
  }
  function matchesEntry(absolute: string, entries: string[]): string | undefined {
    const lowered = relative(absolute).toLowerCase();
    return entries.find((entry) => {
      const target = entry.toLowerCase();
      return lowered === target || lowered.startsWith(`${target}/`);
    });
  }

  function lexical(path: unknown): string {
    if (typeof path !== "string" || path === "" || path.includes("\0")) {
      throw denied(`path ${JSON.stringify(path)}`, "Path must be a non-empty string without NUL bytes");
    }
    const absolute = normalize(path.startsWith("/") ? path : `${root}/${path}`);
    if (config.checkPaths && !isInside(root, absolute)) {
      throw denied(`path "${path}"`, `Path "${path}" leaves the workspace: paths must stay inside the workspace`);
    }
    return absolute;
  }

  // The real path of `absolute`, following every symlink, with a missing tail kept as written. A dangling link is
  // followed by hand, so that a write through it cannot land wherever it points.
  function realPath(absolute: string, depth = 0): string {
    if (depth > MAX_LINK_DEPTH) {
      throw new RunnerError("FilesystemLoop", `Too many levels of symbolic links in "${relative(absolute)}"`);
    }
    const tail: string[] = [];
    let current = absolute;
    for (;;) {
      try {
        const resolved = Deno.realPathSync(current);
        return tail.length === 0 ? resolved : normalize(`${resolved}/${tail.join("/")}`);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      let isLink = false;
      try {
        isLink = Deno.lstatSync(current).isSymlink;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      if (isLink) {
        const target = Deno.readLinkSync(current);
        const followed = normalize(target.startsWith("/") ? target : `${dirname(current)}/${target}`);
        const through = tail.length === 0 ? followed : `${followed}/${tail.join("/")}`;
        // Left unresolved so that the prefix check refuses it; without that check, following it lets the permission
        // flags refuse it instead.
        if (config.checkPaths && !isInside(root, followed)) return through;
        return realPath(through, depth + 1);
      }
      if (current === "/" || current === root) {
        throw new Deno.errors.NotFound(`The workspace "${root}" does not exist`);
      }
      tail.unshift(basename(current));
      current = dirname(current);
    }
  }

  function checkReal(requested: string, real: string, forWrite: boolean): void {
    if (!config.checkPaths) return;
    const shown = relative(requested);
    if (!isInside(root, real)) {
      throw denied(
        `path "${shown}"`,
        `Path "${shown}" is a symbolic link that leaves the workspace: paths must stay inside the workspace`,
      );
    }
    const hidden = matchesEntry(real, config.hiddenPaths) ?? matchesEntry(requested, config.hiddenPaths);
    if (hidden !== undefined) {
      throw denied(
        `path "${shown}"`,
        `Path "${shown}" is inside "${hidden}/", which holds sandbox state and is hidden`,
      );
    }
    const readOnly = forWrite ? matchesEntry(real, config.readOnlyPaths) : undefined;
    if (readOnly !== undefined) {
      throw denied(
        `write to "${shown}"`,
        `Writing into "${readOnly}/" through the file API is refused, because its contents can make tools run ` +
          `commands: change it with an allowed command instead`,
      );
    }
  }

  // Resolves a requested path to the real path the operation then uses, so that Deno's permission flags are checked
  // against where the data really is and not against a link inside the workspace.
  // Each call resolves the path afresh: a command running meanwhile may have replaced any part of it with a link.
  function resolve(path: unknown, forWrite: boolean): { requested: string; real: string } {
    const requested = lexical(path);
    // Checked before resolving too, because the permission flags refuse even the resolving of hidden paths.
    checkReal(requested, requested, forWrite);
    const real = realPath(requested);
    checkReal(requested, real, forWrite);
    return { requested, real };
  }

  // Resolves only the parent, for operations on a link itself rather than on what it points to.
  function resolveEntry(path: unknown, forWrite: boolean): { requested: string; real: string } {
    const requested = lexical(path);
    if (requested === root) return { requested, real: root };
    checkReal(requested, requested, forWrite);
    const parent = realPath(dirname(requested));
    const real = parent === "/" ? `/${basename(requested)}` : `${parent}/${basename(requested)}`;
    checkReal(requested, real, forWrite);
    return { requested, real };
  }

  // Reads at most `maxReadBytes`, checking the file that was opened, so that a file growing or being swapped after the
  // check cannot make the read return more.
  function readBounded(path: string, requested: string): Uint8Array | undefined {
    const info = Deno.statSync(path);
    if (info.isDirectory) throw new RunnerError("IsADirectory", `"${relative(requested)}" is a directory`);
    if (!info.isFile) throw new RunnerError("NotAFile", `"${relative(requested)}" is not a regular file`);
    const file = Deno.openSync(path);
    try {
      const opened = file.statSync();
      if (!opened.isFile) throw new RunnerError("NotAFile", `"${relative(requested)}" is not a regular file`);
      if (opened.size > config.maxReadBytes) return undefined;
      const bytes = new Uint8Array(opened.size + 1);
      let length = 0;
      for (;;) {
        if (length === bytes.length) return undefined;
        const count = file.readSync(bytes.subarray(length));
        if (count === null) return bytes.subarray(0, length);
        length += count;
      }
    } finally {
      file.close();
    }
  }

  function readText(path: string, requested: string): string {
    const bytes = readBounded(path, requested);
    if (bytes === undefined) {
      throw new RunnerError(
        "FileTooLarge",
        `File "${relative(requested)}" has more than the ${config.maxReadBytes} bytes a read may return`,
      );
    }
    return decoder.decode(bytes);
  }

  function compileGlob(pattern: unknown): RegExp {
    if (typeof pattern !== "string" || pattern === "" || pattern.length > 1000 || pattern.includes("\0")) {
      throw new RunnerError("InvalidPattern", `Glob pattern ${JSON.stringify(pattern)} must be 1 to 1000 characters`);
    }
    if (pattern.startsWith("/")) {
      throw new RunnerError("InvalidPattern", `Glob pattern "${pattern}" must be relative to the search directory`);
    }
    let source = "";
    let braceDepth = 0;
    for (let index = 0; index < pattern.length; index++) {
      const char = pattern[index];
      if (char === "*") {
        if (pattern[index + 1] === "*") {
          const atStart = index === 0 || pattern[index - 1] === "/";
          const atEnd = index + 2 === pattern.length || pattern[index + 2] === "/";
          if (atStart && atEnd) {
            if (pattern[index + 2] === "/") {
              source += "(?:[^/]*/)*";
              index += 2;
            } else {
              source += ".*";
              index += 1;
            }
            continue;
          }
        }
        source += "[^/]*";
      } else if (char === "?") {
        source += "[^/]";
      } else if (char === "[") {
        const close = pattern.indexOf("]", index + 2);
        if (close === -1) {
          source += "\\[";
          continue;
        }
        let body = pattern.slice(index + 1, close);
        const negated = body.startsWith("!") || body.startsWith("^");
        if (negated) body = body.slice(1);
        source += `[${negated ? "^" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`;
        index = close;
      } else if (char === "{") {
        braceDepth++;
        source += "(?:";
      } else if (char === "}" && braceDepth > 0) {
        braceDepth--;
        source += ")";
      } else if (char === "," && braceDepth > 0) {
        source += "|";
      } else if (char === "\\" && index + 1 < pattern.length) {
        index++;
        source += pattern[index].replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      } else {
        source += char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      }
    }
    if (braceDepth !== 0) throw new RunnerError("InvalidPattern", `Glob pattern "${pattern}" has an unclosed "{"`);
    try {
      return new RegExp(`^${source}$`);
    } catch (error) {
      throw new RunnerError("InvalidPattern", `Glob pattern "${pattern}" is invalid: ${(error as Error).message}`);
    }
  }

  // Walks files below `start` without following symlinked directories (which could loop or leave the workspace),
  // skipping SKIPPED_DIRECTORIES below it and hidden paths. Yields real paths.
  async function* walkFiles(start: string): AsyncGenerator<string> {
    const stack = [start];
    let visited = 0;
    while (stack.length > 0) {
      const directory = stack.pop() as string;
      const names: Deno.DirEntry[] = [];
      try {
        for await (const entry of Deno.readDir(directory)) names.push(entry);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) continue;
        throw error;
      }
      names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const subdirectories: string[] = [];
      for (const entry of names) {
        if (++visited > MAX_WALKED_ENTRIES) return;
        const path = directory === "/" ? `/${entry.name}` : `${directory}/${entry.name}`;
        if (matchesEntry(path, config.hiddenPaths) !== undefined) continue;
        if (entry.isDirectory) {
          if (!SKIPPED_DIRECTORIES.includes(entry.name)) subdirectories.push(path);
        } else {
          yield path;
        }
      }
      stack.push(...subdirectories.reverse());
    }
  }

  async function glob(request: Record<string, unknown>): Promise<{ paths: string[]; truncated: boolean }> {
    const matcher = compileGlob(request.pattern);
    const limit = positiveInteger(request.maxResults, 1000);
    const { requested } = await resolve(request.path ?? ".", false);
    // Leading segments without wildcards name where to start, so `node_modules/x/**` need not walk the whole tree.
    const segments = (request.pattern as string).split("/");
    let literal = 0;
    while (literal < segments.length - 1 && !/[*?[{\\]/.test(segments[literal])) literal++;
    const prefix = segments.slice(0, literal).join("/");
    let start: string;
    try {
      start = (await resolve(prefix === "" ? requested : `${requested}/${prefix}`, false)).real;
      if (!(await Deno.stat(start)).isDirectory) return { paths: [], truncated: false };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return { paths: [], truncated: false };
      throw error;
    }
    const paths: string[] = [];
    for await (const file of walkFiles(start)) {
      const below = file.slice(start.length + 1);
      if (!matcher.test(prefix === "" ? below : `${prefix}/${below}`)) continue;
      if (paths.length === limit) return { paths: paths.sort(), truncated: true };
      paths.push(relative(file));
    }
    return { paths: paths.sort(), truncated: false };
  }

  async function grep(request: Record<string, unknown>): Promise<unknown> {
    if (typeof request.pattern !== "string" || request.pattern === "" || request.pattern.length > 1000) {
      throw new RunnerError(
        "InvalidPattern",
        `Search pattern ${JSON.stringify(request.pattern)} must be 1 to 1000 characters`,
      );
    }
    let regex: RegExp;
    try {
      regex = new RegExp(request.pattern, request.ignoreCase === true ? "i" : "");
    } catch (error) {
      throw new RunnerError(
        "InvalidPattern",
        `Search pattern "${request.pattern}" is not a valid regular expression: ${(error as Error).message}`,
      );
    }
    const filter = request.glob === undefined ? undefined : compileGlob(request.glob);
    const filterByName = typeof request.glob === "string" && !request.glob.includes("/");
    const limit = positiveInteger(request.maxMatches, 200);
    const { real: base } = await resolve(request.path ?? ".", false);
    const info = await Deno.stat(base);
    const files = info.isDirectory ? walkFiles(base) : (async function* () {
      yield base;
    })();
    const matches: { path: string; line: number; text: string }[] = [];
    for await (const file of files) {
      if (filter !== undefined) {
        const subject = filterByName || file === base ? basename(file) : file.slice(base.length + 1);
        if (!filter.test(subject)) continue;
      }
      let bytes: Uint8Array;
      try {
        // A link met in the walk is searched only when it resolves inside the workspace, and then at its real path.
        const real = await Deno.realPath(file);
        if (config.checkPaths && (!isInside(root, real) || matchesEntry(real, config.hiddenPaths))) continue;
        const fileInfo = await Deno.stat(real);
        if (!fileInfo.isFile || fileInfo.size > config.maxReadBytes) continue;
        bytes = await Deno.readFile(real);
      } catch {
        continue;
      }
      if (bytes.subarray(0, 8000).includes(0)) continue;
      const lines = new TextDecoder().decode(bytes).split(/\r?\n/);
      for (let index = 0; index < lines.length; index++) {
        regex.lastIndex = 0;
        if (!regex.test(lines[index])) continue;
        if (matches.length === limit) return { matches, truncated: true };
        const text = lines[index].length > MAX_LINE_TEXT ? `${lines[index].slice(0, MAX_LINE_TEXT)}...` : lines[index];
        matches.push({ path: relative(file), line: index + 1, text });
      }
    }
    return { matches, truncated: false };
  }

  function positiveInteger(value: unknown, fallback: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      throw new RunnerError("InvalidRequest", `Limit ${JSON.stringify(value)} must be a positive integer`);
    }
    return value;
  }

  async function handle(request: Record<string, unknown>): Promise<unknown> {
    switch (request.op) {
      case "ping":
        return "pong";
      case "readFile": {
        const { requested, real } = await resolve(request.path, false);
        return await readText(real, requested);
      }
      case "writeFile": {
        if (typeof request.content !== "string") throw new RunnerError("InvalidRequest", "Content must be a string");
        const { real } = await resolve(request.path, true);
        await Deno.mkdir(dirname(real), { recursive: true });
        await Deno.writeTextFile(real, request.content);
        return null;
      }
      case "stat": {
        const entry = await resolveEntry(request.path, false);
        const link = await Deno.lstat(entry.real);
        const { real } = await resolve(request.path, false);
        const info = link.isSymlink ? await Deno.stat(real) : link;
        return {
          isFile: info.isFile,
          isDirectory: info.isDirectory,
          isSymlink: link.isSymlink,
          size: info.size,
          modifiedAt: info.mtime?.toISOString(),
        };
      }
      case "readdir": {
        const { real } = await resolve(request.path, false);
        const entries = [];
        for await (const entry of Deno.readDir(real)) {
          const path = `${real}/${entry.name}`;
          if (matchesEntry(path, config.hiddenPaths) !== undefined) continue;
          entries.push({
            name: entry.name,
            isFile: entry.isFile,
            isDirectory: entry.isDirectory,
            isSymlink: entry.isSymlink,
          });
        }
        return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      }
      case "exists": {
        let real: string;
        try {
          real = (await resolve(request.path, false)).real;
        } catch (error) {
          if (error instanceof Deno.errors.NotFound) return false;
          throw error;
        }
        try {
          await Deno.lstat(real);
          return true;
        } catch (error) {
          if (error instanceof Deno.errors.NotFound) return false;
          throw error;
        }
      }
      case "mkdir": {
        const { real } = await resolve(request.path, true);
        await Deno.mkdir(real, { recursive: true });
        return null;
      }
      case "remove": {
        const { requested, real } = await resolveEntry(request.path, true);
        if (requested === root || real === root) {
          throw denied(
            `removal of the workspace root`,
            "Removing the workspace root is refused: remove what is inside it",
          );
        }
        await Deno.remove(real, { recursive: request.recursive === true });
        return null;
      }
      case "glob":
        return await glob(request);
      case "grep":
        return await grep(request);
      default:
        throw new RunnerError("InvalidRequest", `Unknown operation ${JSON.stringify(request.op)}`);
    }
  }

  function describe(error: unknown): Record<string, unknown> {
    if (error instanceof RunnerError) {
      return { name: error.name, message: error.message, denied: error.denied, option: error.option };
    }
    if (error instanceof Error) {
      // Messages from Deno name host paths; the parent's messages name workspace paths instead.
      const code = (error as { code?: unknown }).code;
      const message = error.message.split(`${root}/`).join("").split(root).join(".");
      return { name: error.name, message, code: typeof code === "string" ? code : undefined };
    }
    return { name: "Error", message: String(error) };
  }

  async function answer(line: string): Promise<void> {
    let id: unknown = null;
    let reply: Record<string, unknown>;
    try {
      const request = JSON.parse(line);
      if (typeof request !== "object" || request === null) throw new RunnerError("InvalidRequest", "Not an object");
      id = request.id;
      reply = { id, ok: true, value: await handle(request) };
    } catch (error) {
      reply = { id, ok: false, error: describe(error) };
    }
    await writer.write(encoder.encode(`${JSON.stringify(reply)}\n`));
  }

  const inFlight = new Set<Promise<void>>();
  let buffered = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline = buffered.indexOf("\n");
    while (newline !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() !== "") {
        const task = answer(line).catch(() => Deno.exit(1));
        inFlight.add(task);
        task.finally(() => inFlight.delete(task));
      }
      newline = buffered.indexOf("\n");
    }
  }
  await Promise.allSettled([...inFlight]);
  await writer.close();
}

/**
 * The runner's program text, ready to put into a `data:` URL.
 *
 * @returns JavaScript source that runs {@linkcode runnerMain} when loaded.
 */
export function runnerProgram(): string {
  return `(${runnerMain.toString()})();\n`;
}
