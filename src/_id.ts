/**
 * Identifiers for operations, turns, runs and tasks: a prefix, a time part that sorts, and a random part.
 *
 * @module
 */

let lastTime = 0;
let sequence = 0;

/**
 * Makes a new id such as `op_mb3k2x0001a3f9c2d1e0b7f6`. Ids made later in one process sort after earlier ones.
 *
 * @param prefix A short prefix such as `op`, `turn` or `run`.
 * @returns The id.
 */
export function newId(prefix: string): string {
  const now = Date.now();
  sequence = now === lastTime ? sequence + 1 : 0;
  lastTime = now;
  const random = crypto.getRandomValues(new Uint8Array(6));
  let hex = "";
  for (const byte of random) hex += byte.toString(16).padStart(2, "0");
  return `${prefix}_${now.toString(36).padStart(9, "0")}${sequence.toString(36).padStart(4, "0")}${hex}`;
}
