/**
 * Commands the remote sandbox layer runs on a machine for itself: confining a path (the machine resolves its own
 * symlinks), and waiting for a command no longer than a grace period once it is stopped.
 *
 * @module
 */

import { PolicyDeniedError } from "../../errors.ts";
import { toWorkspaceRelative } from "../workspace_paths.ts";
import type { RemoteMachine } from "./remote_machine.ts";

/** After an abort, how long a provider gets to stop a command before its partial output is returned anyway. */
const STOP_GRACE_MS = 5_000;

/** The path to confine and where. */
export interface ConfineRequest {
  /** The workspace directory on the machine. */
  root: string;
  /** The path, absolute on the machine and lexically inside `root`. */
  absolute: string;
  /** The path as the caller gave it, for the message. */
  path: string;
  /** How long the machine may take. */
  timeoutMs: number;
}

/**
 * Refuses a path that leaves the workspace through a symlink on the machine. The machine resolves it (`realpath -m`
 * relative to the workspace, so a provider's layout never matters), since only it can see its links.
 *
 * @param machine The machine.
 * @param request The path and workspace.
 * @returns Resolves when the path stays inside.
 * @throws {PolicyDeniedError} When it leads out, or cannot be resolved.
 */
export async function confineToWorkspace(machine: RemoteMachine, request: ConfineRequest): Promise<void> {
  if (request.absolute === request.root) return;
  let resolved = "";
  const { exitCode } = await machine.run(
    { argv: ["realpath", "-m", "--relative-to=.", "--", toWorkspaceRelative(request.root, request.absolute)] },
    {
      cwd: request.root,
      env: {},
      timeoutMs: request.timeoutMs,
      signal: new AbortController().signal,
      onOutput: (stream, chunk) => {
        if (stream === "stdout") resolved += chunk;
      },
    },
  );
  resolved = resolved.trim();
  const inside = resolved !== "" && resolved !== ".." && !resolved.startsWith("../") && !resolved.startsWith("/");
  if (exitCode === 0 && inside) return;
  throw new PolicyDeniedError(
    `path "${request.path}"`,
    "none",
    `Path "${request.path}" leaves the workspace through a symlink: paths must stay inside the workspace`,
  );
}

/**
 * Waits for a command, but no longer than a grace period once it is stopped: a provider that never answers loses.
 *
 * @param run The running command.
 * @param signal Aborted when the command is stopped.
 * @returns Its exit code, or -1 when it was stopped and did not answer in time.
 */
export async function untilStoppedOrDone(
  run: Promise<{ exitCode: number }>,
  signal: AbortSignal,
): Promise<{ exitCode: number }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    timer = setTimeout(() => giveUp({ exitCode: -1 }), STOP_GRACE_MS);
  };
  let giveUp!: (value: { exitCode: number }) => void;
  const gaveUp = new Promise<{ exitCode: number }>((resolve) => (giveUp = resolve));
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await Promise.race([
      run.catch((error) => {
        // A command stopped on purpose may end in the provider's own abort error: its output so far still counts.
        if (signal.aborted) return { exitCode: -1 };
        throw error;
      }),
      gaveUp,
    ]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}
