/**
 * Live events of the workflow runs this process is executing, so that followers see each event as it is emitted
 * instead of at their next poll of the store. Runs of other processes are followed by polling alone.
 *
 * @module
 */

import type { FlueEvent } from "../events/event_types.ts";

/** How many recent events of one run are kept in memory; older ones are read from the store. */
const MAX_BUFFERED_EVENTS = 2000;

interface LiveRun {
  events: FlueEvent[];
  waiters: Set<() => void>;
}

/** In-process publication of run events. */
export class RunHub {
  readonly #runs = new Map<string, LiveRun>();

  /**
   * Publishes an event of a run started in this process.
   *
   * @param event The event; ignored without a `runId`.
   */
  publish(event: FlueEvent): void {
    if (!event.runId) return;
    let run = this.#runs.get(event.runId);
    if (!run) {
      run = { events: [], waiters: new Set() };
      this.#runs.set(event.runId, run);
    }
    run.events.push(event);
    if (run.events.length > MAX_BUFFERED_EVENTS) run.events.shift();
    this.#wake(run);
  }

  /**
   * Forgets a run once it has ended and everything is stored; followers then read the store.
   *
   * @param runId The run.
   */
  finish(runId: string): void {
    const run = this.#runs.get(runId);
    if (!run) return;
    this.#runs.delete(runId);
    this.#wake(run);
  }

  /**
   * The buffered events from an index on, when the buffer still holds that index.
   *
   * @param runId The run.
   * @param index The first wanted `eventIndex`.
   * @returns The events, or an empty list when the store must be asked.
   */
  eventsFrom(runId: string, index: number): FlueEvent[] {
    const events = this.#runs.get(runId)?.events;
    if (!events || events.length === 0 || events[0].eventIndex > index) return [];
    return events.slice(index - events[0].eventIndex);
  }

  /**
   * Waits for the next event of a run, at most `ms`.
   *
   * @param runId The run.
   * @param ms The longest wait.
   * @param signal Ends the wait early.
   */
  wait(runId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const run = this.#runs.get(runId);
      const done = () => {
        clearTimeout(timer);
        run?.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      run?.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  #wake(run: LiveRun): void {
    for (const waiter of [...run.waiters]) waiter();
  }
}
