// The last N absolute errors in a ring buffer, with exact statistics on demand.
import { CompensatedSum } from './compensatedSum.js';
import type { ErrorSummary } from './errorSummary.js';

/** Exact statistics of the window: its quantiles are the exact nearest-rank values. */
export type WindowStats = ErrorSummary;

/** Exact nearest-rank quantile of an ascending array. */
export function nearestRankQuantile(sorted: ArrayLike<number>, q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

/**
 * Keeps the most recent `capacity` values. `add` and `mean` are O(1); `stats` sorts a copy
 * (O(N log N), N small), so call it per redraw, not per row.
 */
export class RecentWindow {
  readonly capacity: number;
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;
  private readonly sum = new CompensatedSum();
  private evictionsSinceResum = 0;

  constructor(capacity = 1000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`window capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.ring = new Float64Array(capacity);
  }

  add(value: number): void {
    const evicted = this.filled === this.capacity ? (this.ring[this.next] ?? 0) : undefined;
    this.ring[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    if (evicted === undefined) {
      this.filled++;
      this.sum.add(value);
    } else if (++this.evictionsSinceResum >= this.capacity) {
      // Adding and removing leaves rounding behind; re-summing once per full turn keeps it from
      // accumulating, at O(1) amortised.
      this.resum();
    } else {
      this.sum.add(-evicted);
      this.sum.add(value);
    }
  }

  reset(): void {
    this.next = 0;
    this.filled = 0;
    this.sum.reset();
    this.evictionsSinceResum = 0;
  }

  get size(): number {
    return this.filled;
  }

  /** Mean of the window (the rolling MAE); NaN when empty. */
  get mean(): number {
    return this.filled === 0 ? NaN : this.sum.value / this.filled;
  }

  /** The values, oldest first. */
  values(): number[] {
    const out: number[] = [];
    const start = this.filled === this.capacity ? this.next : 0;
    for (let k = 0; k < this.filled; k++) out.push(this.ring[(start + k) % this.capacity] ?? 0);
    return out;
  }

  stats(): WindowStats | undefined {
    if (this.filled === 0) return undefined;
    const sorted = Float64Array.from(this.ring.subarray(0, this.filled)).sort();
    const squares = new CompensatedSum();
    for (const v of sorted) squares.add(v * v);
    return {
      count: this.filled,
      min: sorted[0] ?? NaN,
      max: sorted[this.filled - 1] ?? NaN,
      mean: this.mean,
      rmse: Math.sqrt(squares.value / this.filled),
      median: nearestRankQuantile(sorted, 0.5),
      p90: nearestRankQuantile(sorted, 0.9),
      p99: nearestRankQuantile(sorted, 0.99),
    };
  }

  private resum(): void {
    this.sum.reset();
    for (let k = 0; k < this.filled; k++) this.sum.add(this.ring[k] ?? 0);
    this.evictionsSinceResum = 0;
  }
}
