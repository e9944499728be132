import { describe, expect, it } from 'vitest';
import { ErrorHistogram, niceStep } from './errorHistogram.js';
import { nearestRankQuantile } from './recentWindow.js';
import { seededRandom } from '../../../test/support/seededRandom.js';

function exponential(rand: () => number, scale: number): number {
  return -Math.log(1 - rand()) * scale;
}

/** Data whose range grows by orders of magnitude as it arrives, forcing many rescales. */
function growingData(seed: number, n: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => exponential(rand, 1e-3 * 10 ** ((6 * i) / n)));
}

const DATASETS: Record<string, number[]> = {
  'uniform 0..100': Array.from({ length: 20_000 }, seededRandom(1)).map((u) => u * 100),
  exponential: Array.from({ length: 20_000 }, () => 0).map(
    (
      (r) => () =>
        exponential(r, 40)
    )(seededRandom(2)),
  ),
  'range growing 1e-3 to 1e3': growingData(3, 20_000),
  'heavy tail (lognormal)': ((r) =>
    Array.from({ length: 20_000 }, () =>
      Math.exp(3 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())),
    ))(seededRandom(4)),
  'ties and zeros': ((r) => Array.from({ length: 5000 }, () => Math.floor(r() * 4) * 2.5))(seededRandom(5)),
};

function filled(values: number[], fineBins = 1024): ErrorHistogram {
  const h = new ErrorHistogram({ fineBins });
  for (const v of values) h.add(v);
  return h;
}

describe('ErrorHistogram fine bins', () => {
  for (const [name, values] of Object.entries(DATASETS)) {
    it(`match a brute-force count at the final width (${name})`, () => {
      const h = filled(values);
      const { width, counts } = h.fineBins();
      expect(counts).toHaveLength(1024);
      const brute = new Array<number>(1024).fill(0);
      let outside = 0;
      for (const v of values) {
        const i = Math.floor(v / width);
        if (i >= 1024) outside++;
        else brute[i] = (brute[i] ?? 0) + 1;
      }
      expect(outside).toBe(0);
      expect(counts).toEqual(brute);
      expect(Number.isInteger(Math.log2(width))).toBe(true); // a power of two, so merging pairs is exact
      expect(width).toBeLessThanOrEqual((4 * Math.max(...values)) / 1024);
    });
  }

  it('stays exact through every rescale, checked after each value', () => {
    const values = growingData(9, 3000);
    const h = new ErrorHistogram({ fineBins: 64 });
    let rescales = 0;
    let lastWidth = 0;
    values.forEach((v, k) => {
      h.add(v);
      const { width, counts } = h.fineBins();
      if (width !== lastWidth) rescales++;
      lastWidth = width;
      const brute = new Array<number>(64).fill(0);
      for (const x of values.slice(0, k + 1)) brute[Math.floor(x / width)]!++;
      expect(counts).toEqual(brute);
    });
    expect(rescales).toBeGreaterThan(10);
  });

  it('handles zeros before the first positive value, and a single value', () => {
    const h = new ErrorHistogram({ fineBins: 64 });
    h.add(0);
    h.add(0);
    expect(h.fineBinWidth).toBe(0);
    expect(h.quantile(0.5)).toBe(0);
    expect(h.displayBins()).toEqual([{ start: 0, end: 1, count: 2 }]);
    h.add(1e-300);
    h.add(1e300);
    expect(h.count).toBe(4);
    expect(h.fineBins().counts[0]).toBe(3);
    expect(h.max).toBe(1e300);
  });

  it('refuses values that are not absolute errors', () => {
    const h = new ErrorHistogram();
    for (const bad of [-1, NaN, Infinity]) expect(() => h.add(bad)).toThrow(RangeError);
    expect(h.count).toBe(0);
    expect(() => new ErrorHistogram({ fineBins: 1000 })).toThrow(/power of two/);
  });
});

describe('ErrorHistogram statistics', () => {
  for (const [name, values] of Object.entries(DATASETS)) {
    it(`mean and RMSE match a direct computation (${name})`, () => {
      const h = filled(values);
      const s = h.summary()!;
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const rmse = Math.sqrt(values.reduce((a, b) => a + b * b, 0) / values.length);
      expect(s.count).toBe(values.length);
      expect(s.mean).toBeCloseTo(mean, 9);
      expect(Math.abs(s.mean - mean) / mean).toBeLessThan(1e-12);
      expect(Math.abs(s.rmse - rmse) / rmse).toBeLessThan(1e-12);
      expect(s.min).toBe(Math.min(...values));
      expect(s.max).toBe(Math.max(...values));
    });

    it(`quantiles are within one fine bin width of the exact nearest-rank value (${name})`, () => {
      const h = filled(values);
      const sorted = [...values].sort((a, b) => a - b);
      const width = h.fineBinWidth;
      for (const q of [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]) {
        const exact = nearestRankQuantile(sorted, q);
        const estimate = h.quantile(q)!;
        expect(Math.abs(estimate - exact), `q=${q}: ${estimate} vs ${exact}`).toBeLessThanOrEqual(width);
      }
      const s = h.summary()!;
      expect(Math.abs(s.median - nearestRankQuantile(sorted, 0.5))).toBeLessThanOrEqual(width);
      expect(Math.abs(s.p90 - nearestRankQuantile(sorted, 0.9))).toBeLessThanOrEqual(width);
      expect(Math.abs(s.p99 - nearestRankQuantile(sorted, 0.99))).toBeLessThanOrEqual(width);
    });

    it(`display bins are round, contiguous, cover 0..max and count every value (${name})`, () => {
      const h = filled(values);
      const bins = h.displayBins(30);
      const w = h.fineBinWidth;
      const max = Math.max(...values);
      expect(bins.length).toBeGreaterThanOrEqual(10);
      expect(bins.length).toBeLessThanOrEqual(80);
      expect(bins[0]!.start).toBe(0);
      expect(bins[bins.length - 1]!.end).toBeGreaterThanOrEqual(max);
      expect(bins.reduce((a, b) => a + b.count, 0)).toBe(values.length);
      const step = bins[0]!.end - bins[0]!.start;
      expect(niceStep(step)).toBeCloseTo(step, 12);
      bins.forEach((bin, k) => {
        if (k > 0) expect(bin.start).toBe(bins[k - 1]!.end);
        // A bar gets whole fine bins, so it may hold values up to one fine bin outside its edges.
        const last = k === bins.length - 1;
        const inner = values.filter((v) => v >= bin.start + w && (v < bin.end - w || last)).length;
        const outer = values.filter((v) => v >= bin.start - w && (v < bin.end + w || last)).length;
        expect(bin.count).toBeGreaterThanOrEqual(inner);
        expect(bin.count).toBeLessThanOrEqual(outer);
      });
    });
  }

  it('is empty before the first value and after reset', () => {
    const h = filled([1, 2, 3]);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.summary()).toBeUndefined();
    expect(h.quantile(0.5)).toBeUndefined();
    expect(h.displayBins()).toEqual([]);
    h.add(5);
    expect(h.summary()!.mean).toBe(5);
  });
});

describe('niceStep', () => {
  it.each([
    [0.7, 1],
    [1, 1],
    [1.2, 2],
    [2.2, 2.5],
    [3, 5],
    [7, 10],
    [13, 20],
    [0.031, 0.05],
    [4200, 5000],
  ])('rounds %s up to %s', (x, step) => {
    expect(niceStep(x)).toBeCloseTo(step, 12);
  });
});
