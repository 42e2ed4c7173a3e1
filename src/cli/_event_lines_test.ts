import assert from "node:assert/strict";
import type { FlueEvent } from "../events/event_types.ts";
import { EventLineWriter } from "./_event_lines.ts";
import { styles } from "./terminal.ts";

const base = { runId: "r", agent: "helper", instanceId: "default", timestamp: "2026-01-02T03:04:05.678Z" };

Deno.test("EventLineWriter joins the text deltas of a turn into one line and describes tools and logs", () => {
  const lines: string[] = [];
  const writer = new EventLineWriter((line) => lines.push(line), styles(false));
  const events = [
    { ...base, eventIndex: 0, type: "tool_start", toolName: "read", toolCallId: "c1", args: { path: "a.txt" } },
    { ...base, eventIndex: 1, type: "text_delta", turnId: "t1", text: "Hello " },
    { ...base, eventIndex: 2, type: "text_delta", turnId: "t1", text: "world\n" },
    { ...base, eventIndex: 3, type: "text_delta", turnId: "t2", text: "Next turn" },
    { ...base, eventIndex: 4, type: "log", level: "info", message: "done" },
  ] as FlueEvent[];
  for (const event of events) writer.push(event);
  writer.flush();
  assert.deepEqual(lines, [
    '   #0 03:04:05.678 tool_start       helper read {"path":"a.txt"}\n',
    '   #1 03:04:05.678 text             helper "Hello world\\n"\n',
    '   #3 03:04:05.678 text             helper "Next turn"\n',
    "   #4 03:04:05.678 log              helper [info] done\n",
  ]);
});
