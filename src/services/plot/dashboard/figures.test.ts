import { describe, expect, it } from 'vitest';
import type { MetricStatus } from '../../../contract/status.js';
import type { SeriesPoint } from '../errorTimeSeries.js';
import { ErrorStats } from '../errorStats.js';
import { buildFigures, rowsPerSecond } from './figures.js';
import { MaeAlert } from './maeAlert.js';

const point = (second: number, rows: number): SeriesPoint => ({
  t: second * 1000,
  rows,
  mae: 1,
  rollingMae: 1,
});

describe('rowsPerSecond', () => {
  it('averages the last five complete seconds, leaving out the one still filling', () => {
    const series = [
      point(94, 999),
      point(95, 10),
      point(96, 20),
      point(97, 30),
      point(98, 40),
      point(99, 50),
      point(100, 7),
    ];
    // now = 100.5 s: seconds 95..99 are complete; 94 is before the span; 100 is the current second.
    expect(rowsPerSecond(series, 100_500)).toBe((10 + 20 + 30 + 40 + 50) / 5);
  });

  it('counts seconds without a point as zero rows', () => {
    expect(rowsPerSecond([point(90, 100), point(97, 50)], 100_000)).toBe(50 / 5);
  });

  it('falls to zero when rows stop, and divides by the seconds since the first row while younger than the span', () => {
    expect(rowsPerSecond([point(50, 100)], 100_000)).toBe(0);
    expect(rowsPerSecond([point(98, 30), point(99, 50)], 100_200)).toBe(40);
  });

  it('is unknown with no rows or only the current second', () => {
    expect(rowsPerSecond([], 100_000)).toBeNull();
    expect(rowsPerSecond([point(100, 5)], 100_900)).toBeNull();
  });
});

describe('buildFigures', () => {
  const status: MetricStatus = {
    updatedAt: 5,
    rowsWritten: 4,
    pending: 2,
    expired: 1,
    duplicates: 0,
    deadLetters: { features: 1, y_true: 0, y_pred: 3 },
    latencyMs: undefined,
  };

  it('is plain JSON with nulls before the first row and before the first status', () => {
    const stats = new ErrorStats({ windowSize: 3 });
    const snap = stats.snapshot();
    const figures = buildFigures({
      ...snap,
      windowSize: 3,
      status: undefined,
      alert: new MaeAlert(undefined).status,
      lastRowAt: undefined,
      nowMs: 0,
    });
    expect(figures).toEqual(JSON.parse(JSON.stringify(figures)));
    expect(figures).toMatchObject({
      rows: 0,
      total: null,
      recent: null,
      rowsPerSecond: null,
      lastRowAt: null,
      metric: null,
    });
  });

  it('takes all-row figures from the histogram, window figures from the window, and sums dead letters', () => {
    const stats = new ErrorStats({ windowSize: 2 });
    const values = [1, 2, 3, 10];
    stats.addRows(
      values.map((absoluteError, i) => ({ id: String(i), yTrue: 0, yPred: absoluteError, absoluteError })),
      1000,
    );
    const snap = stats.snapshot();
    const figures = buildFigures({
      ...snap,
      windowSize: 2,
      status,
      alert: new MaeAlert(undefined).status,
      lastRowAt: 1000,
      nowMs: 3000,
    });
    expect(figures.rows).toBe(4);
    expect(figures.total?.mean).toBe(4);
    expect(figures.total?.rmse).toBeCloseTo(Math.sqrt((1 + 4 + 9 + 100) / 4), 12);
    expect(figures.total?.max).toBe(10);
    expect(figures.recent).toMatchObject({ count: 2, mean: 6.5, max: 10 });
    expect(figures.metric).toMatchObject({ pending: 2, deadLettersTotal: 4, latencyMs: null });
    expect(figures.rowsPerSecond).toBe(2); // 4 rows in second 1, over seconds 1..2
  });
});
