// Summary statistics of benchmark samples: percentiles, medians, rates. Pure.

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export interface LatencySummary {
  /** Rows measured. */
  rows: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summariseLatency(samplesMs: ArrayLike<number>): LatencySummary {
  let max = Number.NaN;
  for (let i = 0; i < samplesMs.length; i++) {
    const v = samplesMs[i] as number;
    if (!(v <= max)) max = v;
  }
  return {
    rows: samplesMs.length,
    p50Ms: percentile(samplesMs, 50),
    p99Ms: percentile(samplesMs, 99),
    maxMs: max,
  };
}

/** Median of the values; the mean of the middle two for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Ratios of each pipeline run to the ceiling runs beside it in an interleaved A B A B sequence
 * (A1B1, B1A2, A2B2, ...): neighbours share the machine's state of that minute.
 */
export function adjacentRatios(ceiling: readonly number[], pipeline: readonly number[]): number[] {
  const ratios: number[] = [];
  for (let i = 0; i < pipeline.length; i++) {
    const p = pipeline[i] as number;
    const before = ceiling[i];
    const after = ceiling[i + 1];
    if (before !== undefined) ratios.push(p / before);
    if (after !== undefined) ratios.push(p / after);
  }
  return ratios;
}

/** One cumulative bucket of a Prometheus histogram: observations <= `le`. */
export interface HistogramBucket {
  le: number;
  count: number;
}

/** Cumulative buckets minus an earlier reading of the same histogram (missing bounds count 0). */
export function subtractBuckets(
  now: readonly HistogramBucket[],
  before: readonly HistogramBucket[],
): HistogramBucket[] {
  const earlier = new Map(before.map((b) => [b.le, b.count]));
  return now.map((b) => ({ le: b.le, count: b.count - (earlier.get(b.le) ?? 0) }));
}

/** Cumulative histogram buckets of several runs added up (buckets matched by their bound). */
export function addBuckets(runs: readonly (readonly HistogramBucket[])[]): HistogramBucket[] {
  const sum = new Map<number, number>();
  for (const run of runs) for (const b of run) sum.set(b.le, (sum.get(b.le) ?? 0) + b.count);
  return [...sum].sort((x, y) => x[0] - y[0]).map(([le, count]) => ({ le, count }));
}

/** Estimated quantile from a cumulative Prometheus histogram: the upper bound of the bucket holding it. */
export function histogramQuantileUpperBound(buckets: readonly HistogramBucket[], q: number): number {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const target = q * total;
  for (const b of buckets) if (b.count >= target) return b.le;
  return Number.POSITIVE_INFINITY;
}
