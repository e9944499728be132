import { describe, expect, it } from 'vitest';
import { histogramQuantileUpperBound, subtractBuckets } from '../../bench/stats.js';

describe('bench histogram helpers', () => {
  const le = [0.01, 0.05, 0.1, 1, Number.POSITIVE_INFINITY];
  const cumulative = (counts: number[]) => le.map((b, i) => ({ le: b, count: counts[i]! }));

  it('leaves out what an earlier reading held, so a warm-up backlog does not set the p99 bound', () => {
    // 1,000 warm-up rows, 100 of them slow (<= 1 s); then 1,000 rows all under 50 ms.
    const atWarmup = cumulative([600, 880, 900, 1000, 1000]);
    const atEnd = cumulative([1400, 1880, 1900, 2000, 2000]);
    expect(histogramQuantileUpperBound(atEnd, 0.99)).toBe(1);
    const measured = subtractBuckets(atEnd, atWarmup);
    expect(measured.map((b) => b.count)).toEqual([800, 1000, 1000, 1000, 1000]);
    expect(histogramQuantileUpperBound(measured, 0.99)).toBe(0.05);
  });

  it('counts a bound missing from the earlier reading as zero, and gives NaN for an empty histogram', () => {
    expect(subtractBuckets(cumulative([1, 2, 3, 4, 4]), []).map((b) => b.count)).toEqual([1, 2, 3, 4, 4]);
    expect(histogramQuantileUpperBound(cumulative([0, 0, 0, 0, 0]), 0.99)).toBeNaN();
  });
});
