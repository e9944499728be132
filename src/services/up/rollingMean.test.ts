import { describe, expect, it } from 'vitest';
import { RollingMean } from './rollingMean.js';

function naiveMean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

describe('RollingMean', () => {
  it('is undefined when empty and refuses a bad capacity', () => {
    expect(new RollingMean(3).mean()).toBeUndefined();
    expect(() => new RollingMean(0)).toThrow(/positive integer/);
  });

  it('is the mean of the last N values at every step, over many turns of the ring', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 1000;
    const w = new RollingMean(50);
    const all: number[] = [];
    for (let i = 0; i < 1234; i++) {
      const x = i % 97 === 0 ? 1e6 : random();
      all.push(x);
      w.add(x);
      const last = all.slice(-50);
      expect(w.count).toBe(last.length);
      expect(w.mean()).toBeCloseTo(naiveMean(last), 6);
    }
  });
});
