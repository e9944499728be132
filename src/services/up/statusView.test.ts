import { describe, expect, it } from 'vitest';
import {
  formatElapsed,
  formatMs,
  formatRate,
  formatStatusLine,
  renderStatusBlock,
  type StatusView,
} from './statusView.js';

function view(overrides: Partial<StatusView> = {}): StatusView {
  return {
    elapsedMs: 83_000,
    services: [
      { name: 'features', state: 'finished', pid: 101, inPerSec: undefined, outPerSec: 100, queues: [] },
      {
        name: 'model',
        state: 'restarting (2)',
        pid: 102,
        inPerSec: 49.96,
        outPerSec: 50,
        queues: [{ queue: 'features', ready: 17, dead: 1 }],
      },
      {
        name: 'metric',
        state: 'running',
        pid: 103,
        inPerSec: 100,
        outPerSec: 50,
        queues: [
          { queue: 'y_true', ready: 0, dead: 0 },
          { queue: 'y_pred', ready: 4, dead: undefined },
        ],
      },
      {
        name: 'plot',
        state: 'starting',
        pid: undefined,
        inPerSec: 12345.6,
        outPerSec: undefined,
        queues: [],
      },
    ],
    brokerDown: false,
    rows: 312,
    targetRows: 600,
    rowsPerSec: 49.5,
    mae: { value: 43.2149, rows: 312 },
    latencyMs: { p50: 4.12, p99: 1250 },
    pending: 3,
    dashboardUrl: 'http://127.0.0.1:8080',
    stopping: undefined,
    ...overrides,
  };
}

/** The whitespace-separated cells of the table row that starts with `name`. */
function cells(lines: string[], name: string): string[] {
  const row = lines.find((l) => l.startsWith(`${name} `));
  if (!row) throw new Error(`no row for ${name} in:\n${lines.join('\n')}`);
  return row.trim().split(/\s+/);
}

describe('number formats', () => {
  it('rates, durations and latencies', () => {
    expect([formatRate(undefined), formatRate(0), formatRate(49.96), formatRate(12345.6)]).toEqual([
      '-',
      '0.0',
      '50.0',
      '12346',
    ]);
    expect([formatElapsed(5_900), formatElapsed(83_000), formatElapsed(2 * 3600_000 + 5 * 60_000)]).toEqual([
      '5s',
      '1m23s',
      '2h05m',
    ]);
    expect([formatMs(4.12), formatMs(147.4), formatMs(12_345)]).toEqual(['4.1 ms', '147 ms', '12.3 s']);
  });
});

describe('renderStatusBlock', () => {
  it('shows each service with its state, pid, rates and the queues it reads, then the summary', () => {
    const lines = renderStatusBlock(view(), 140);
    expect(lines[0]).toBe(''); // the painter parks the cursor here
    expect(lines[1]).toMatch(
      /^-- predstream up -- 1m23s -- Ctrl-C stops -- dashboard http:\/\/127\.0\.0\.1:8080 -+$/,
    );
    expect(cells(lines, 'features')).toEqual(['features', 'finished', '101', '-', '100']);
    expect(cells(lines, 'model')).toEqual([
      'model',
      'restarting',
      '(2)',
      '102',
      '50.0',
      '50.0',
      'features',
      '17',
      '(dead',
      '1)',
    ]);
    expect(cells(lines, 'metric')).toEqual([
      'metric',
      'running',
      '103',
      '100',
      '50.0',
      'y_true',
      '0',
      '(dead',
      '0)',
      'y_pred',
      '4',
      '(dead',
      '-)',
    ]);
    expect(cells(lines, 'plot')).toEqual(['plot', 'starting', '-', '12346', '-']);
    const summary = lines.slice(7).join('   ');
    expect(summary).toBe(
      'rows 312 of 600   49.5 rows/s   MAE 43.21 (last 312 rows)   latency p50 4.1 ms p99 1250 ms   pending 3',
    );
    // The numeric columns line up, so the eye can run down them.
    const pidEnd = lines[2]!.indexOf('pid') + 3;
    for (const [name, pid] of [
      ['features', '101'],
      ['model', '102'],
      ['metric', '103'],
    ] as const) {
      const row = lines.find((l) => l.startsWith(name))!;
      expect(row.slice(pidEnd - 3, pidEnd)).toBe(pid);
    }
  });

  it('says broker down instead of queue depths, and the stop reason instead of the hints', () => {
    const lines = renderStatusBlock(view({ brokerDown: true, stopping: 'SIGINT' }), 140);
    expect(lines[1]).toMatch(/^-- predstream up -- 1m23s -- stopping \(SIGINT\) -+$/);
    expect(lines.find((l) => l.startsWith('model'))).toMatch(/ broker down$/);
    expect(lines.find((l) => l.startsWith('metric'))).toMatch(/ broker down$/);
    expect(lines.find((l) => l.startsWith('plot'))).not.toMatch(/broker/);
  });

  it('shows dashes for what is not known yet', () => {
    const lines = renderStatusBlock(
      view({
        rows: 0,
        targetRows: undefined,
        rowsPerSec: undefined,
        mae: undefined,
        latencyMs: undefined,
        pending: undefined,
      }),
      140,
    );
    expect(lines.slice(7).join('   ')).toBe('rows 0   - rows/s   MAE -   latency -   pending -');
  });

  it.each([200, 100, 80, 60, 40, 20, 5, 1])('keeps every line shorter than %i columns', (columns) => {
    const lines = renderStatusBlock(view(), columns);
    for (const line of lines) expect(line.length).toBeLessThan(Math.max(2, columns));
    expect(lines.length).toBeGreaterThanOrEqual(7);
  });

  it('makes the queue cells compact, then drops the pid column, before it cuts a line', () => {
    const full = renderStatusBlock(view(), 120);
    expect(cells(full, 'metric').slice(5).join(' ')).toBe('y_true 0 (dead 0) y_pred 4 (dead -)');
    const compact = renderStatusBlock(view(), 85);
    expect(cells(compact, 'metric')).toEqual([
      'metric',
      'running',
      '103',
      '100',
      '50.0',
      'y_true',
      '0/0',
      'y_pred',
      '4/-',
    ]);
    expect(compact[2]).toMatch(/ queues: ready\/dead$/);
    const noPid = renderStatusBlock(view(), 70);
    expect(cells(noPid, 'metric')).toEqual([
      'metric',
      'running',
      '100',
      '50.0',
      'y_true',
      '0/0',
      'y_pred',
      '4/-',
    ]);
    expect(noPid[2]).not.toMatch(/pid/);
    for (const [lines, columns] of [
      [full, 120],
      [compact, 85],
      [noPid, 70],
    ] as const)
      for (const line of lines) expect(line.length).toBeLessThan(columns);
  });

  it('wraps the summary between its parts on a narrow terminal instead of cutting them', () => {
    const wide = renderStatusBlock(view(), 200);
    const narrow = renderStatusBlock(view(), 50);
    expect(wide.length).toBe(8);
    expect(narrow.length).toBeGreaterThan(8);
    expect(narrow.slice(7).join('   ')).toBe(wide[7]);
  });
});

describe('formatStatusLine', () => {
  it('puts the summary, the queue depths and the states on one line', () => {
    expect(formatStatusLine(view())).toBe(
      'rows 312 of 600, 49.5 rows/s, MAE 43.21 (last 312 rows), latency p50 4.1 ms p99 1250 ms, pending 3; ' +
        'queues features 17 (dead 1), y_true 0 (dead 0), y_pred 4 (dead -); ' +
        'features finished, model restarting (2), metric running, plot starting',
    );
    expect(formatStatusLine(view({ brokerDown: true }))).toContain('; queues: broker down; ');
  });
});
