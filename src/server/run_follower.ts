/**
 * Follows a run's event log: replays what is stored after a position, then tails new events until `run_end`. Works
 * for runs of this process (woken by the {@linkcode RunHub}) and of any other process sharing the store (by polling),
 * and for runs that ended long ago or before a restart.
 *
 * @module
 */

import type { FlueEvent } from "../events/event_types.ts";
import type { Store } from "../store/store.ts";
import type { RunHub } from "./run_hub.ts";

/** Options of {@linkcode followRun}. */
export interface FollowRunOptions {
  /** Start after this `eventIndex`; -1 for the whole log. */
  after: number;
  /** How often to look at the store when nothing is published in process. */
  pollMs: number;
  /** Stops following. */
  signal: AbortSignal;
}

const PAGE = 500;

/**
 * Yields a run's events in order from a position, until its `run_end` (or until the run is no longer running and
 * everything stored was yielded, for a run whose process died).
 *
 * @param store Where the run is recorded.
 * @param hub Live events of runs in this process.
 * @param runId The run.
 * @param options The position, poll interval and stop signal.
 * @returns The events.
 */
export async function* followRun(
  store: Store,
  hub: RunHub,
  runId: string,
  options: FollowRunOptions,
): AsyncGenerator<FlueEvent> {
  let next = options.after + 1;
  while (!options.signal.aborted) {
    let batch = hub.eventsFrom(runId, next);
    if (batch.length === 0) batch = await store.listRunEvents(runId, { after: next - 1, limit: PAGE });
    for (const event of batch) {
      if (event.eventIndex < next) continue;
      yield event;
      next = event.eventIndex + 1;
      if (event.type === "run_end") return;
    }
    if (batch.length > 0) continue;
    const run = await store.getRun(runId);
    // A finished run has every event stored before its status changes, so an empty read now means the end.
    if (!run || run.status !== "running") {
      const rest = await store.listRunEvents(runId, { after: next - 1, limit: PAGE });
      if (rest.length === 0) return;
      continue;
    }
    await hub.wait(runId, options.pollMs, options.signal);
  }
}
