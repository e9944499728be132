import { describe, expect, it } from 'vitest';
import { buildErrorChartSpec } from '../chartSpec.js';
import { ErrorStats } from '../errorStats.js';
import { seededRandom } from '../../../../test/support/seededRandom.js';
import { DashboardFeed, type FeedInput } from './dashboardFeed.js';
import { buildFigures } from './figures.js';
import { MaeAlert } from './maeAlert.js';

const SOURCE = '/data/logs/metric_log.csv';

function setup() {
  const stats = new ErrorStats({ windowSize: 100 });
  const feed = new DashboardFeed({ source: SOURCE, windowSize: 100, alertMae: undefined, startedAt: 1 });
  const alert = new MaeAlert(undefined);
  const rand = seededRandom(3);
  let id = 0;
  const add = (n: number, nowMs: number) =>
    stats.addRows(
      Array.from({ length: n }, () => {
        const absoluteError = -Math.log(1 - rand()) * 40;
        return { id: String(id++), yTrue: 0, yPred: absoluteError, absoluteError };
      }),
      nowMs,
    );
  const input = (nowMs: number, pending = 0): FeedInput => {
    const snapshot = stats.snapshot();
    const status = {
      updatedAt: 0,
      rowsWritten: 0,
      pending,
      expired: 0,
      duplicates: 0,
      deadLetters: {},
      latencyMs: undefined,
    };
    const figures = buildFigures({
      ...snapshot,
      windowSize: 100,
      status,
      alert: alert.status,
      lastRowAt: undefined,
      nowMs,
    });
    return { snapshot, figures, nowMs };
  };
  return { stats, feed, add, input };
}

describe('DashboardFeed', () => {
  it('sends the histogram as the very spec that draws the PNG', () => {
    const { stats, feed, add, input } = setup();
    add(500, 10_000);
    const message = feed.snapshot(input(10_500));
    expect(message.chart).toEqual(buildErrorChartSpec(stats.snapshot().total, { source: SOURCE }));
    expect(message.figures.rows).toBe(500);
    expect(message.series).toEqual(stats.snapshot().series);
  });

  it('sends nothing when nothing changed, and no chart when only other figures changed', () => {
    const { feed, add, input } = setup();
    add(50, 10_000);
    expect(feed.next(input(10_100))).toMatchObject({ chart: expect.any(Object), series: expect.any(Array) });
    expect(feed.next(input(10_100))).toBeUndefined();
    const statusOnly = feed.next(input(10_100, 7));
    expect(statusOnly?.figures.metric?.pending).toBe(7);
    expect(statusOnly).not.toHaveProperty('chart');
    expect(statusOnly).not.toHaveProperty('series');
  });

  it('sends only the seconds of the series that changed since the last push', () => {
    const { feed, add, input } = setup();
    add(10, 1_000);
    add(10, 2_000);
    add(10, 3_000);
    expect(feed.next(input(3_100))?.series?.map((p) => p.t)).toEqual([1_000, 2_000, 3_000]);
    add(5, 3_500);
    const sameSecond = feed.next(input(3_600));
    expect(sameSecond?.series).toEqual([
      { t: 3_000, rows: 15, mae: expect.any(Number), rollingMae: expect.any(Number) },
    ]);
    add(5, 4_200);
    expect(feed.next(input(4_300))?.series?.map((p) => p.t)).toEqual([3_000, 4_000]);
  });

  it('keeps a push the same size however many rows came before', () => {
    const { feed, add, input } = setup();
    let now = 1_000_000;
    add(1_000, now);
    feed.next(input(now));
    add(10, (now += 1000));
    const early = JSON.stringify(feed.next(input(now))).length;
    for (let i = 0; i < 200; i++) add(1_000, (now += 1000));
    feed.next(input(now));
    add(10, (now += 1000));
    const late = JSON.stringify(feed.next(input(now))).length;
    expect(late).toBeLessThan(early * 1.2);
  });

  it('after a broadcast snapshot (a reset), differences start from the snapshot', () => {
    const { stats, feed, add, input } = setup();
    add(100, 1_000);
    feed.next(input(1_100));
    stats.reset();
    const snapshot = feed.snapshot(input(2_000), true);
    expect(snapshot.figures.rows).toBe(0);
    expect(JSON.stringify(snapshot.chart)).toContain('Waiting for rows');
    expect(feed.next(input(2_000))).toBeUndefined();
    add(3, 3_000);
    expect(feed.next(input(3_100))?.series).toHaveLength(1);
  });

  it('includes both series charts, with the threshold rule when an alert is configured', () => {
    const feed = new DashboardFeed({ source: SOURCE, windowSize: 10, alertMae: 12.5, startedAt: 1 });
    const stats = new ErrorStats({ windowSize: 10 });
    const snapshot = stats.snapshot();
    const figures = buildFigures({
      ...snapshot,
      windowSize: 10,
      status: undefined,
      alert: new MaeAlert(12.5).status,
      lastRowAt: undefined,
      nowMs: 0,
    });
    const message = feed.snapshot({ snapshot, figures, nowMs: 0 });
    expect(JSON.stringify(message.seriesCharts.rollingMae)).toContain('alert > 12.5');
    expect(JSON.stringify(message.seriesCharts.throughput)).toContain('rows/s');
  });
});
