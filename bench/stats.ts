/**
 * Summaries of timings and rates: percentiles of one run, medians of several runs with their
 * spread (lowest and highest), as the report shows them.
 */

/** The p-th percentile (0–100) of `values` by nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median of several runs and the range they spanned. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function spread(values: readonly number[]): Spread {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    runs: values.length,
  };
}

/** `123.4 (119.0–125.2)`: a median and its spread, to `digits` decimals. */
export function showSpread(value: Spread, digits = 1): string {
  const f = (n: number): string => n.toFixed(digits);
  return value.runs > 1 ? `${f(value.median)} (${f(value.min)}–${f(value.max)})` : f(value.median);
}
