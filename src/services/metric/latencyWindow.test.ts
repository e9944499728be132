import { describe, expect, it } from 'vitest';
import { LatencyWindow } from './latencyWindow.js';

describe('LatencyWindow', () => {
  it('is empty before the first sample', () => {
    expect(new LatencyWindow(10).summary()).toBeUndefined();
  });

  it('gives nearest-rank percentiles of the last samples only', () => {
    const w = new LatencyWindow(100);
    for (let i = 0; i < 50; i++) w.add(1_000); // pushed out by the next 100
    for (let i = 100; i >= 1; i--) w.add(i);
    const s = w.summary()!;
    expect(s.samples).toBe(100);
    expect(s.p50).toBe(50);
    expect(s.p90).toBe(90);
    expect(s.p99).toBe(99);
    expect(s.max).toBe(100);
  });
});
