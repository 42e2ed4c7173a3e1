/**
 * `currentDispatch()`: which dispatch the running code is handling. The dispatch worker sets it around each prompt, so a
 * tool called during that prompt can read the dispatch's input (such as a webhook's reply target) without the model
 * passing it along.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { DispatchRecord } from "../store/dispatch_queue.ts";

const storage = new AsyncLocalStorage<DispatchRecord>();

/**
 * The dispatch being handled by the calling code, when it runs inside a `DispatchWorker`'s prompt.
 *
 * @returns The claimed record (input, key, attempts), or `undefined` outside a dispatched prompt.
 *
 * @example Outside a dispatch there is none
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentDispatch } from "./current_dispatch.ts";
 *
 * assert.equal(currentDispatch(), undefined);
 * ```
 */
export function currentDispatch(): DispatchRecord | undefined {
  return storage.getStore();
}

/**
 * Runs `work` with `record` as the current dispatch, for everything it calls and awaits.
 *
 * @param record The claimed dispatch.
 * @param work The prompt that handles it.
 * @returns What `work` returns.
 */
export function runInDispatch<T>(record: DispatchRecord, work: () => T): T {
  return storage.run(record, work);
}
