/**
 * The file system view the memory sandbox's simulated shell sees: the sandbox's in-memory files, read-only unless the
 * policy allows writes.
 *
 * @module
 */

import type {
  BufferEncoding,
  ByteString,
  CpOptions,
  FileContent,
  FsStat,
  IFileSystem,
  InMemoryFs,
  MkdirOptions,
  RmOptions,
} from "just-bash";

/** `just-bash` reads these through optional methods; typed here because the package does not export their types. */
type DirentEntry = { name: string; isFile: boolean; isDirectory: boolean; isSymbolicLink: boolean };
type ReadFileOptions = { encoding?: BufferEncoding | null };
type WriteFileOptions = { encoding?: BufferEncoding };

/** Writes to the null device succeed everywhere and are thrown away, as on a real system. */
const NULL_DEVICE = "/dev/null";

/**
 * Delegates to an in-memory file system and refuses every change when `allowWrite` is off. It deliberately has no
 * synchronous methods: `just-bash` would otherwise rewrite its default layout and command stubs on every shell it
 * creates over this view.
 */
export class ShellFileSystem implements IFileSystem {
  readonly #inner: InMemoryFs;
  readonly #allowWrite: boolean;

  /**
   * @param inner The sandbox's file system.
   * @param allowWrite Whether commands may change files.
   */
  constructor(inner: InMemoryFs, allowWrite: boolean) {
    this.#inner = inner;
    this.#allowWrite = allowWrite;
  }

  #refuse(operation: string, path: string): void {
    if (this.#allowWrite) return;
    // The message follows the errno style the shell's commands print, so `cp` and `>` report it as a normal failure.
    throw new Error(`EROFS: read-only file system (the policy has allowWrite off), ${operation} '${path}'`);
  }

  readFile(path: string, options?: ReadFileOptions | BufferEncoding): Promise<string> {
    return this.#inner.readFile(path, options);
  }

  readFileBuffer(path: string): Promise<Uint8Array> {
    return this.#inner.readFileBuffer(path);
  }

  readFileBytes(path: string): Promise<ByteString> {
    return this.#inner.readFileBytes(path);
  }

  async writeFile(path: string, content: FileContent, options?: WriteFileOptions | BufferEncoding): Promise<void> {
    if (path === NULL_DEVICE) return;
    this.#refuse("open", path);
    await this.#inner.writeFile(path, content, options);
  }

  async appendFile(path: string, content: FileContent, options?: WriteFileOptions | BufferEncoding): Promise<void> {
    if (path === NULL_DEVICE) return;
    this.#refuse("open", path);
    await this.#inner.appendFile(path, content, options);
  }

  exists(path: string): Promise<boolean> {
    return this.#inner.exists(path);
  }

  stat(path: string): Promise<FsStat> {
    return this.#inner.stat(path);
  }

  lstat(path: string): Promise<FsStat> {
    return this.#inner.lstat(path);
  }

  async mkdir(path: string, options?: MkdirOptions): Promise<void> {
    this.#refuse("mkdir", path);
    await this.#inner.mkdir(path, options);
  }

  readdir(path: string): Promise<string[]> {
    return this.#inner.readdir(path);
  }

  readdirWithFileTypes(path: string): Promise<DirentEntry[]> {
    return this.#inner.readdirWithFileTypes(path);
  }

  async rm(path: string, options?: RmOptions): Promise<void> {
    this.#refuse("rm", path);
    await this.#inner.rm(path, options);
  }

  async cp(source: string, destination: string, options?: CpOptions): Promise<void> {
    this.#refuse("cp", destination);
    await this.#inner.cp(source, destination, options);
  }

  async mv(source: string, destination: string): Promise<void> {
    this.#refuse("mv", source);
    await this.#inner.mv(source, destination);
  }

  resolvePath(base: string, path: string): string {
    return this.#inner.resolvePath(base, path);
  }

  getAllPaths(): string[] {
    return this.#inner.getAllPaths();
  }

  async chmod(path: string, mode: number): Promise<void> {
    this.#refuse("chmod", path);
    await this.#inner.chmod(path, mode);
  }

  async symlink(target: string, linkPath: string): Promise<void> {
    this.#refuse("symlink", linkPath);
    await this.#inner.symlink(target, linkPath);
  }

  async link(existingPath: string, newPath: string): Promise<void> {
    this.#refuse("link", newPath);
    await this.#inner.link(existingPath, newPath);
  }

  readlink(path: string): Promise<string> {
    return this.#inner.readlink(path);
  }

  realpath(path: string): Promise<string> {
    return this.#inner.realpath(path);
  }

  async utimes(path: string, atime: Date, mtime: Date): Promise<void> {
    this.#refuse("utimes", path);
    await this.#inner.utimes(path, atime, mtime);
  }
}
