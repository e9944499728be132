import { describe, expect, it } from 'vitest';
import { nearestRankQuantile, RecentWindow } from './recentWindow.js';
import { seededRandom } from '../../../test/support/seededRandom.js';

describe('RecentWindow', () => {
  it('keeps only the last N values, oldest first', () => {
    const w = new RecentWindow(3);
    for (const v of [1, 2, 3, 4, 5]) w.add(v);
    expect(w.size).toBe(3);
    expect(w.values()).toEqual([3, 4, 5]);
  });

  it('has exact statistics of the last N values, checked against a brute-force computation', () => {
    const rand = seededRandom(7);
    const all = Array.from({ length: 5_000 }, () => rand() * 10 ** (rand() * 6 - 3));
    const w = new RecentWindow(1000);
    all.forEach((v, k) => {
      w.add(v);
      if (k % 499 !== 0 && k !== all.length - 1) return;
      const last = all.slice(Math.max(0, k + 1 - 1000), k + 1);
      const sorted = [...last].sort((a, b) => a - b);
      const mean = last.reduce((a, b) => a + b, 0) / last.length;
      const s = w.stats()!;
      expect(s.count).toBe(last.length);
      expect(Math.abs(s.mean - mean) / mean).toBeLessThan(1e-12);
      expect(Math.abs(w.mean - mean) / mean).toBeLessThan(1e-12);
      expect(s.rmse).toBeCloseTo(Math.sqrt(last.reduce((a, b) => a + b * b, 0) / last.length), 9);
      expect(s.min).toBe(sorted[0]);
      expect(s.max).toBe(sorted[sorted.length - 1]);
      expect(s.median).toBe(sorted[Math.ceil(0.5 * sorted.length) - 1]);
      expect(s.p90).toBe(sorted[Math.ceil(0.9 * sorted.length) - 1]);
      expect(s.p99).toBe(sorted[Math.ceil(0.99 * sorted.length) - 1]);
    });
  });

  it('keeps the rolling mean accurate after a huge value has left the window', () => {
    const w = new RecentWindow(4);
    w.add(1e17);
    for (let i = 0; i < 4; i++) w.add(0.1);
    expect(w.mean).toBe(0.1);
  });

  it('is empty at first and after reset', () => {
    const w = new RecentWindow(2);
    expect(w.stats()).toBeUndefined();
    expect(Number.isNaN(w.mean)).toBe(true);
    w.add(3);
    w.reset();
    expect(w.size).toBe(0);
    expect(w.values()).toEqual([]);
    w.add(4);
    expect(w.stats()?.median).toBe(4);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RecentWindow(0)).toThrow(RangeError);
  });
});

describe('nearestRankQuantile', () => {
  it('takes the ceil(q * n)-th smallest value', () => {
    const sorted = [10, 20, 30, 40];
    expect(nearestRankQuantile(sorted, 0)).toBe(10);
    expect(nearestRankQuantile(sorted, 0.25)).toBe(10);
    expect(nearestRankQuantile(sorted, 0.26)).toBe(20);
    expect(nearestRankQuantile(sorted, 0.5)).toBe(20);
    expect(nearestRankQuantile(sorted, 1)).toBe(40);
  });
});
