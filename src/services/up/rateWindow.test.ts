import { describe, expect, it } from 'vitest';
import { RateWindow } from './rateWindow.js';

describe('RateWindow', () => {
  it('has no rate before two readings', () => {
    const w = new RateWindow();
    expect(w.rate()).toBeUndefined();
    w.add(1000, 5);
    expect(w.rate()).toBeUndefined();
  });

  it('is the growth per second over the span, older readings dropped', () => {
    const w = new RateWindow(3000);
    // 10/s for 5 s, then 100/s for 3 s: the 3 s span sees only the fast part.
    let value = 0;
    for (let t = 0; t <= 5000; t += 1000) w.add(t, (value = t / 100));
    expect(w.rate()).toBeCloseTo(10, 9);
    for (let t = 6000; t <= 8000; t += 1000) w.add(t, (value += 100));
    expect(w.rate()).toBeCloseTo(100, 9);
  });

  it('starts again when the counter goes down (its process restarted)', () => {
    const w = new RateWindow(3000);
    w.add(0, 1000);
    w.add(1000, 2000);
    w.add(2000, 3);
    expect(w.rate()).toBeUndefined();
    w.add(2500, 13);
    expect(w.rate()).toBeCloseTo(20, 9);
  });

  it('ignores a reading that is not later than the last', () => {
    const w = new RateWindow();
    w.add(0, 0);
    w.add(1000, 10);
    w.add(1000, 500);
    expect(w.rate()).toBe(10);
  });
});
