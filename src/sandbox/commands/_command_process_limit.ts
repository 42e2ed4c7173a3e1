/**
 * Bounds the number of processes in a bubblewrap sandbox when the host runs as root.
 *
 * `RLIMIT_NPROC` is counted per real user and the kernel never enforces it for uid 0, even behind a user namespace
 * mapping (`--unshare-user --uid 1000` still maps to host uid 0): 44 processes ran under `prlimit --nproc=20` in such
 * a sandbox. So for root the sandbox's own `/proc`, which lists only its pid namespace, is counted a few times a
 * second, and the sandbox is killed when it passes the limit. The sandbox runs in a new session, so the kernel's
 * autogroup scheduling keeps a fork bomb from starving the host while it is counted.
 *
 * @module
 */

const POLL_INTERVAL_MS = 20;

/** A running count of a sandbox's processes. */
export interface ProcessCountWatch {
  /** Stops counting. */
  stop(): void;
}

/**
 * Counts the processes of the sandbox whose `bwrap` has the given pid, and calls `onExceeded` once when there are
 * more than `maxProcesses`.
 *
 * @param bwrapPid The host pid of `bwrap`.
 * @param maxProcesses The limit.
 * @param onExceeded Called with the count seen.
 * @returns A handle to stop counting.
 */
export function watchProcessCount(
  bwrapPid: number,
  maxProcesses: number,
  onExceeded: (count: number) => void,
): ProcessCountWatch {
  let isStopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async (): Promise<void> => {
    const count = await countSandboxProcesses(bwrapPid, maxProcesses);
    if (isStopped) return;
    if (count !== undefined && count > maxProcesses) {
      isStopped = true;
      onExceeded(count);
      return;
    }
    timer = setTimeout(tick, POLL_INTERVAL_MS);
  };
  timer = setTimeout(tick, 0);
  return {
    stop(): void {
      isStopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * The host pid of the sandbox's init (pid 1 of its pid namespace), the only child of `bwrap`.
 *
 * @param bwrapPid The host pid of `bwrap`.
 * @returns The pid, or undefined when there is none (yet).
 */
export function sandboxInitPid(bwrapPid: number): number | undefined {
  try {
    const first = Deno.readTextFileSync(`/proc/${bwrapPid}/task/${bwrapPid}/children`).trim().split(" ")[0];
    return first === "" ? undefined : Number(first);
  } catch {
    return undefined;
  }
}

/**
 * Counts up to `stopAbove + 1` entries of the sandbox's `/proc`; undefined until the sandbox's root is in place (before
 * that, the path would show the host's `/proc`).
 */
async function countSandboxProcesses(bwrapPid: number, stopAbove: number): Promise<number | undefined> {
  try {
    const initPid = sandboxInitPid(bwrapPid);
    if (initPid === undefined) return undefined;
    const root = `/proc/${initPid}/root`;
    await Deno.stat(`${root}/workspace`);
    let count = 0;
    for await (const entry of Deno.readDir(`${root}/proc`)) {
      if (entry.isDirectory && /^[0-9]+$/.test(entry.name) && ++count > stopAbove) break;
    }
    return count;
  } catch {
    return undefined;
  }
}
