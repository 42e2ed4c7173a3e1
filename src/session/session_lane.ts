/**
 * The lane of a session: a name shared by every session object of the same store and key in this process, so their
 * operations run one at a time however many agent objects opened them.
 *
 * @module
 */

import type { SessionKey, Store } from "../store/store.ts";

const storeIds = new WeakMap<Store, string>();
let nextStoreId = 0;

/**
 * Names a session's lane. Stores that keep a file are named by their path, so two store objects on one file share
 * lanes; other stores by their object.
 *
 * @param store The session's store.
 * @param key The session's key.
 * @returns The lane name.
 */
export function sessionLane(store: Store, key: SessionKey): string {
  return JSON.stringify([storeIdentity(store), key.agent, key.instanceId, key.session]);
}

function storeIdentity(store: Store): string {
  const path = (store as { path?: unknown }).path;
  if (typeof path === "string") return `${store.kind}:${path}`;
  let id = storeIds.get(store);
  if (!id) {
    id = `${store.kind}#${++nextStoreId}`;
    storeIds.set(store, id);
  }
  return id;
}
