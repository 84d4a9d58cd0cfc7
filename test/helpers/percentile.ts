/**
 * The p-th percentile (0 < p ≤ 100) of `values` (in any order; not changed) by nearest rank: the
 * ⌈p/100 · n⌉-th smallest value. A p99 is then a value that was measured, with at most 1 % of the
 * samples above it. NaN for no values. Used by the torture suite and the benchmark alike.
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p * sorted.length) / 100);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}
