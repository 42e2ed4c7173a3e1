/**
 * "Did you mean ...?": the known name nearest to a misspelt one, by edit distance.
 *
 * @module
 */

/**
 * The known name closest to `name`, when it is close enough to be a likely misspelling.
 *
 * @example Usage
 * ```ts
 * import { nearestName } from "./nearest_name.ts";
 *
 * if (nearestName("modle", ["model", "sandbox"]) !== "model") throw new Error("unexpected");
 * if (nearestName("zzz", ["model"]) !== undefined) throw new Error("unexpected");
 * ```
 *
 * @param name The name given.
 * @param known The valid names.
 * @returns The nearest valid name, or `undefined` when none is within a third of the name's length (at least 2 edits).
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const wanted = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3));
  for (const candidate of known) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * A ` (did you mean "x"?)` suffix, or an empty string.
 *
 * @param name The name given.
 * @param known The valid names.
 * @returns The suffix.
 */
export function didYouMean(name: string, known: readonly string[]): string {
  const nearest = nearestName(name, known);
  return nearest === undefined ? "" : ` (did you mean "${nearest}"?)`;
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost one.
function editDistance(left: string, right: string): number {
  const rows = left.length + 1;
  const columns = right.length + 1;
  const table: number[][] = Array.from({ length: rows }, (_, row) => [row, ...new Array(columns - 1).fill(0)]);
  for (let column = 0; column < columns; column++) table[0][column] = column;
  for (let row = 1; row < rows; row++) {
    for (let column = 1; column < columns; column++) {
      const cost = left[row - 1] === right[column - 1] ? 0 : 1;
      table[row][column] = Math.min(
        table[row - 1][column] + 1,
        table[row][column - 1] + 1,
        table[row - 1][column - 1] + cost,
      );
      if (row > 1 && column > 1 && left[row - 1] === right[column - 2] && left[row - 2] === right[column - 1]) {
        table[row][column] = Math.min(table[row][column], table[row - 2][column - 2] + 1);
      }
    }
  }
  return table[rows - 1][columns - 1];
}
