import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/support/seededRandom.js';
import { isoTime } from './isoTime.js';

describe('isoTime', () => {
  it('gives the same text as toISOString, across seconds, days and years', () => {
    const random = seededRandom(7);
    const times = [
      0,
      1,
      9,
      10,
      99,
      100,
      999,
      1000,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(1999, 11, 31, 23, 59, 59, 5),
    ];
    // Runs within one second (the cached prefix), then jumps anywhere in 1970-9999.
    const base = Date.UTC(2026, 11, 3, 17, 0, 0, 0);
    for (let i = 0; i < 2000; i++) times.push(base + i * 7);
    for (let i = 0; i < 2000; i++) times.push(Math.floor(random() * 253_402_300_799_999));
    for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('falls back to Date for times the short path does not cover', () => {
    for (const ms of [-1, -86_400_001, -62_167_219_200_001, 1.5, 253_402_300_800_000, 8.64e15]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
