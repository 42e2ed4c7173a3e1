/**
 * The program the file runner subprocess runs. It is written as one self-contained function, type-checked with the rest
 * of the code, and shipped to the subprocess as its source text (`runnerMain.toString()`) inside a `data:` URL, so it
 * needs no file on disk and works the same from a checkout, from JSR and from a compiled binary.
 *
 * Nothing in `runnerMain` may refer to anything outside it: it runs in a process of its own.
 *
 * @module
 */

import { globSource, matchingBrace, splitAlternatives } from "../glob_pattern.ts";

/** One workspace a runner serves: requests name it by its root. */
export interface RunnerWorkspace {
  /** The workspace's real path, inside one of the served roots. */
  root: string;
  /** Paths relative to the root that may be read but never written (`.git`). */
  readOnlyPaths: string[];
  /** Paths relative to the root that may be neither read nor written (the state directory). */
  hiddenPaths: string[];
}

/** The configuration the parent passes as the runner's first argument, as JSON. */
export interface RunnerConfig {
  /** The real paths of the directories whose workspaces this runner may serve; its permission flags name these. */
  servedRoots: string[];
  /** Largest file `readFile` returns, and largest file `grep` searches, in bytes. */
  maxReadBytes: number;
  /** Only tests turn this off, to show that the permission flags hold on their own. */
  checkPaths: boolean;
}

/**
 * The runner. Reads one JSON request per line on stdin (`{id, op, root, ...}`), answers each with one JSON line on stdout
 * (`{id, ok: true, value}` or `{id, ok: false, error: {name, message}}`), and exits when stdin closes. Answers may come
 * in any order: walks and recursive removals run concurrently with later requests.
 *
 * One runner serves many workspaces below its served roots: `serve` registers one (its root and protected paths),
 * `release` forgets it, and every other request names the workspace it is for by `root`, to which all its paths are
 * confined. The parent only ever sends a session's own root, so a request for another workspace means a bug, and is
 * refused unless that workspace was registered.
 *
 * Path checks and reads use Deno's synchronous calls on purpose. An asynchronous call hops to a thread pool and back,
 * which costs more than the system call itself for the small files agents read; this process serves nothing else
 * meanwhile, and a call that hangs is ended by the parent's per-request timeout either way. Writes, directory walks and
 * recursive removals, which can wait on the disk or take long, stay asynchronous so that they overlap.
 *
 * @returns A promise that settles when stdin has closed and every request is answered.
 */
export async function runnerMain(): Promise<void> {
  const config: RunnerConfig = JSON.parse(Deno.args[0]);
  const servedRoots: string[] = config.servedRoots.map((root) => Deno.realPathSync(root));
  type Workspace = RunnerWorkspace;
  const workspaces = new Map<string, Workspace>();
  const MAX_LINK_DEPTH = 40;
  const MAX_WALKED_ENTRIES = 200_000;
  const MAX_LINE_TEXT = 400;
  const MAX_MATCHED_LINE = 10_000;
  const BINARY_PROBE_CHARS = 8192;
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
  function relative(ws: Workspace, absolute: string): string {
    if (absolute === ws.root) return ".";
    return isInside(ws.root, absolute) ? absolute.slice(ws.root.length + 1) : absolute;
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
  function matchesEntry(ws: Workspace, absolute: string, entries: string[]): string | undefined {
    const lowered = relative(ws, absolute).toLowerCase();
    return entries.find((entry) => {
      const target = entry.toLowerCase();
      return lowered === target || lowered.startsWith(`${target}/`);
    });
  }

  // Registers a workspace. Its root must be a real path (no link planted in its place) below a served root.
  function serve(spec: Record<string, unknown>): Workspace {
    const root = spec.root;
    const entries = (value: unknown) =>
      Array.isArray(value) && value.every((entry) => typeof entry === "string" && entry !== "") ? value : undefined;
    const readOnlyPaths = entries(spec.readOnlyPaths ?? []);
    const hiddenPaths = entries(spec.hiddenPaths ?? []);
    if (typeof root !== "string" || !root.startsWith("/") || readOnlyPaths === undefined || hiddenPaths === undefined) {
      throw new RunnerError("InvalidRequest", `Workspace ${JSON.stringify(root)} must be an absolute path with lists`);
    }
    if (!servedRoots.some((served) => isInside(served, root))) {
      throw denied(`workspace "${root}"`, `Workspace "${root}" is not below a directory this runner serves`);
    }
    if (Deno.realPathSync(root) !== root) {
      throw denied(`workspace "${root}"`, `Workspace "${root}" is not a real path: a link stands in its place`);
    }
    const workspace = { root, readOnlyPaths, hiddenPaths };
    workspaces.set(root, workspace);
    return workspace;
  }

  function workspaceOf(request: Record<string, unknown>): Workspace {
    const workspace = typeof request.root === "string" ? workspaces.get(request.root) : undefined;
    if (workspace === undefined) {
      throw new RunnerError("UnknownWorkspace", `Workspace ${JSON.stringify(request.root)} is not served here`);
    }
    return workspace;
  }

  function lexical(ws: Workspace, path: unknown): string {
    if (typeof path !== "string" || path === "" || path.includes("\0")) {
      throw denied(`path ${JSON.stringify(path)}`, "Path must be a non-empty string without NUL bytes");
    }
    const absolute = normalize(path.startsWith("/") ? path : `${ws.root}/${path}`);
    if (config.checkPaths && !isInside(ws.root, absolute)) {
      throw denied(`path "${path}"`, `Path "${path}" leaves the workspace: paths must stay inside the workspace`);
    }
    return absolute;
  }

  // The real path of `absolute`, following every symlink, with a missing tail kept as written. A dangling link is
  // followed by hand, so that a write through it cannot land wherever it points.
  function realPath(ws: Workspace, absolute: string, depth = 0): string {
    if (depth > MAX_LINK_DEPTH) {
      throw new RunnerError("FilesystemLoop", `Too many levels of symbolic links in "${relative(ws, absolute)}"`);
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
        if (config.checkPaths && !isInside(ws.root, followed)) return through;
        return realPath(ws, through, depth + 1);
      }
      if (current === "/" || current === ws.root) {
        throw new Deno.errors.NotFound(`The workspace "${ws.root}" does not exist`);
      }
      tail.unshift(basename(current));
      current = dirname(current);
    }
  }

  function checkReal(ws: Workspace, requested: string, real: string, forWrite: boolean): void {
    if (!config.checkPaths) return;
    const shown = relative(ws, requested);
    if (!isInside(ws.root, real)) {
      throw denied(
        `path "${shown}"`,
        `Path "${shown}" is a symbolic link that leaves the workspace: paths must stay inside the workspace`,
      );
    }
    const hidden = matchesEntry(ws, real, ws.hiddenPaths) ?? matchesEntry(ws, requested, ws.hiddenPaths);
    if (hidden !== undefined) {
      throw denied(
        `path "${shown}"`,
        `Path "${shown}" is inside "${hidden}/", which holds sandbox state and is hidden`,
      );
    }
    const readOnly = forWrite ? matchesEntry(ws, real, ws.readOnlyPaths) : undefined;
    if (readOnly !== undefined && readOnly.toLowerCase() === ".git") {
      throw denied(
        `write to "${shown}"`,
        `Writing into "${readOnly}/" through the file API is refused, because its contents can make tools run ` +
          `commands; it is read-only to commands as well. Change it outside the agent`,
      );
    }
    if (readOnly !== undefined) {
      throw denied(
        `write to "${shown}"`,
        `Writing "${shown}" is refused: "${readOnly}" is part of the project's instructions, configuration or code, ` +
          `which are read-only to the model so that it cannot change what later runs load. Set ` +
          `"allowProjectWrites" to allow it`,
        "allowProjectWrites",
      );
    }
  }

  // Resolves a requested path to the real path the operation then uses, so that Deno's permission flags are checked
  // against where the data really is and not against a link inside the workspace. Nothing is cached between calls: a
  // command running meanwhile may have replaced any part of the path with a link.
  function resolve(ws: Workspace, path: unknown, forWrite: boolean): { requested: string; real: string } {
    const requested = lexical(ws, path);
    // Checked before resolving too, because the permission flags refuse even the resolving of hidden paths.
    checkReal(ws, requested, requested, forWrite);
    const real = realPath(ws, requested);
    checkReal(ws, requested, real, forWrite);
    return { requested, real };
  }

  // The check-then-open race: a command in the same session may swap any directory of a path for a link between a
  // check and the open that follows it, and a path string is resolved again by the kernel at each call. So the
  // operations below never hand the kernel a checked path. They move this process into the directory one component at
  // a time from the workspace root and ask the kernel where that put it (getcwd), which no later swap can change; then
  // they open the last component relative to that directory, and compare what they opened (fstat) with what they
  // examined (lstat) before. A link found on the way is followed by hand, within the workspace.

  // Enters the directory `absolute` names and returns its real path, checked at every step. With `create`, missing
  // directories are made on the way (each in a directory already checked).
  function enterDirectory(ws: Workspace, absolute: string, forWrite: boolean, create = false, depth = 0): string {
    if (!isInside(ws.root, absolute)) {
      // Reached only with the path checks off: the permission flags alone must refuse it.
      Deno.chdir(absolute);
      return Deno.cwd();
    }
    Deno.chdir(ws.root);
    const rest = relative(ws, absolute);
    if (rest === ".") return ws.root;
    const segments = rest.split("/");
    for (let index = 0; index < segments.length; index++) {
      const segment = segments[index];
      let info: Deno.FileInfo | undefined;
      try {
        info = Deno.lstatSync(segment);
      } catch (error) {
        if (!create || !(error instanceof Deno.errors.NotFound)) throw error;
      }
      if (info?.isSymlink) {
        // Followed by hand, so that one leaving the workspace is refused by name rather than by the kernel.
        const followed = followLink(ws, segment, absolute, depth);
        const remaining = segments.slice(index + 1).join("/");
        return enterDirectory(
          ws,
          remaining === "" ? followed : `${followed}/${remaining}`,
          forWrite,
          create,
          depth + 1,
        );
      }
      if (info === undefined) {
        const here = Deno.cwd();
        checkReal(ws, absolute, here === "/" ? `/${segment}` : `${here}/${segment}`, forWrite);
        // A link put in its place meanwhile makes this fail (mkdir never follows one) rather than create elsewhere.
        Deno.mkdirSync(segment);
      }
      // The kernel follows a link swapped in since the lstat; where it led is checked next.
      Deno.chdir(segment);
      const here = Deno.cwd();
      if (config.checkPaths && !isInside(ws.root, here)) {
        throw denied(
          `path "${relative(ws, absolute)}"`,
          `Path "${relative(ws, absolute)}" passes through a symbolic link that leaves the workspace: paths must ` +
            `stay inside the workspace`,
        );
      }
    }
    return Deno.cwd();
  }

  // Enters the directory holding `requested` and names its last component there.
  function enterParent(
    ws: Workspace,
    requested: string,
    forWrite: boolean,
    create = false,
  ): { name: string; real: string } {
    // Checked before entering too, because the permission flags refuse even the entering of hidden paths.
    checkReal(ws, requested, requested, forWrite);
    const directory = enterDirectory(ws, dirname(requested), forWrite, create);
    const name = basename(requested);
    const real = directory === "/" ? `/${name}` : `${directory}/${name}`;
    checkReal(ws, requested, real, forWrite);
    return { name, real };
  }

  // Where a link (in the current directory) leads, refused when that leaves the workspace.
  function followLink(ws: Workspace, name: string, requested: string, depth: number): string {
    if (depth >= MAX_LINK_DEPTH) {
      throw new RunnerError("FilesystemLoop", `Too many levels of symbolic links in "${relative(ws, requested)}"`);
    }
    let target: string;
    try {
      target = Deno.readLinkSync(name);
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      // No longer a link: something replaced it since it was examined.
      throw new RunnerError("Interrupted", `"${relative(ws, requested)}" changed while being resolved: try again`);
    }
    const here = Deno.cwd();
    const followed = normalize(target.startsWith("/") ? target : `${here}/${target}`);
    if (config.checkPaths && !isInside(ws.root, followed)) {
      const shown = relative(ws, requested);
      throw denied(
        `path "${shown}"`,
        `Path "${shown}" is a symbolic link that leaves the workspace: paths must stay inside the workspace`,
      );
    }
    return followed;
  }

  // Facts about what `requested` names, following links by hand; `lstat` of the last one reached.
  function statFollowing(ws: Workspace, requested: string, depth = 0): Deno.FileInfo {
    if (requested === ws.root) return Deno.lstatSync(ws.root);
    const { name } = enterParent(ws, requested, false);
    const info = Deno.lstatSync(name);
    return info.isSymlink ? statFollowing(ws, followLink(ws, name, requested, depth), depth + 1) : info;
  }

  // Opens a regular file for reading and returns it with its facts, taken from the open file itself.
  function openForRead(ws: Workspace, requested: string, shown = requested, depth = 0): {
    file: Deno.FsFile;
    info: Deno.FileInfo;
  } {
    if (requested === ws.root) throw new RunnerError("IsADirectory", `"${relative(ws, shown)}" is a directory`);
    const { name } = enterParent(ws, requested, false);
    const before = Deno.lstatSync(name);
    if (before.isSymlink) return openForRead(ws, followLink(ws, name, shown, depth), shown, depth + 1);
    if (before.isDirectory) throw new RunnerError("IsADirectory", `"${relative(ws, shown)}" is a directory`);
    // Checked before opening, so that a FIFO is refused rather than waited on.
    if (!before.isFile) throw new RunnerError("NotAFile", `"${relative(ws, shown)}" is not a regular file`);
    const file = Deno.openSync(name);
    const info = file.statSync();
    if (info.ino !== before.ino || info.dev !== before.dev) {
      file.close();
      throw new RunnerError("Interrupted", `"${relative(ws, shown)}" was replaced while being opened: try again`);
    }
    return { file, info };
  }

  // Opens a file for writing, creating it when missing, without truncating anything before it is known to be the
  // file the checks saw.
  function openForWrite(ws: Workspace, requested: string, shown = requested, depth = 0): Deno.FsFile {
    if (requested === ws.root) throw new RunnerError("IsADirectory", `"${relative(ws, shown)}" is a directory`);
    const { name } = enterParent(ws, requested, true, true);
    let before: Deno.FileInfo | undefined;
    try {
      before = Deno.lstatSync(name);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    // createNew never follows a link: one swapped in meanwhile makes the call fail instead.
    if (before === undefined) return Deno.openSync(name, { write: true, createNew: true });
    if (before.isSymlink) return openForWrite(ws, followLink(ws, name, shown, depth), shown, depth + 1);
    if (before.isDirectory) throw new RunnerError("IsADirectory", `"${relative(ws, shown)}" is a directory`);
    if (!before.isFile) throw new RunnerError("NotAFile", `"${relative(ws, shown)}" is not a regular file`);
    const file = Deno.openSync(name, { write: true });
    const info = file.statSync();
    if (info.ino !== before.ino || info.dev !== before.dev) {
      file.close();
      throw new RunnerError("Interrupted", `"${relative(ws, shown)}" was replaced while being opened: try again`);
    }
    return file;
  }

  // Reads a file as `readFile` does.
  function readChecked(ws: Workspace, requested: string): Uint8Array {
    const { file, info } = openForRead(ws, requested);
    try {
      return readBounded(ws, file, requested, info);
    } finally {
      file.close();
    }
  }

  // Reads at most `maxReadBytes` however the file changes after the check: a command running meanwhile may grow it or
  // swap it, and the read stops at the limit either way.
  function readBounded(ws: Workspace, file: Deno.FsFile, requested: string, info: Deno.FileInfo): Uint8Array {
    if (info.isDirectory) throw new RunnerError("IsADirectory", `"${relative(ws, requested)}" is a directory`);
    if (!info.isFile) throw new RunnerError("NotAFile", `"${relative(ws, requested)}" is not a regular file`);
    const limit = `the ${config.maxReadBytes} bytes a read may return`;
    if (info.size > config.maxReadBytes) {
      throw new RunnerError(
        "FileTooLarge",
        `File "${relative(ws, requested)}" has ${info.size} bytes, more than ${limit}`,
      );
    }
    let bytes = new Uint8Array(info.size + 1);
    let length = 0;
    for (;;) {
      if (length === bytes.length) {
        if (length > config.maxReadBytes) {
          throw new RunnerError(
            "FileTooLarge",
            `File "${relative(ws, requested)}" grew past ${limit} while being read`,
          );
        }
        const grown = new Uint8Array(Math.min(length * 2, config.maxReadBytes + 1));
        grown.set(bytes);
        bytes = grown;
      }
      const count = file.readSync(bytes.subarray(length));
      if (count === null) return bytes.subarray(0, length);
      length += count;
      // A regular file reads short only at its end, which saves asking again to be told so.
      if (length < bytes.length) return bytes.subarray(0, length);
    }
  }

  // The tools' own dialect (`src/sandbox/glob_pattern.ts`, embedded in the program by `runnerProgram`): the tools
  // match with it when they walk a sandbox themselves, and results must not depend on which of the two ran.
  // A file filter may be absolute; it then matches nothing, as it does in the tools.
  function compileGlob(pattern: unknown, isFilter = false): RegExp {
    if (typeof pattern !== "string" || pattern === "" || pattern.length > 1000 || pattern.includes("\0")) {
      throw new RunnerError("InvalidPattern", `Glob pattern ${JSON.stringify(pattern)} must be 1 to 1000 characters`);
    }
    if (pattern.startsWith("/") && !isFilter) {
      throw new RunnerError("InvalidPattern", `Glob pattern "${pattern}" must be relative to the search directory`);
    }
    try {
      return new RegExp(`^${globSource(pattern)}$`);
    } catch (error) {
      throw new RunnerError("InvalidPattern", `Glob pattern "${pattern}" is invalid: ${(error as Error).message}`);
    }
  }

  // Walks like the model's tools walk a sandbox (`walkFiles` in `src/tools/builtin/_walk.ts`), so that searching here gives
  // what they would find: breadth first, by name within a directory, regular files only (links and special files are
  // left out, so no link is followed), not entering SKIPPED_DIRECTORIES below `start`, and leaving out hidden paths.
  // Yields real paths. `walk.isComplete` turns false when the walk stops at `maxFiles` files or the entry cap.
  async function* walkFiles(
    ws: Workspace,
    start: string,
    maxFiles: number,
    walk: { isComplete: boolean },
  ): AsyncGenerator<string> {
    const queue = [start];
    let visited = 0;
    let files = 0;
    for (let next = 0; next < queue.length; next++) {
      const directory = queue[next];
      let entries: Deno.DirEntry[];
      try {
        // Listed from inside the checked directory, so that a directory swapped for a link meanwhile is refused.
        enterDirectory(ws, directory, false);
        entries = [...Deno.readDirSync(".")];
      } catch (error) {
        if (
          error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied ||
          (error as Error).name === "PolicyDenied"
        ) continue;
        throw error;
      }
      // Other requests get their turn between directories.
      if (next % 16 === 15) await new Promise((resolve) => setTimeout(resolve, 0));
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        if (++visited > MAX_WALKED_ENTRIES) {
          walk.isComplete = false;
          return;
        }
        const path = directory === "/" ? `/${entry.name}` : `${directory}/${entry.name}`;
        if (matchesEntry(ws, path, ws.hiddenPaths) !== undefined) continue;
        if (entry.isDirectory) {
          if (!SKIPPED_DIRECTORIES.includes(entry.name)) queue.push(path);
        } else if (entry.isFile) {
          if (files === maxFiles) {
            walk.isComplete = false;
            return;
          }
          files++;
          yield path;
        }
      }
    }
  }

  // Runs a walk to its end without using what it yields, to learn whether it was complete.
  async function finishWalk(files: AsyncGenerator<string>): Promise<void> {
    for await (const _ of files) {
      // Only counted.
    }
  }

  async function glob(ws: Workspace, request: Record<string, unknown>): Promise<unknown> {
    const matcher = compileGlob(request.pattern);
    const limit = positiveInteger(request.maxResults, 1000);
    const maxFiles = positiveInteger(request.maxFiles, Infinity);
    const searched = resolve(ws, request.path ?? ".", false);
    const walk = { isComplete: true };
    const result = { paths: [] as string[], truncated: false, isComplete: true, searched: relative(ws, searched.real) };
    if (!Deno.statSync(searched.real).isDirectory) {
      // A file is the only candidate, matched by its name, as the tools match it.
      if (matcher.test(basename(searched.requested))) result.paths.push(result.searched);
      return result;
    }
    // Leading segments without wildcards name where to start, so `node_modules/x/**` need not walk the whole tree.
    const segments = (request.pattern as string).split("/");
    let literal = 0;
    while (literal < segments.length - 1 && !/[*?[{]/.test(segments[literal])) literal++;
    const prefix = segments.slice(0, literal).join("/");
    let start = searched.real;
    if (prefix !== "") {
      try {
        start = resolve(ws, `${searched.requested}/${prefix}`, false).real;
        if (!Deno.statSync(start).isDirectory) return result;
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return result;
        throw error;
      }
    }
    const files = walkFiles(ws, start, maxFiles, walk);
    for await (const file of files) {
      const below = file.slice(start.length + 1);
      if (!matcher.test(prefix === "" ? below : `${prefix}/${below}`)) continue;
      if (result.paths.length === limit) {
        result.truncated = true;
        await finishWalk(files);
        break;
      }
      result.paths.push(relative(ws, file));
    }
    result.paths.sort();
    result.isComplete = walk.isComplete;
    return result;
  }

  async function grep(ws: Workspace, request: Record<string, unknown>): Promise<unknown> {
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
    const filter = request.glob === undefined ? undefined : compileGlob(request.glob, true);
    const filterByName = typeof request.glob === "string" && !request.glob.includes("/");
    const limit = positiveInteger(request.maxMatches, 200);
    const maxFiles = positiveInteger(request.maxFiles, Infinity);
    const maxFileBytes = positiveInteger(request.maxFileBytes, config.maxReadBytes);
    const maxTotalBytes = positiveInteger(request.maxTotalBytes, Infinity);
    const maxLineLength = positiveInteger(request.maxLineLength, MAX_LINE_TEXT);
    const { requested, real: base } = resolve(ws, request.path ?? ".", false);
    const walk = { isComplete: true };
    const files = Deno.statSync(base).isDirectory ? walkFiles(ws, base, maxFiles, walk) : (async function* () {
      yield base;
    })();
    const result = {
      matches: [] as { path: string; line: number; text: string; length: number }[],
      truncated: false,
      isComplete: true,
      searched: relative(ws, base),
      filesOverSize: 0,
      bytesSearched: 0,
      stoppedAtBytes: false,
    };
    search: for await (const file of files) {
      if (filter !== undefined) {
        const subject = file === base
          ? basename(requested)
          : filterByName
          ? basename(file)
          : file.slice(base.length + 1);
        if (!filter.test(subject)) continue;
      }
      let text: string;
      let opened: { file: Deno.FsFile; info: Deno.FileInfo };
      try {
        // Opened as readFile opens: a command may have put a link in its place since the walk saw it.
        opened = openForRead(ws, file);
      } catch {
        continue;
      }
      try {
        const size = opened.info.size;
        if (size > maxFileBytes) {
          result.filesOverSize++;
          continue;
        }
        if (result.bytesSearched + size > maxTotalBytes) {
          result.stoppedAtBytes = true;
          break;
        }
        result.bytesSearched += size;
        text = decoder.decode(readBounded(ws, opened.file, file, opened.info));
      } catch {
        continue;
      } finally {
        opened.file.close();
      }
      if (text.slice(0, BINARY_PROBE_CHARS).includes("\0")) continue;
      const lines = text.split("\n");
      for (let index = 0; index < lines.length; index++) {
        const line = lines[index].endsWith("\r") ? lines[index].slice(0, -1) : lines[index];
        // Matched on a bounded prefix, so that a pathological pattern meets bounded input.
        if (!regex.test(line.length > MAX_MATCHED_LINE ? line.slice(0, MAX_MATCHED_LINE) : line)) continue;
        if (result.matches.length === limit) {
          result.truncated = true;
          await finishWalk(files);
          break search;
        }
        const shown = line.length > maxLineLength ? `${line.slice(0, maxLineLength)}...` : line;
        result.matches.push({ path: relative(ws, file), line: index + 1, text: shown, length: line.length });
      }
    }
    result.isComplete = walk.isComplete;
    return result;
  }

  function positiveInteger(value: unknown, fallback: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      throw new RunnerError("InvalidRequest", `Limit ${JSON.stringify(value)} must be a positive integer`);
    }
    return value;
  }

  // Answers at once, or with a promise for the operations that stay asynchronous.
  function handle(request: Record<string, unknown>): unknown {
    if (request.op === "ping") return "pong";
    if (request.op === "serve") return serve(request) && null;
    if (request.op === "release") {
      workspaces.delete(request.root as string);
      return null;
    }
    const ws = workspaceOf(request);
    switch (request.op) {
      case "readFile":
        return decoder.decode(readChecked(ws, lexical(ws, request.path)));
      case "writeFile":
        return writeText(ws, request.path, request.content);
      case "stat": {
        const requested = lexical(ws, request.path);
        let link: Deno.FileInfo;
        if (requested === ws.root) link = Deno.lstatSync(ws.root);
        else link = Deno.lstatSync(enterParent(ws, requested, false).name);
        const info = link.isSymlink ? statFollowing(ws, requested) : link;
        return {
          isFile: info.isFile,
          isDirectory: info.isDirectory,
          isSymlink: link.isSymlink,
          size: info.size,
          modifiedAt: info.mtime?.toISOString(),
        };
      }
      case "readdir": {
        const requested = lexical(ws, request.path);
        checkReal(ws, requested, requested, false);
        // Entered (links followed by the kernel, and where that led checked), then listed from inside.
        const real = enterDirectory(ws, requested, false);
        checkReal(ws, requested, real, false);
        const entries = [];
        for (const entry of Deno.readDirSync(".")) {
          const path = `${real}/${entry.name}`;
          if (matchesEntry(ws, path, ws.hiddenPaths) !== undefined) continue;
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
        try {
          statFollowing(ws, lexical(ws, request.path));
          return true;
        } catch (error) {
          if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) return false;
          throw error;
        }
      }
      case "mkdir": {
        const requested = lexical(ws, request.path);
        checkReal(ws, requested, requested, true);
        checkReal(ws, requested, enterDirectory(ws, requested, true, true), true);
        return null;
      }
      case "remove": {
        const requested = lexical(ws, request.path);
        const refuseRoot = () =>
          denied(`removal of the workspace root`, "Removing the workspace root is refused: remove what is inside it");
        if (requested === ws.root) throw refuseRoot();
        const { name, real } = enterParent(ws, requested, true);
        if (real === ws.root) throw refuseRoot();
        // Removed relative to the checked directory; a recursive removal never follows the links it meets.
        Deno.removeSync(name, { recursive: request.recursive === true });
        return null;
      }
      case "glob":
        return glob(ws, request);
      case "grep":
        return grep(ws, request);
      default:
        throw new RunnerError("InvalidRequest", `Unknown operation ${JSON.stringify(request.op)}`);
    }
  }

  // The file is opened (and checked) at once; the bytes go out asynchronously, so that several writes overlap.
  async function writeText(ws: Workspace, path: unknown, content: unknown): Promise<null> {
    if (typeof content !== "string") throw new RunnerError("InvalidRequest", "Content must be a string");
    const file = openForWrite(ws, lexical(ws, path));
    try {
      await file.truncate(0);
      const bytes = encoder.encode(content);
      for (let written = 0; written < bytes.length;) written += await file.write(bytes.subarray(written));
    } finally {
      file.close();
    }
    return null;
  }

  function describe(error: unknown, ws: Workspace | undefined): Record<string, unknown> {
    if (error instanceof RunnerError) {
      return { name: error.name, message: error.message, denied: error.denied, option: error.option };
    }
    if (error instanceof Error) {
      // Messages from Deno name host paths; the parent's messages name workspace paths instead.
      const code = (error as { code?: unknown }).code;
      const root = ws?.root ?? "\0";
      const message = error.message.split(`${root}/`).join("").split(root).join(".");
      return { name: error.name, message, code: typeof code === "string" ? code : undefined };
    }
    return { name: "Error", message: String(error) };
  }

  // Replies to the requests of one chunk are written together, so that a burst of requests costs one write instead of
  // one each. The write blocks: the parent reads without pause, and this process has nothing else to do meanwhile.
  const outgoing: string[] = [];
  let flushScheduled = false;

  function reply(message: Record<string, unknown>): void {
    outgoing.push(JSON.stringify(message));
    if (flushScheduled) return;
    flushScheduled = true;
    queueMicrotask(flush);
  }

  function flush(): void {
    flushScheduled = false;
    if (outgoing.length === 0) return;
    const bytes = encoder.encode(`${outgoing.join("\n")}\n`);
    outgoing.length = 0;
    try {
      for (let written = 0; written < bytes.length;) written += Deno.stdout.writeSync(bytes.subarray(written));
    } catch {
      // The parent is gone; nobody is left to answer.
      Deno.exit(1);
    }
  }

  const inFlight = new Set<Promise<void>>();

  function answer(line: string): void {
    let id: unknown = null;
    let root: unknown = undefined;
    try {
      const request = JSON.parse(line);
      if (typeof request !== "object" || request === null) throw new RunnerError("InvalidRequest", "Not an object");
      id = request.id;
      root = request.root;
      const value = handle(request);
      if (!(value instanceof Promise)) return reply({ id, ok: true, value });
      const task = value.then(
        (value) => reply({ id, ok: true, value }),
        (error) => reply({ id, ok: false, error: describe(error, workspaces.get(request.root)) }),
      );
      inFlight.add(task);
      task.finally(() => inFlight.delete(task));
    } catch (error) {
      reply({ id, ok: false, error: describe(error, workspaces.get(root as string)) });
    }
  }

  // While nothing asynchronous is under way there is nothing to do but wait for the parent, so stdin is then read
  // synchronously, which answers sooner than a read handed to a thread pool. Only the new chunk is searched for a
  // newline (JSON text has none inside), so a long line costs time linear in its length however many chunks it spans.
  const chunk = new Uint8Array(64 * 1024);
  const partial: string[] = [];
  const stdinDecoder = new TextDecoder();
  for (;;) {
    const count = inFlight.size === 0 ? Deno.stdin.readSync(chunk) : await Deno.stdin.read(chunk);
    if (count === null) break;
    const text = stdinDecoder.decode(chunk.subarray(0, count), { stream: true });
    let start = 0;
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
      partial.push(text.slice(start, newline));
      const line = partial.join("");
      partial.length = 0;
      start = newline + 1;
      if (line !== "") answer(line);
    }
    if (start < text.length) partial.push(text.slice(start));
    // A synchronous read next would hold back the microtask that writes these replies.
    flush();
  }
  await Promise.allSettled([...inFlight]);
}

/**
 * The runner's program text, ready to put into a `data:` URL.
 *
 * @returns JavaScript source that runs {@linkcode runnerMain} when loaded.
 */
export function runnerProgram(): string {
  // The runner can import nothing, so the glob functions travel as source text ahead of it.
  const glob = [globSource, matchingBrace, splitAlternatives].map((fn) => fn.toString()).join("\n");
  return `${glob}\n(${runnerMain.toString()})();\n`;
}
