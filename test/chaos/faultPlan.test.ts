import { describe, expect, it } from 'vitest';
import { planFaults, seededRandom, type FaultPlanOptions } from './faultPlan.js';

const options: FaultPlanOptions = {
  seed: 42,
  startMs: 2_000,
  endMs: 18_000,
  kills: { features: 1, model: 3, metric: 4 },
  cuts: { features: 1, model: 2, metric: 0 },
  brokerRestarts: 1,
  maxRestartDelayMs: 2_000,
  brokerDownMs: [2_000, 5_000],
};

describe('planFaults', () => {
  it('draws the asked-for faults inside the window, sorted, the same for the same seed', () => {
    const plan = planFaults(options);
    expect(planFaults(options)).toEqual(plan);
    const count = (what: string) =>
      plan.filter((f) => (f.kind === 'kill' ? f.service : f.kind) === what).length;
    expect([count('features'), count('model'), count('metric'), count('broker-restart')]).toEqual([
      1, 3, 4, 1,
    ]);
    const times = plan.map((f) => f.atMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const f of plan) {
      expect(f.atMs).toBeGreaterThanOrEqual(2_000);
      expect(f.atMs).toBeLessThan(18_000);
      if (f.kind === 'kill') expect(f.restartAfterMs).toBeLessThanOrEqual(2_000);
      if (f.kind === 'broker-restart') expect(f.downMs).toBeGreaterThanOrEqual(2_000);
    }
  });

  it('puts one kill of a service in each equal slot of the window (4 kills in 16 s: 4 s slots)', () => {
    const metric = planFaults({ ...options, seed: 7 }).filter(
      (f) => f.kind === 'kill' && f.service === 'metric',
    );
    metric.forEach((f, i) => expect(f.atMs).toBeGreaterThanOrEqual(2_000 + 4_000 * i));
    metric.forEach((f, i) => expect(f.atMs).toBeLessThanOrEqual(2_000 + 4_000 * (i + 1)));
  });

  it('differs between seeds and refuses an empty window', () => {
    expect(planFaults({ ...options, seed: 1 })).not.toEqual(planFaults({ ...options, seed: 2 }));
    expect(() => planFaults({ ...options, endMs: 2_000 })).toThrow(/empty/);
  });
});

describe('seededRandom', () => {
  it('yields numbers in [0, 1) spread over the interval', () => {
    const random = seededRandom(123);
    const draws = Array.from({ length: 10_000 }, random);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });
});
