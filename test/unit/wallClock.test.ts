import { describe, expect, it } from 'vitest';
import { wallClock } from '../../src/util/wallClock.js';

/** A fake machine: true time advances by hand; the wall clock is floor(true + offset), monotonic is true. */
function fakeMachine(origin: number) {
  const m = { trueMs: 0, wallOffset: 0 };
  const clock = wallClock({
    originMs: origin,
    monoMs: () => m.trueMs,
    wallMs: () => Math.floor(origin + m.trueMs + m.wallOffset),
  });
  return { m, clock };
}

describe('wallClock', () => {
  it('keeps sub-millisecond resolution while the wall clock agrees with the monotonic one', () => {
    const { m, clock } = fakeMachine(1_000_000.25);
    m.trueMs = 10.5;
    expect(clock()).toBeCloseTo(1_000_010.75, 9);
    m.trueMs = 10.6;
    expect(clock()).toBeCloseTo(1_000_010.85, 9);
  });

  it('follows a wall clock that runs ahead of the monotonic clock, never more than 1 ms off', () => {
    const { m, clock } = fakeMachine(5_000);
    let last = -Infinity;
    for (let i = 1; i <= 60_000; i++) {
      m.trueMs = i * 0.37;
      m.wallOffset = m.trueMs * 0.005; // 5 ms per second, as seen on a VM being corrected
      const t = clock();
      const wall = Math.floor(5_000 + m.trueMs + m.wallOffset);
      expect(t).toBeGreaterThanOrEqual(wall);
      expect(t).toBeLessThan(wall + 1);
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
    }
  });

  it('follows a wall clock stepped back by seconds', () => {
    const { m, clock } = fakeMachine(5_000);
    m.trueMs = 100;
    expect(clock()).toBeCloseTo(5_100, 9);
    m.wallOffset = -3_300;
    m.trueMs = 100.4;
    expect(Math.floor(clock())).toBe(1_800);
    m.trueMs = 200.2;
    expect(Math.floor(clock())).toBe(1_900);
  });
});
