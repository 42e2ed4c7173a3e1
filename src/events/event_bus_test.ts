import assert from "node:assert/strict";
import { Redactor } from "../telemetry/redactor.ts";
import { EventBus } from "./event_bus.ts";
import type { FlueEvent } from "./event_types.ts";

const context = { agent: "a", instanceId: "i", session: "s" };

Deno.test("EventBus numbers events in order and stamps their time", () => {
  const bus = new EventBus();
  const seen: FlueEvent[] = [];
  bus.subscribe((event) => seen.push(event));
  bus.emit({ type: "idle" }, context);
  bus.emit({ type: "log", level: "info", message: "hi" }, context);
  assert.deepEqual(seen.map((event) => event.eventIndex), [0, 1]);
  assert.ok(!Number.isNaN(Date.parse(seen[0].timestamp)));
  assert.equal(seen[1].agent, "a");
});

Deno.test("EventBus keeps delivering when one listener throws", () => {
  const bus = new EventBus();
  const seen: string[] = [];
  const originalError = console.error;
  const reported: unknown[] = [];
  console.error = (...args: unknown[]) => void reported.push(args);
  try {
    bus.subscribe(() => {
      throw new Error("listener bug");
    });
    bus.subscribe((event) => seen.push(event.type));
    bus.emit({ type: "idle" }, context);
  } finally {
    console.error = originalError;
  }
  assert.deepEqual(seen, ["idle"]);
  assert.equal(reported.length, 1);
});

Deno.test("EventBus redacts secret values before any listener sees them, and unsubscribe stops delivery", () => {
  const bus = new EventBus(new Redactor({ TOKEN: "tok-123456" }));
  const seen: FlueEvent[] = [];
  const unsubscribe = bus.subscribe((event) => seen.push(event));
  bus.emit({ type: "log", level: "info", message: "using tok-123456" }, context);
  unsubscribe();
  bus.emit({ type: "idle" }, context);
  assert.equal(seen.length, 1);
  assert.equal((seen[0] as { message: string }).message, "using [REDACTED:TOKEN]");
});
