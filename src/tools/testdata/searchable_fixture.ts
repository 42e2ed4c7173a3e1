/**
 * Test fixtures for the search tools: the same files in a sandbox the tools must walk (`memory`) and in one that
 * searches itself (`virtual`, through its file runner), with a count of the calls each tool made, so that tests can show
 * both give the same output and which way each went.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { createVirtualSandbox } from "../../sandbox/virtual_sandbox.ts";
import { DENY_ALL_POLICY, type Sandbox } from "../../sandbox/sandbox.ts";
import { memorySandboxWith } from "./memory_fixture.ts";

/** A sandbox and how often each of its file methods was called. */
export interface CountedSandbox {
  /** The sandbox, as the tools receive it. */
  sandbox: Sandbox;
  /** Calls per method name, such as `readdir` or `grep`. */
  calls: Map<string, number>;
}

/** The same files in both kinds of sandbox. */
export interface SearchScene {
  /** A `memory` sandbox: no `glob` or `grep` methods, so the tools walk it. */
  walked: CountedSandbox;
  /** A `virtual` sandbox: its file runner searches in one request. */
  searching: CountedSandbox;
  /** The virtual sandbox's workspace on the host, for planting what its file API refuses to write. */
  workspace: string;
}

/**
 * Runs `test` with the same files in a memory and a virtual sandbox, and removes both afterwards.
 *
 * @param files Paths relative to the workspace and their contents.
 * @param test The test.
 * @returns A promise that settles when the test is done and everything is removed.
 */
export async function withSearchScene(
  files: Record<string, string | Uint8Array>,
  test: (scene: SearchScene) => Promise<void>,
): Promise<void> {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "flue_search_" }));
  let virtual: Sandbox | undefined;
  try {
    const seed = join(base, "seed");
    for (const [path, content] of Object.entries(files)) {
      await Deno.mkdir(dirname(join(seed, path)), { recursive: true });
      if (typeof content === "string") await Deno.writeTextFile(join(seed, path), content);
      else await Deno.writeFile(join(seed, path), content);
    }
    await Deno.mkdir(seed, { recursive: true });
    virtual = await createVirtualSandbox({
      projectDir: base,
      stateDir: join(base, ".flue"),
      agent: "test",
      instanceId: "1",
      session: "main",
      policy: DENY_ALL_POLICY,
      seedFrom: seed,
    });
    await test({
      walked: counted(await memorySandboxWith(files)),
      searching: counted(virtual),
      workspace: virtual.root,
    });
  } finally {
    await virtual?.close();
    await Deno.remove(base, { recursive: true });
  }
}

/**
 * Wraps a sandbox so that calls to its methods are counted.
 *
 * @param sandbox The sandbox.
 * @returns The wrapper and its counts.
 */
export function counted(sandbox: Sandbox): CountedSandbox {
  const calls = new Map<string, number>();
  // A copy rather than a proxy: sandboxes are frozen, and a proxy may not hand out other functions for their methods.
  const wrapper: Record<string, unknown> = {};
  const names = new Set<string>();
  for (let object: object | null = sandbox; object !== null && object !== Object.prototype;) {
    for (const name of Object.getOwnPropertyNames(object)) if (name !== "constructor") names.add(name);
    object = Object.getPrototypeOf(object);
  }
  for (const name of names) {
    const value = (sandbox as unknown as Record<string, unknown>)[name];
    wrapper[name] = typeof value !== "function" ? value : (...args: unknown[]) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return value.apply(sandbox, args);
    };
  }
  return { sandbox: wrapper as unknown as Sandbox, calls };
}
