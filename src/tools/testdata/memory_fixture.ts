/**
 * Test fixtures for the tools: a memory sandbox seeded with given files, and a tool context that records events.
 *
 * @module
 */

import { dirname, join } from "node:path";
import type { EventPayload } from "../../events/event_types.ts";
import { createMemorySandbox } from "../../sandbox/memory_sandbox.ts";
import { DENY_ALL_POLICY, type Sandbox, type SandboxPolicy } from "../../sandbox/sandbox.ts";
import type { ToolContext } from "../tool.ts";

/**
 * Creates a memory sandbox holding `files` under `policy` (deny-all plus the given options). The files are seeded
 * from a temporary directory, so a read-only sandbox can hold them too.
 *
 * @param files Paths relative to the workspace and their contents.
 * @param policy Policy options to turn on.
 * @returns The sandbox.
 */
export async function memorySandboxWith(
  files: Record<string, string | Uint8Array>,
  policy: Partial<SandboxPolicy> = {},
): Promise<Sandbox> {
  const seed = await Deno.makeTempDir();
  try {
    for (const [path, content] of Object.entries(files)) {
      await Deno.mkdir(dirname(join(seed, path)), { recursive: true });
      if (typeof content === "string") await Deno.writeTextFile(join(seed, path), content);
      else await Deno.writeFile(join(seed, path), content);
    }
    return await createMemorySandbox({
      projectDir: seed,
      stateDir: join(seed, ".flue-state"),
      agent: "test",
      instanceId: "1",
      session: "main",
      policy: { ...DENY_ALL_POLICY, ...policy },
      seedFrom: seed,
    });
  } finally {
    await Deno.remove(seed, { recursive: true });
  }
}

/**
 * A tool context whose events land in `events`.
 *
 * @param events Where emitted events go.
 * @param signal The call's signal.
 * @returns The context.
 */
export function toolContext(events: EventPayload[] = [], signal?: AbortSignal): ToolContext {
  return { signal: signal ?? new AbortController().signal, toolCallId: "call-1", emit: (event) => events.push(event) };
}
