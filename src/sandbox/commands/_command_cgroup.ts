/**
 * A control group per command, so the kernel bounds the whole process tree even when the host runs as root: `pids.max`
 * (a fork past it fails at once), a memory limit for the tree (its `/tmp` included, a tmpfs charged to the group) and a
 * CPU quota. cgroup v2 is used where this process's group delegates the controllers; otherwise the v1 `pids`, `memory`
 * and `cpu` hierarchies where they are mounted and writable. Each group is made below this process's own group in its
 * hierarchy, so a limit set on the host for Flue itself still applies around it.
 *
 * A command joins its group before anything of it runs: it is started through `sh`, which writes its own pid into the
 * group's `cgroup.procs` and then executes the command, so every process it ever starts is counted.
 *
 * @module
 */

import { findExecutable } from "./_bubblewrap_host.ts";

/** Bounds a command group applies to the whole command tree. */
export interface CgroupLimits {
  /** Processes and threads at once. */
  maxProcesses: number;
  /** Memory of the whole tree, page cache and tmpfs included. */
  maxTreeMemoryBytes: number;
  /** CPU time per wall-clock second, in cores (1 = one core). */
  maxCpus: number;
}

/** Per-process bounds, set by {@linkcode CommandCgroup.wrap} with `ulimit` before the command starts. */
export interface ProcessLimits {
  /** Writable memory per process (`RLIMIT_DATA`). */
  maxMemoryBytes: number;
  /** Largest file a process may write (`RLIMIT_FSIZE`). */
  maxFileSizeBytes: number;
}

/** Which controllers this host lets Flue use, and where the command groups go. */
export interface CgroupSupport {
  /** `2` for the unified hierarchy, `1` for the per-controller hierarchies. */
  version: 1 | 2;
  /** The parent directory of new groups for each controller; one directory for all of them with v2. */
  parents: { pids?: string; memory?: string; cpu?: string };
}

const CGROUP_ROOT = "/sys/fs/cgroup";
const CPU_PERIOD_US = 100_000;
/** How often `pids.events` is read while a command runs: a small file, so cheap. */
const POLL_INTERVAL_MS = 25;

let detected: CgroupSupport | null | undefined;
let groupCount = 0;

/**
 * Finds the controllers this process may use for command groups. The answer is cached for the process.
 *
 * @returns The support found, or undefined when no `pids` controller can be used (then the caller falls back).
 */
export function detectCgroupSupport(): CgroupSupport | undefined {
  if (detected === undefined) detected = probe() ?? null;
  return detected ?? undefined;
}

/** Forgets the cached detection, for tests that change the environment. */
export function resetCgroupSupport(): void {
  detected = undefined;
}

function probe(): CgroupSupport | undefined {
  if (Deno.build.os !== "linux") return undefined;
  let membership: string;
  try {
    membership = Deno.readTextFileSync("/proc/self/cgroup");
  } catch {
    return undefined;
  }
  const groups = new Map<string, string>();
  for (const line of membership.split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (match === null) continue;
    for (const controller of match[1].split(",")) groups.set(controller, match[2]);
  }
  return probeVersion2(groups.get("")) ?? probeVersion1(groups);
}

function probeVersion2(ownPath: string | undefined): CgroupSupport | undefined {
  if (ownPath === undefined) return undefined;
  for (const mount of [CGROUP_ROOT, `${CGROUP_ROOT}/unified`]) {
    const own = joinPath(mount, ownPath);
    const delegated = readWords(`${own}/cgroup.subtree_control`);
    if (delegated === undefined) continue;
    if (!delegated.has("pids")) {
      const available = readWords(`${own}/cgroup.controllers`) ?? new Set();
      const wanted = ["pids", "memory", "cpu"].filter((name) => available.has(name));
      if (!wanted.includes("pids")) continue;
      try {
        // Succeeds only where this group may have children with controllers (the root, or a delegated leaf).
        Deno.writeTextFileSync(`${own}/cgroup.subtree_control`, wanted.map((name) => `+${name}`).join(" "));
      } catch {
        continue;
      }
    }
    const enabled = readWords(`${own}/cgroup.subtree_control`) ?? new Set();
    if (!enabled.has("pids") || !isWritableGroup(own)) continue;
    return {
      version: 2,
      parents: {
        pids: own,
        memory: enabled.has("memory") ? own : undefined,
        cpu: enabled.has("cpu") ? own : undefined,
      },
    };
  }
  return undefined;
}

function probeVersion1(groups: Map<string, string>): CgroupSupport | undefined {
  const parent = (controller: string, mount: string): string | undefined => {
    const own = groups.get(controller);
    if (own === undefined) return undefined;
    const path = joinPath(`${CGROUP_ROOT}/${mount}`, own);
    return isWritableGroup(path) ? path : undefined;
  };
  const pids = parent("pids", "pids");
  if (pids === undefined) return undefined;
  return { version: 1, parents: { pids, memory: parent("memory", "memory"), cpu: parent("cpu", "cpu") } };
}

/** Whether a child group can be made here: tried for real, since mode bits say little about cgroupfs. */
function isWritableGroup(path: string): boolean {
  const probePath = `${path}/flue-probe-${Deno.pid}`;
  try {
    Deno.mkdirSync(probePath);
    Deno.removeSync(probePath);
    return true;
  } catch {
    return false;
  }
}

/** The kernel's bounds around one running command. */
export class CommandCgroup {
  readonly #support: CgroupSupport;
  readonly #directories: readonly string[];
  readonly #pidsDirectory: string;
  readonly #memoryDirectory?: string;

  private constructor(support: CgroupSupport, directories: string[], pids: string, memory?: string) {
    this.#support = support;
    this.#directories = directories;
    this.#pidsDirectory = pids;
    this.#memoryDirectory = memory;
  }

  /**
   * Makes the groups for one command and sets their limits.
   *
   * @param limits The bounds.
   * @returns The group, or undefined when the host offers no usable `pids` controller.
   */
  static create(limits: Readonly<CgroupLimits>): CommandCgroup | undefined {
    const support = detectCgroupSupport();
    if (support === undefined) return undefined;
    const name = `flue-${Deno.pid}-${++groupCount}`;
    const { pids, memory, cpu } = support.parents;
    const made: string[] = [];
    const make = (parent: string | undefined): string | undefined => {
      if (parent === undefined) return undefined;
      const path = `${parent}/${name}`;
      if (!made.includes(path)) {
        Deno.mkdirSync(path);
        made.push(path);
      }
      return path;
    };
    try {
      const pidsDirectory = make(pids)!;
      const memoryDirectory = make(memory);
      const cpuDirectory = make(cpu);
      const quota = String(Math.max(1000, Math.round(limits.maxCpus * CPU_PERIOD_US)));
      if (support.version === 2) {
        Deno.writeTextFileSync(`${pidsDirectory}/pids.max`, String(limits.maxProcesses));
        if (memoryDirectory !== undefined) {
          Deno.writeTextFileSync(`${memoryDirectory}/memory.max`, String(limits.maxTreeMemoryBytes));
          writeIfPresent(`${memoryDirectory}/memory.swap.max`, "0");
        }
        if (cpuDirectory !== undefined) Deno.writeTextFileSync(`${cpuDirectory}/cpu.max`, `${quota} ${CPU_PERIOD_US}`);
      } else {
        Deno.writeTextFileSync(`${pidsDirectory}/pids.max`, String(limits.maxProcesses));
        if (memoryDirectory !== undefined) {
          Deno.writeTextFileSync(`${memoryDirectory}/memory.limit_in_bytes`, String(limits.maxTreeMemoryBytes));
        }
        if (cpuDirectory !== undefined) {
          Deno.writeTextFileSync(`${cpuDirectory}/cpu.cfs_period_us`, String(CPU_PERIOD_US));
          Deno.writeTextFileSync(`${cpuDirectory}/cpu.cfs_quota_us`, quota);
        }
      }
      return new CommandCgroup(support, made, pidsDirectory, memoryDirectory);
    } catch (error) {
      for (const path of made.reverse()) ignoreFailure(() => Deno.removeSync(path));
      throw new Error(`Could not set up the command's control group "${name}"`, { cause: error });
    }
  }

  /**
   * Wraps argv so the command joins the groups before it runs anything, and sets the per-process limits there too
   * (with `ulimit`, whose POSIX units are kilobytes for `-d` and 512-byte blocks for `-f`), which saves starting
   * `prlimit` for every command.
   *
   * @param argv The command, program first.
   * @param limits Per-process limits to set before the command starts; none when omitted.
   * @returns The argv to spawn.
   */
  wrap(argv: readonly string[], limits?: Readonly<ProcessLimits>): string[] {
    const shell = findExecutable("sh") ?? "/bin/sh";
    const steps = this.#directories.map((path) => `echo $$ > ${path}/cgroup.procs`);
    if (limits !== undefined) {
      const kilobytes = Math.floor(limits.maxMemoryBytes / 1024);
      const blocks = Math.floor(limits.maxFileSizeBytes / 512);
      steps.push(`ulimit -d ${kilobytes} && ulimit -f ${blocks} && ulimit -c 0`);
    }
    return [shell, "-c", `${steps.join(" && ")} && exec "$0" "$@"`, ...argv];
  }

  /**
   * Calls `onRefused` once when the kernel refuses a fork because the group is full. A program such as bash retries a
   * refused fork for seconds, so the caller ends the command rather than letting it spin until its timeout.
   *
   * @param onRefused Called at most once.
   * @returns A handle to stop watching.
   */
  watchRefusedForks(onRefused: () => void): { stop(): void } {
    let isStopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      const refused = await readCounter(`${this.#pidsDirectory}/pids.events`, "max");
      if (isStopped) return;
      if (refused > 0) {
        isStopped = true;
        onRefused();
        return;
      }
      timer = setTimeout(tick, POLL_INTERVAL_MS);
    };
    timer = setTimeout(tick, POLL_INTERVAL_MS);
    return {
      stop(): void {
        isStopped = true;
        clearTimeout(timer);
      },
    };
  }

  /**
   * Whether the kernel killed a process of the group for passing the memory limit.
   *
   * @returns True once the group counts an out-of-memory kill.
   */
  async hasOutOfMemoryKill(): Promise<boolean> {
    if (this.#memoryDirectory === undefined) return false;
    const file = this.#support.version === 2 ? "memory.events" : "memory.oom_control";
    return (await readCounter(`${this.#memoryDirectory}/${file}`, "oom_kill")) > 0;
  }

  /** Kills every process still in the group. */
  killAll(): void {
    if (this.#support.version === 2) {
      try {
        Deno.writeTextFileSync(`${this.#pidsDirectory}/cgroup.kill`, "1");
        return;
      } catch {
        // Kernels before 5.14 have no cgroup.kill: kill the members one by one.
      }
    }
    for (const pid of listPids(`${this.#pidsDirectory}/cgroup.procs`)) ignoreFailure(() => Deno.kill(pid, "SIGKILL"));
  }

  /**
   * Kills what is left and removes the groups, waiting briefly for the kernel to reap the last processes.
   *
   * @returns When the groups are gone, or after about two seconds if the kernel still holds them.
   */
  async remove(): Promise<void> {
    const deadline = performance.now() + 2_000;
    for (const path of [...this.#directories].reverse()) {
      while (true) {
        try {
          await Deno.remove(path);
          break;
        } catch (error) {
          if (error instanceof Deno.errors.NotFound || performance.now() > deadline) break;
          this.killAll();
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    }
  }
}

function joinPath(mount: string, own: string): string {
  return own === "/" ? mount : `${mount}${own}`;
}

function readWords(path: string): Set<string> | undefined {
  try {
    return new Set(Deno.readTextFileSync(path).split(/\s+/).filter((word) => word !== ""));
  } catch {
    return undefined;
  }
}

function writeIfPresent(path: string, value: string): void {
  ignoreFailure(() => Deno.writeTextFileSync(path, value));
}

async function readCounter(path: string, key: string): Promise<number> {
  try {
    const line = (await Deno.readTextFile(path)).split("\n").find((text) => text.startsWith(`${key} `));
    return line === undefined ? 0 : Number(line.slice(key.length + 1)) || 0;
  } catch {
    return 0;
  }
}

function listPids(path: string): number[] {
  try {
    return Deno.readTextFileSync(path).split("\n").filter((line) => line !== "").map(Number);
  } catch {
    return [];
  }
}

function ignoreFailure(action: () => void): void {
  try {
    action();
  } catch {
    // Already gone, or not ours to change.
  }
}
