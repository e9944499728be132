import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseRowLatencyLine } from './rowLatencyLine.js';
import { RowLatencyLog } from './rowLatencyLog.js';

describe('RowLatencyLog', () => {
  const dirs: string[] = [];
  const tempFile = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'row-latency-'));
    dirs.push(dir);
    return path.join(dir, 'row-latency.log');
  };
  afterEach(() => {
    vi.useRealTimers();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes nothing per row, then every line at the next flush, in order', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const file = tempFile();
    const log = await RowLatencyLog.open(file, () => undefined);
    log.add('"a-1"', 1000, 1004.5);
    log.add('2', 1001, 1003);
    expect(readFileSync(file, 'utf8')).toBe('');
    vi.advanceTimersByTime(100);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map(parseRowLatencyLine);
    expect(lines).toEqual([
      { idJson: '"a-1"', publishedAtMs: 1000, writtenAtMs: 1004.5 },
      { idJson: '2', publishedAtMs: 1001, writtenAtMs: 1003 },
    ]);
    await log.close();
  });

  it('appends what is left at close, after the lines of an earlier run, whose torn last line it cuts', async () => {
    const file = tempFile();
    writeFileSync(file, '"old-1" 1.000 2.000\n"old-2" 3.0');
    const log = await RowLatencyLog.open(file, () => undefined);
    log.add('"new-1"', 10, 12);
    await log.close();
    expect(readFileSync(file, 'utf8')).toBe('"old-1" 1.000 2.000\n"new-1" 10.000 12.000\n');
  });
});
