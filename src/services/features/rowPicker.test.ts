import { describe, expect, it } from 'vitest';
import { MAX_SEED, createRowPicker, sfc32, uniformIndex } from './rowPicker.js';

function draws(next: () => number, count: number): number[] {
  return Array.from({ length: count }, next);
}

describe('sfc32', () => {
  // Reference outputs from a C transcription of PractRand's sfc32::raw32 and sfc32::seed(Uint64),
  // compiled with gcc (uint32 arithmetic), independent of this TypeScript version.
  it.each([
    [0, [1363572419, 145230303, 808754475, 4216505632, 947923937]],
    [42, [1264412219, 1947509147, 3919439299, 1251167922, 656401615]],
    [2 ** 40 + 7, [1614752920, 2544231158, 2841167337, 645591171, 505385652]],
    [MAX_SEED, [3268402823, 2602357022, 3266425223, 182731693, 1903088272]],
  ])('matches PractRand for seed %d', (seed, expected) => {
    expect(draws(sfc32(seed), 5)).toEqual(expected);
  });

  it.each([-1, 1.5, MAX_SEED + 1, Number.NaN])('refuses the seed %d', (seed) => {
    expect(() => sfc32(seed)).toThrow(/seed must be a whole number from 0 to 9007199254740991/);
  });
});

describe('uniformIndex', () => {
  it('rejects draws from the incomplete last block instead of folding them with %', () => {
    const n = 3 * 2 ** 30; // 2^32 mod n = 2^30: draws >= 3 * 2^30 must be rejected
    const feed = [2 ** 32 - 1, 3 * 2 ** 30, 5];
    expect(uniformIndex(() => feed.shift()!, n)).toBe(5);
    expect(feed).toEqual([]);
  });

  it('has no modulo bias for a range that does not divide 2^32', () => {
    // With `u % n`, values below 2^30 would come up half the time instead of a third.
    const n = 3 * 2 ** 30;
    const next = sfc32(7);
    const count = 30_000;
    let low = 0;
    for (let i = 0; i < count; i++) if (uniformIndex(next, n) < 2 ** 30) low++;
    expect(Math.abs(low / count - 1 / 3)).toBeLessThan(0.02);
  });

  it('covers the whole 2^32 range and the one-value range', () => {
    expect(uniformIndex(() => 2 ** 32 - 1, 2 ** 32)).toBe(2 ** 32 - 1);
    expect(uniformIndex(() => 123456, 1)).toBe(0);
  });

  it.each([0, -1, 2.5, 2 ** 32 + 1])('refuses a range of %d values', (n) => {
    expect(() => uniformIndex(() => 0, n)).toThrow(RangeError);
  });
});

describe('createRowPicker', () => {
  const ROWS = 442;

  it.each([1, 2, 3])('is uniform over all 442 rows, the last one included (seed %d)', (seed) => {
    const picker = createRowPicker(ROWS, seed);
    const perBin = 1000;
    const counts = new Array<number>(ROWS).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < ROWS * perBin; i++) {
      const r = picker.next();
      if (Number.isInteger(r) && r >= 0 && r < ROWS) counts[r] = (counts[r] ?? 0) + 1;
      else outOfRange++;
    }
    expect(outOfRange).toBe(0);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[ROWS - 1]).toBeGreaterThan(0);
    // Pearson's chi-square with 441 degrees of freedom has mean 441 and sd ~29.7; both bounds are
    // beyond 4.5 sd. The lower one catches a picker that is too even to be random (round robin).
    const chi2 = counts.reduce((sum, c) => sum + (c - perBin) ** 2 / perBin, 0);
    expect(chi2).toBeGreaterThan(300);
    expect(chi2).toBeLessThan(620);
  });

  it('repeats a sequence for the same seed and differs between seeds', () => {
    const a = draws(createRowPicker(ROWS, 42).next, 1000);
    const b = draws(createRowPicker(ROWS, 42).next, 1000);
    const c = draws(createRowPicker(ROWS, 43).next, 1000);
    expect(b).toEqual(a);
    // Two independent uniform sequences agree at a position with probability 1/442.
    const same = a.filter((r, i) => r === c[i]).length;
    expect(same).toBeLessThan(20);
  });

  it('exposes the seed it used, also when it drew one itself', () => {
    expect(createRowPicker(ROWS, 5).seed).toBe(5);
    const p1 = createRowPicker(ROWS);
    const p2 = createRowPicker(ROWS);
    expect(Number.isSafeInteger(p1.seed) && p1.seed >= 0).toBe(true);
    expect(p1.seed).not.toBe(p2.seed);
    // Replaying the drawn seed gives the same order.
    const replay = createRowPicker(ROWS, p1.seed);
    expect(draws(replay.next, 100)).toEqual(draws(p1.next, 100));
  });

  it('always picks row 0 of a one-row dataset', () => {
    expect(new Set(draws(createRowPicker(1, 9).next, 100))).toEqual(new Set([0]));
  });

  it.each([0, -3, 1.5, Number.NaN])('refuses a dataset of %d rows', (rows) => {
    expect(() => createRowPicker(rows, 1)).toThrow(/dataset of .* rows: it needs at least one row/);
  });
});
