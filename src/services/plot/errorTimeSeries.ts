// Per-second throughput and error of the rows added, bounded to the last few hundred seconds.

/** One second of activity. Seconds in which no row arrived have no point (read them as 0 rows). */
export interface SeriesPoint {
  /** Start of the second, ms since the epoch. */
  t: number;
  /** Rows added during this second. */
  rows: number;
  /** MAE of the rows added during this second. */
  mae: number;
  /** MAE of the recent window (last N rows) as of the last row of this second. */
  rollingMae: number;
}

interface Bucket {
  t: number;
  rows: number;
  errorSum: number;
  rollingMae: number;
}

/** Keeps at most `maxPoints` one-second points; adding a row is O(1) amortised. */
export class ErrorTimeSeries {
  readonly maxPoints: number;
  private buckets: Bucket[] = [];

  constructor(maxPoints = 600) {
    if (!Number.isInteger(maxPoints) || maxPoints < 1) {
      throw new RangeError(`maxPoints must be a positive integer, got ${maxPoints}`);
    }
    this.maxPoints = maxPoints;
  }

  /** Records one row at `nowMs`. A clock that steps back adds to the latest second rather than reorder. */
  add(nowMs: number, absoluteError: number, rollingMae: number): void {
    const second = Math.floor(nowMs / 1000) * 1000;
    let last = this.buckets[this.buckets.length - 1];
    if (!last || second > last.t) {
      last = { t: second, rows: 0, errorSum: 0, rollingMae };
      this.buckets.push(last);
      // Trim in batches so the copy is amortised over many seconds.
      if (this.buckets.length >= 2 * this.maxPoints) this.buckets = this.buckets.slice(-this.maxPoints);
    }
    last.rows++;
    last.errorSum += absoluteError;
    last.rollingMae = rollingMae;
  }

  reset(): void {
    this.buckets = [];
  }

  /** The last `maxPoints` seconds that had rows, oldest first. */
  points(): SeriesPoint[] {
    return this.buckets.slice(-this.maxPoints).map((b) => ({
      t: b.t,
      rows: b.rows,
      mae: b.errorSum / b.rows,
      rollingMae: b.rollingMae,
    }));
  }
}
