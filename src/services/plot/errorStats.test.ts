import { describe, expect, it } from 'vitest';
import { ErrorStats } from './errorStats.js';

const row = (absoluteError: number) => ({ id: 'x', yTrue: 0, yPred: absoluteError, absoluteError });

describe('ErrorStats', () => {
  it('feeds every row to the histogram, the window and the time series', () => {
    const stats = new ErrorStats({ windowSize: 2, fineBins: 64 });
    stats.addRows([row(1), row(2), row(6)], 1_000);
    const snap = stats.snapshot();
    expect(snap.total?.count).toBe(3);
    expect(snap.total?.mean).toBe(3);
    expect(snap.recent?.count).toBe(2);
    expect(snap.recent?.mean).toBe(4);
    expect(snap.series).toEqual([{ t: 1_000, rows: 3, mae: 3, rollingMae: 4 }]);
  });

  it('snapshots are plain data, and empty before the first row and after reset', () => {
    const stats = new ErrorStats();
    expect(stats.snapshot()).toEqual({ total: undefined, recent: undefined, series: [] });
    stats.add(row(1), 0);
    expect(JSON.parse(JSON.stringify(stats.snapshot()))).toEqual(stats.snapshot());
    stats.reset();
    expect(stats.count).toBe(0);
    expect(stats.snapshot()).toEqual({ total: undefined, recent: undefined, series: [] });
  });
});
