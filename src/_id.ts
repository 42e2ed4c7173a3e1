/**
 * Identifiers for operations, turns, runs and tasks: a prefix, a time part that sorts, and a random part.
 *
 * @module
 */

// One random part per process keeps ids from different processes apart; a counter keeps ids within one apart.
const processPart = Array.from(crypto.getRandomValues(new Uint8Array(5)), (byte) => byte.toString(16).padStart(2, "0"))
  .join("");
let lastTime = 0;
let sequence = 0;

/**
 * Makes a new id such as `op_mb3k2x0000001a3f9c2d1e`. Ids made later in one process sort after earlier ones, and ids of
 * different processes differ in their random part.
 *
 * @param prefix A short prefix such as `op`, `turn` or `run`.
 * @returns The id.
 */
export function newId(prefix: string): string {
  const now = Date.now();
  sequence = now === lastTime ? sequence + 1 : 0;
  lastTime = now;
  return `${prefix}_${now.toString(36).padStart(9, "0")}${sequence.toString(36).padStart(4, "0")}${processPart}`;
}
