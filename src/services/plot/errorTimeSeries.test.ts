import { describe, expect, it } from 'vitest';
import { ErrorTimeSeries } from './errorTimeSeries.js';

describe('ErrorTimeSeries', () => {
  it('groups rows by second with their count, MAE and the latest rolling MAE', () => {
    const s = new ErrorTimeSeries();
    s.add(10_000, 1, 5);
    s.add(10_999, 3, 6);
    s.add(12_500, 10, 7);
    expect(s.points()).toEqual([
      { t: 10_000, rows: 2, mae: 2, rollingMae: 6 },
      { t: 12_000, rows: 1, mae: 10, rollingMae: 7 },
    ]);
  });

  it('keeps only the last maxPoints seconds', () => {
    const s = new ErrorTimeSeries(5);
    for (let sec = 0; sec < 23; sec++) s.add(sec * 1000, sec, sec);
    const points = s.points();
    expect(points.map((p) => p.t)).toEqual([18_000, 19_000, 20_000, 21_000, 22_000]);
  });

  it('adds to the latest second when the clock steps back', () => {
    const s = new ErrorTimeSeries();
    s.add(5_000, 2, 2);
    s.add(3_000, 4, 3);
    expect(s.points()).toEqual([{ t: 5_000, rows: 2, mae: 3, rollingMae: 3 }]);
  });

  it('forgets everything on reset', () => {
    const s = new ErrorTimeSeries();
    s.add(1_000, 1, 1);
    s.reset();
    expect(s.points()).toEqual([]);
  });
});
