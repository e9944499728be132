import { describe, expect, it } from 'vitest';
import type { MetricStatus } from '../../contract/status.js';
import type { PromSample } from './promText.js';
import { StatusTracker, describeState, type Scrape, type ServiceProfile } from './statusTracker.js';
import type { ChildStatus } from './supervisor.js';

const PROFILES: ServiceProfile[] = [
  { name: 'features', reads: [], outCounter: 'published_total' },
  { name: 'model', reads: ['features'], inCounter: 'consumed_total', outCounter: 'published_total' },
  { name: 'metric', reads: ['y_true', 'y_pred'], inCounter: 'consumed_total', outCounter: 'rows_total' },
];
const T0 = 1_000_000;

function tracker(metricsPorts = true): StatusTracker {
  return new StatusTracker({
    startedAt: T0,
    maeWindow: 3,
    targetRows: 10,
    dashboardUrl: undefined,
    metricsPorts,
    services: PROFILES,
  });
}

const child = (
  name: string,
  pid: number,
  phase: ChildStatus['phase'] = 'running',
  restarts = 0,
): ChildStatus => ({
  name,
  pid,
  phase,
  restarts,
});

function scrape(ready: boolean, counters: Record<string, Array<[string, number]>>): Scrape {
  const samples: PromSample[] = [];
  for (const [name, byQueue] of Object.entries(counters))
    for (const [queue, value] of byQueue) samples.push({ name, labels: { queue }, value });
  return { ready, samples };
}

function status(overrides: Partial<MetricStatus> = {}): MetricStatus {
  return {
    updatedAt: T0 + 1000,
    rowsWritten: 5,
    pending: 2,
    expired: 0,
    duplicates: 0,
    deadLetters: { features: 1, y_true: 0, y_pred: 3 },
    latencyMs: { p50: 4, p90: 8, p99: 20, max: 30, samples: 5 },
    ...overrides,
  };
}

describe('describeState', () => {
  it.each([
    ['running', 0, true, 'running'],
    ['running', 0, false, 'starting'],
    ['running', 2, false, 'restarting (2)'],
    ['running', 2, true, 'running'],
    ['running', 0, undefined, 'running'],
    ['restarting', 1, undefined, 'restarting (1)'],
    ['finished', 0, false, 'finished'],
    ['stopped', 3, true, 'stopped'],
  ] as const)('%s after %i restarts, ready %s: %s', (phase, restarts, ready, expected) => {
    expect(describeState(phase, restarts, ready)).toBe(expected);
  });

  it('says not ready for a process that was ready and lost it (RabbitMQ went away)', () => {
    expect(describeState('running', 0, false, true)).toBe('not ready');
    expect(describeState('running', 1, false, true)).toBe('not ready');
    expect(describeState('running', 0, true, true)).toBe('running');
  });
});

describe('StatusTracker', () => {
  it('shows services in pipeline order with messages/s from counter growth between scrapes', () => {
    const t = tracker();
    const kids = [child('metric', 3), child('model', 2), child('features', 1)];
    t.observeChildren(T0, kids, new Map());
    expect(t.view(T0).services.map((s) => [s.name, s.state])).toEqual([
      ['features', 'starting'],
      ['model', 'starting'],
      ['metric', 'starting'],
    ]);
    t.observeChildren(
      T0 + 1000,
      kids,
      new Map([
        [
          'features',
          scrape(true, {
            published_total: [
              ['features', 10],
              ['y_true', 10],
            ],
          }),
        ],
        ['model', scrape(true, { consumed_total: [['features', 8]], published_total: [] })],
        ['metric', scrape(false, {})],
      ]),
    );
    t.observeChildren(
      T0 + 3000,
      kids,
      new Map([
        [
          'features',
          scrape(true, {
            published_total: [
              ['features', 110],
              ['y_true', 110],
            ],
          }),
        ],
        ['model', scrape(true, { consumed_total: [['features', 108]], published_total: [['y_pred', 90]] })],
        [
          'metric',
          scrape(true, {
            consumed_total: [
              ['y_true', 30],
              ['y_pred', 10],
            ],
            rows_total: [['', 6]],
          }),
        ],
      ]),
    );
    const [features, model, metric] = t.view(T0 + 3000).services;
    expect(features).toMatchObject({ state: 'running', pid: 1, inPerSec: undefined, outPerSec: 100 });
    expect(model).toMatchObject({ state: 'running', inPerSec: 50, outPerSec: 45 });
    // metric answered once with counters (the first scrape had none: zero, not unknown).
    expect(metric).toMatchObject({ state: 'running', inPerSec: 20, outPerSec: 3 });
  });

  it('forgets the rates of a process that was replaced, and has none for one that is not running', () => {
    const t = tracker();
    const m = (value: number) =>
      new Map([['model', scrape(true, { consumed_total: [['features', value]] })]]);
    t.observeChildren(T0, [child('model', 2)], m(100));
    t.observeChildren(T0 + 1000, [child('model', 2)], m(200));
    expect(t.view(T0 + 1000).services[0]?.inPerSec).toBe(100);
    t.observeChildren(T0 + 2000, [child('model', 2, 'restarting', 1)], new Map());
    expect(t.view(T0 + 2000).services[0]).toMatchObject({ state: 'restarting (1)', inPerSec: undefined });
    t.observeChildren(T0 + 3000, [child('model', 9, 'running', 1)], m(250));
    expect(t.view(T0 + 3000).services[0]).toMatchObject({ pid: 9, state: 'running', inPerSec: undefined });
    t.observeChildren(T0 + 4000, [child('model', 9, 'running', 1)], m(260));
    expect(t.view(T0 + 4000).services[0]?.inPerSec).toBe(10);
  });

  it('tells a process that lost readiness from one that is still starting, per pid', () => {
    const t = tracker();
    const at = (ms: number, pid: number, ready: boolean | undefined) =>
      t.observeChildren(
        T0 + ms,
        [child('model', pid, 'running', pid === 2 ? 0 : 1)],
        new Map(ready === undefined ? [] : [['model', scrape(ready, {})]]),
      );
    at(0, 2, undefined);
    expect(t.view(T0).services[0]?.state).toBe('starting');
    at(1000, 2, true);
    at(2000, 2, false);
    expect(t.view(T0).services[0]?.state).toBe('not ready');
    at(3000, 7, false); // restarted: a new process starts from scratch
    expect(t.view(T0).services[0]?.state).toBe('restarting (1)');
  });

  it('says running without metrics ports, where readiness cannot be known', () => {
    const t = tracker(false);
    t.observeChildren(T0, [child('model', 2)], new Map());
    expect(t.view(T0).services[0]?.state).toBe('running');
  });

  it('puts queue depths and dead letters beside the services that read them', () => {
    const t = tracker();
    t.observeChildren(T0, [child('model', 2), child('metric', 3)], new Map());
    t.observeQueueDepths({ features: 7, y_true: 1 });
    t.observeMetricStatus(status());
    const v = t.view(T0 + 2000);
    expect(v.brokerDown).toBe(false);
    expect(v.services.map((s) => s.queues)).toEqual([
      [{ queue: 'features', ready: 7, dead: 1 }],
      [
        { queue: 'y_true', ready: 1, dead: 0 },
        { queue: 'y_pred', ready: undefined, dead: 3 },
      ],
    ]);
    expect(v.pending).toBe(2);
    expect(v.latencyMs).toEqual({ p50: 4, p99: 20 });
    t.observeQueueDepths('down');
    const down = t.view(T0 + 2000);
    expect(down.brokerDown).toBe(true);
    expect(down.services[0]?.queues[0]?.ready).toBeUndefined();
  });

  it('ignores a metric status from before this run or one that stopped being updated', () => {
    const t = tracker();
    t.observeMetricStatus(status({ updatedAt: T0 - 1 }));
    expect(t.view(T0 + 100)).toMatchObject({ pending: undefined, latencyMs: undefined });
    t.observeMetricStatus(status({ updatedAt: T0 + 1000 }));
    expect(t.view(T0 + 6000).pending).toBe(2);
    expect(t.view(T0 + 6001).pending).toBeUndefined();
  });

  it('keeps rows, rows/s and the rolling MAE over the last rows', () => {
    const t = tracker();
    expect(t.view(T0).mae).toBeUndefined();
    t.observeRows(T0, 0);
    t.addAbsoluteErrors([10, 1, 2]);
    t.addAbsoluteErrors([6]);
    t.observeRows(T0 + 2000, 4);
    const v = t.view(T0 + 2000);
    expect(v).toMatchObject({ rows: 4, targetRows: 10, rowsPerSec: 2, elapsedMs: 2000 });
    expect(v.mae).toEqual({ value: 3, rows: 3 }); // window of 3: (1 + 2 + 6) / 3
    t.setStopping('4 rows written');
    expect(t.view(T0 + 2000).stopping).toBe('4 rows written');
  });
});
