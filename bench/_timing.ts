/** Timing helpers shared by the benchmarks. */

/**
 * How long an async function takes, in milliseconds.
 *
 * @param fn The work.
 * @returns Elapsed milliseconds.
 */
export async function time(fn: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/**
 * The median of some numbers.
 *
 * @param values At least one number.
 * @returns The median.
 */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
