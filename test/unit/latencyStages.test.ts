import { describe, expect, it } from 'vitest';
import { parseLabelsLog, stageSamples } from '../../bench/latencyStages.js';
import { formatLabelLine, formatRowLabelLine } from '../../src/services/metric/metricCsv.js';

const T = Date.parse('2026-12-03T01:00:00.000Z');

describe('bench latency stages (from the metric labels_log.txt)', () => {
  it('reads the metric’s own label lines back, by id, first receipt first', () => {
    const text =
      formatLabelLine({ queue: 'y_pred', id: 'run-1', value: 2, receivedAt: T + 7 }) +
      formatLabelLine({ queue: 'y_true', id: 'run-1', value: 3, receivedAt: T + 4 }) +
      formatLabelLine({ queue: 'y_true', id: 'run-1', value: 3, receivedAt: T + 50 }) + // a redelivery
      formatLabelLine({ queue: 'y_true', id: 42, value: 1, receivedAt: T + 1 }) +
      formatLabelLine({ queue: 'y_true', id: 'with "quotes" and spaces', value: 1, receivedAt: T + 2 }) +
      'not a label line\n';
    const byId = parseLabelsLog(text);
    expect(byId.get('run-1')).toEqual({ yPred: T + 7, yTrue: T + 4 });
    expect(byId.get('42')).toEqual({ yTrue: T + 1 });
    expect(byId.get('with "quotes" and spaces')).toEqual({ yTrue: T + 2 });
    expect(byId.size).toBe(3);
    const row = parseLabelsLog(formatRowLabelLine({ id: 'run-1', yTrue: 3, yPred: 2, absoluteError: 1 }));
    expect(row.get('run-1')?.row).toBeGreaterThan(T);
  });

  it('splits each measured row into its stages and leaves out warm-up and incomplete rows', () => {
    const labels = new Map([
      ['a-1', { yTrue: T + 2, yPred: T + 5, row: T + 9 }],
      ['a-2', { yTrue: T + 12, yPred: T + 11, row: T + 13 }],
      ['a-3', { yTrue: T + 1 }],
      ['a-0', { yTrue: T, yPred: T, row: T }],
    ]);
    const sent = new Map([
      ['a-0', T - 10],
      ['a-1', T],
      ['a-2', T + 10],
      ['a-3', T],
    ]);
    const written = new Map([
      ['a-0', T + 1],
      ['a-1', T + 10.5],
      ['a-2', T + 20],
      ['a-3', T + 3],
    ]);
    const s = stageSamples(labels, sent, written, (id) => id !== 'a-0');
    expect(s).toEqual({
      yTrueReceived: [2, 2],
      yPredReceived: [5, 1],
      joined: [4, 1],
      written: [1.5, 7],
    });
  });
});
