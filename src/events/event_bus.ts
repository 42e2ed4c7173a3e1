/**
 * The event bus of one agent instance or one workflow run: gives each event its index and time, redacts secrets, and
 * delivers it to every subscriber in order.
 *
 * @module
 */

import type { Redactor } from "../telemetry/redactor.ts";
import type { EventCallback, EventCorrelation, EventPayload, FlueEvent } from "./event_types.ts";

/** The correlation fields a caller supplies; the bus adds `eventIndex` and `timestamp`. */
export type EventContext = Omit<EventCorrelation, "eventIndex" | "timestamp">;

/** Delivers events to subscribers in order, numbering them. */
export class EventBus {
  #nextIndex = 0;
  readonly #listeners = new Set<EventCallback>();
  readonly #redactor?: Redactor;

  /**
   * @param redactor Removes secret values from every event before delivery.
   */
  constructor(redactor?: Redactor) {
    this.#redactor = redactor;
  }

  /**
   * Adds a subscriber.
   *
   * @param listener Called with each event, in order. A listener that throws is reported on stderr and kept.
   * @returns A function that removes the subscriber.
   */
  subscribe(listener: EventCallback): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Emits an event.
   *
   * @param payload The event's type and fields.
   * @param context Its correlation fields.
   * @returns The event as delivered.
   */
  emit(payload: EventPayload, context: EventContext): FlueEvent {
    let event = {
      ...context,
      ...payload,
      eventIndex: this.#nextIndex++,
      timestamp: new Date().toISOString(),
    } as FlueEvent;
    if (this.#redactor && !this.#redactor.isEmpty) event = this.#redactor.redact(event);
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        console.error(`An event listener threw on "${event.type}":`, error);
      }
    }
    return event;
  }
}
