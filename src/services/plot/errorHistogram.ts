// Incremental histogram of absolute errors over an unknown range: bounded memory, O(1) amortised per value.
import { CompensatedSum } from './compensatedSum.js';
import type { ErrorSummary } from './errorSummary.js';

export interface ErrorHistogramOptions {
  /** Number of fine fixed-width bins; a power of two >= 64. More bins, tighter quantiles. */
  fineBins?: number;
}

const DEFAULT_OPTIONS: Required<ErrorHistogramOptions> = { fineBins: 2048 };

/** A bar to draw: values in [start, end). */
export interface DisplayBin {
  start: number;
  end: number;
  count: number;
}

/** Everything the chart needs about all rows seen so far. */
export interface HistogramSummary extends ErrorSummary {
  // mean and rmse are exact (compensated running sums); the quantiles are estimated from the fine bins,
  // each within `fineBinWidth` of the exact nearest-rank value.
  fineBinWidth: number;
  bins: DisplayBin[];
}

/** The raw fine bins: bin i counts values in [i * width, (i + 1) * width). */
export interface FineBins {
  width: number;
  counts: number[];
}

const NICE_MULTIPLIERS = [1, 2, 2.5, 5, 10];

/** Smallest "round" step (1, 2, 2.5 or 5 times a power of ten) that is >= `x`. */
export function niceStep(x: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(x));
  for (const m of NICE_MULTIPLIERS) {
    const step = m * magnitude;
    if (step >= x * (1 - 1e-12)) return step;
  }
  return 10 * magnitude;
}

// Bin edges like 3 * 0.1 come out as 0.30000000000000004; 12 digits is far below a bin width.
function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

/**
 * Counts absolute errors (finite, >= 0) in `fineBins` bins of equal width. The width is a power of two,
 * so binning is an exact division; when a value falls past the last bin, neighbouring bins are merged
 * pairwise and the width doubles, until it fits. Each doubling costs O(fineBins) and at most ~2,100 can
 * ever happen (the exponent range of a double), so an update is O(1) amortised and memory is fixed.
 *
 * Quantiles come from the fine bins: `quantile(q)` estimates the nearest-rank quantile (the
 * ceil(q * n)-th smallest value) and is within one fine bin width (`fineBinWidth`) of it, because the
 * estimate lies in the same bin as the exact value. The width is at most 4 * max / fineBins.
 */
export class ErrorHistogram {
  private readonly binCount: number;
  private readonly counts: Float64Array;
  /** 0 until the first value > 0 arrives: zeros land in bin 0 whatever the width. */
  private width = 0;
  private n = 0;
  private minValue = Infinity;
  private maxValue = -Infinity;
  private readonly sum = new CompensatedSum();
  private readonly sumOfSquares = new CompensatedSum();

  constructor(options: ErrorHistogramOptions = {}) {
    const { fineBins } = { ...DEFAULT_OPTIONS, ...options };
    if (!Number.isInteger(fineBins) || fineBins < 64 || (fineBins & (fineBins - 1)) !== 0) {
      throw new RangeError(`fineBins must be a power of two >= 64, got ${fineBins}`);
    }
    this.binCount = fineBins;
    this.counts = new Float64Array(fineBins);
  }

  add(value: number): void {
    if (!(value >= 0) || value === Infinity) {
      throw new RangeError(`absolute error must be a finite number >= 0, got ${value}`);
    }
    if (value > 0) {
      if (this.width === 0) this.width = this.initialWidth(value);
      while (value >= this.binCount * this.width) this.mergePairs();
    }
    const index = value === 0 ? 0 : Math.min(Math.floor(value / this.width), this.binCount - 1);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.n++;
    if (value < this.minValue) this.minValue = value;
    if (value > this.maxValue) this.maxValue = value;
    this.sum.add(value);
    this.sumOfSquares.add(value * value);
  }

  reset(): void {
    this.counts.fill(0);
    this.width = 0;
    this.n = 0;
    this.minValue = Infinity;
    this.maxValue = -Infinity;
    this.sum.reset();
    this.sumOfSquares.reset();
  }

  get count(): number {
    return this.n;
  }

  /** Smallest value; undefined when empty. */
  get min(): number | undefined {
    return this.n === 0 ? undefined : this.minValue;
  }

  /** Largest value; undefined when empty. */
  get max(): number | undefined {
    return this.n === 0 ? undefined : this.maxValue;
  }

  /** Exact mean (the MAE); undefined when empty. */
  get mean(): number | undefined {
    return this.n === 0 ? undefined : this.sum.value / this.n;
  }

  /** Exact root mean square; undefined when empty. */
  get rmse(): number | undefined {
    return this.n === 0 ? undefined : Math.sqrt(this.sumOfSquares.value / this.n);
  }

  /** Width of one fine bin; 0 while every value seen is 0. */
  get fineBinWidth(): number {
    return this.width;
  }

  /** A copy of the fine bins (for tests and diagnostics). */
  fineBins(): FineBins {
    return { width: this.width, counts: Array.from(this.counts) };
  }

  /** Estimate of the ceil(q * n)-th smallest value, within one fine bin width; undefined when empty. */
  quantile(q: number): number | undefined {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
    if (this.n === 0) return undefined;
    if (this.width === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let before = 0;
    for (let i = 0; i < this.binCount; i++) {
      const inBin = this.counts[i] ?? 0;
      if (before + inBin >= rank) {
        // Spread the bin's values evenly across it and take the rank's share.
        const estimate = (i + (rank - before - 0.5) / inBin) * this.width;
        return Math.min(Math.max(estimate, this.minValue), this.maxValue);
      }
      before += inBin;
    }
    return this.maxValue;
  }

  /**
   * About `targetBins` bars of a round width from 0 to just past the max, built from the fine bins:
   * each fine bin goes wholly to the bar holding its midpoint, so a bar may count values up to half a
   * fine bin width outside its edges (the bar width is at least one fine bin, usually ~30-70).
   */
  displayBins(targetBins = 30): DisplayBin[] {
    if (this.n === 0) return [];
    if (this.width === 0) return [{ start: 0, end: 1, count: this.n }];
    const step = niceStep(Math.max(this.maxValue / targetBins, this.width));
    const barCount = Math.max(1, Math.ceil(this.maxValue / step));
    const bars = new Array<number>(barCount).fill(0);
    const lastFine = Math.min(this.binCount - 1, Math.floor(this.maxValue / this.width));
    for (let i = 0; i <= lastFine; i++) {
      const inBin = this.counts[i] ?? 0;
      if (inBin === 0) continue;
      const bar = Math.min(Math.floor(((i + 0.5) * this.width) / step), barCount - 1);
      bars[bar] = (bars[bar] ?? 0) + inBin;
    }
    return bars.map((count, k) => ({ start: tidy(k * step), end: tidy((k + 1) * step), count }));
  }

  /** Undefined until a value arrives. O(fineBins): call it per redraw, not per value. */
  summary(targetBins = 30): HistogramSummary | undefined {
    if (this.n === 0) return undefined;
    return {
      count: this.n,
      min: this.minValue,
      max: this.maxValue,
      mean: this.sum.value / this.n,
      rmse: Math.sqrt(this.sumOfSquares.value / this.n),
      median: this.quantile(0.5) ?? 0,
      p90: this.quantile(0.9) ?? 0,
      p99: this.quantile(0.99) ?? 0,
      fineBinWidth: this.width,
      bins: this.displayBins(targetBins),
    };
  }

  // The first value lands in the middle of the range: room to grow 2x before the first merge,
  // and half the bins give resolution below it.
  private initialWidth(value: number): number {
    const exponent = Math.max(-1074, Math.ceil(Math.log2((2 * value) / this.binCount)));
    let width = 2 ** exponent;
    while (width > 0 && value >= this.binCount * width) width *= 2;
    return width > 0 ? width : Number.MIN_VALUE;
  }

  private mergePairs(): void {
    const half = this.binCount / 2;
    for (let j = 0; j < half; j++) {
      this.counts[j] = (this.counts[2 * j] ?? 0) + (this.counts[2 * j + 1] ?? 0);
    }
    this.counts.fill(0, half);
    this.width *= 2;
  }
}
