import { describe, expect, it } from 'vitest';
import { idKey } from '../../contract/wire.js';
import { formatRowLatencyLine, parseRowLatencyLine } from './rowLatencyLine.js';

const parseFormatted = (text: string) => parseRowLatencyLine(text.replace(/\n$/, ''));

describe('row latency lines', () => {
  it('reads back what it writes, to the microsecond, for number ids and string ids with spaces and digits', () => {
    for (const id of [151, 1.5, 'mi3k9x2a0q7fz-12', 'a b 3 4', '7 8']) {
      const line = formatRowLatencyLine(idKey(id), 1_764_000_000_123.457, 1_764_000_000_130.001);
      expect(line.endsWith('\n')).toBe(true);
      expect(parseFormatted(line)).toEqual({
        idJson: idKey(id),
        publishedAtMs: 1_764_000_000_123.457,
        writtenAtMs: 1_764_000_000_130.001,
      });
    }
  });

  it('keeps the sub-millisecond part that makes a latency of a few ms exact', () => {
    const parsed = parseFormatted(formatRowLatencyLine('"x-1"', 1000.25, 1003.5));
    expect(parsed!.writtenAtMs - parsed!.publishedAtMs).toBeCloseTo(3.25, 6);
  });

  it('refuses lines of another form, such as a torn one', () => {
    expect(parseRowLatencyLine('"x-1" 1764000000123.457')).toBeUndefined();
    expect(parseRowLatencyLine('')).toBeUndefined();
    expect(parseRowLatencyLine('"x-1" 17640 abc')).toBeUndefined();
  });
});
