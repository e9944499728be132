import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetricStatus } from '../../../contract/status.js';
import { parseMetricStatus, readMetricStatus } from './metricStatus.js';

const good: MetricStatus = {
  updatedAt: 1_700_000_000_000,
  rowsWritten: 10,
  pending: 1,
  expired: 0,
  duplicates: 2,
  deadLetters: { features: 0, y_true: 1, y_pred: 0 },
  latencyMs: { p50: 1.5, p90: 2, p99: 9, max: 12, samples: 10 },
};

describe('parseMetricStatus', () => {
  it('accepts what the metric service writes', () => {
    expect(parseMetricStatus(JSON.stringify(good))).toEqual({ kind: 'ok', status: good });
  });

  it('accepts a status written before the first row (no latency key in the JSON)', () => {
    const read = parseMetricStatus(JSON.stringify({ ...good, latencyMs: undefined }));
    expect(read).toEqual({ kind: 'ok', status: { ...good, latencyMs: undefined } });
  });

  it('calls a cut-off file or a wrong shape invalid, naming the field', () => {
    const text = JSON.stringify(good);
    expect(parseMetricStatus(text.slice(0, text.length / 2)).kind).toBe('invalid');
    const wrong = parseMetricStatus(JSON.stringify({ ...good, pending: -1 }));
    expect(wrong.kind === 'invalid' && wrong.reason).toMatch(/^pending:/);
    const wrongQueue = parseMetricStatus(JSON.stringify({ ...good, deadLetters: { features: 'x' } }));
    expect(wrongQueue.kind === 'invalid' && wrongQueue.reason).toMatch(/^deadLetters\.features:/);
  });
});

describe('readMetricStatus', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'predstream-status-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a missing file as missing, not as an error', async () => {
    expect(await readMetricStatus(path.join(dir, 'metric_status.json'))).toEqual({ kind: 'missing' });
  });

  it('reads a file', async () => {
    const file = path.join(dir, 'status.json');
    writeFileSync(file, JSON.stringify(good));
    expect(await readMetricStatus(file)).toEqual({ kind: 'ok', status: good });
  });

  it('reports a folder in the file’s place as invalid', async () => {
    expect((await readMetricStatus(dir)).kind).toBe('invalid');
  });
});
