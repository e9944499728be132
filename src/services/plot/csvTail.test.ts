import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { CsvLineSplitter, MetricRowParser, parseMetricLine, type MetricRow } from './csvTail.js';

// Written by csv-stringify, as the metric service writes it: quoted ids with commas, quotes and a
// newline, multi-byte UTF-8 (2, 3 and 4 bytes), a formula-escaped id, one CRLF line.
const RECORDS: (string | number)[][] = [
  ['id', 'y_true', 'y_pred', 'absolute_error'],
  [1700000000.123, 151, 140.5, 10.5],
  ['a,b', 1, 2, 1],
  ['say "hi"', -3.25, 4, 7.25],
  ['café ünïcode', 0, 0, 0],
  ['東京,大阪', 1e-7, 2e-7, 1e-7],
  ['emoji 😀🎉', 12, 10, 2],
  ["'=SUM(A1)", 5, 6, 1],
  ['two\nlines', 8, 9, 1],
  ['"', 3, 3, 0],
];

function sampleText(): string {
  return stringify(RECORDS) + stringify([['crlf', 1, 3, 2]], { record_delimiter: '\r\n' });
}

/** The rows an independent reader (csv-parse on the whole text) finds, header skipped. */
function expectedRows(text: string): MetricRow[] {
  const records = parse(text, { record_delimiter: ['\n', '\r\n'] }) as string[][];
  return records.slice(1).map(([id, t, p, e]) => ({
    id: id ?? '',
    yTrue: Number(t),
    yPred: Number(p),
    absoluteError: Number(e),
  }));
}

function rowsFromChunks(chunks: Buffer[]): {
  rows: MetricRow[];
  parser: MetricRowParser;
  splitter: CsvLineSplitter;
} {
  const splitter = new CsvLineSplitter();
  const parser = new MetricRowParser();
  const rows: MetricRow[] = [];
  for (const chunk of chunks) rows.push(...parser.parse(splitter.push(chunk)));
  return { rows, parser, splitter };
}

describe('CsvLineSplitter + MetricRowParser', () => {
  const bytes = Buffer.from(sampleText(), 'utf8');
  const expected = expectedRows(sampleText());

  it('the sample exercises what it claims to', () => {
    expect(bytes.length).toBeGreaterThan(sampleText().length); // multi-byte characters present
    expect(sampleText()).toContain('"two\nlines"');
    expect(expected).toHaveLength(RECORDS.length);
  });

  it('gives the same rows when split into two chunks at every byte offset', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { rows, parser } = rowsFromChunks([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(rows, `cut at byte ${cut}`).toEqual(expected);
      expect(parser.malformed).toBe(0);
      expect(parser.headers).toBe(1);
    }
  });

  it('gives the same rows when split into three chunks at every pair of offsets', () => {
    for (let a = 0; a <= bytes.length; a += 5) {
      for (let b = a; b <= bytes.length; b += 3) {
        const { rows } = rowsFromChunks([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]);
        expect(rows, `cuts at ${a} and ${b}`).toEqual(expected);
      }
    }
  });

  it('gives the same rows when fed one byte at a time', () => {
    const chunks = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
    expect(rowsFromChunks(chunks).rows).toEqual(expected);
  });

  it('never parses the half-written last line, and completes it with the next chunk', () => {
    const complete = stringify([['x', 1, 2, 1]]);
    const partial = '"half, written",3,4';
    const { rows, splitter } = rowsFromChunks([Buffer.from(complete + partial)]);
    expect(rows.map((r) => r.id)).toEqual(['x']);
    expect(splitter.pendingByteCount).toBe(Buffer.byteLength(partial));
    const rest = new MetricRowParser().parse(splitter.push(Buffer.from(',1\n')));
    expect(rest).toEqual([{ id: 'half, written', yTrue: 3, yPred: 4, absoluteError: 1 }]);
    expect(splitter.pendingByteCount).toBe(0);
  });

  it('does not keep a reference to the caller buffer (a reused read buffer cannot corrupt the pending line)', () => {
    const splitter = new CsvLineSplitter();
    const buffer = Buffer.from('abc,1,2');
    splitter.push(buffer);
    buffer.fill(0x7a);
    expect(splitter.push(Buffer.from(',3\n'))).toEqual(['abc,1,2,3']);
  });

  it('treats a stray quote inside an unquoted field as data, so later lines still split', () => {
    const splitter = new CsvLineSplitter();
    const lines = splitter.push(Buffer.from('ab"c,1,2,1\nd,1,2,1\n'));
    expect(lines).toEqual(['ab"c,1,2,1', 'd,1,2,1']);
    const parser = new MetricRowParser();
    expect(parser.parse(lines).map((r) => r.id)).toEqual(['d']);
    expect(parser.malformed).toBe(1);
  });

  it('drops an over-long line and recovers at the next newline, even inside an unterminated quote', () => {
    const splitter = new CsvLineSplitter({ maxLineBytes: 32 });
    const lines = [
      ...splitter.push(Buffer.from('"never closed ' + 'x'.repeat(20))),
      ...splitter.push(Buffer.from('y'.repeat(20) + '\nok,1,2,1\n')),
    ];
    expect(lines).toEqual(['ok,1,2,1']);
    expect(splitter.droppedLines).toBe(1);
  });

  it('drops an over-long line that arrives in one chunk', () => {
    const splitter = new CsvLineSplitter({ maxLineBytes: 8 });
    expect(splitter.push(Buffer.from('0123456789,1\na,1,2,1\n'))).toEqual(['a,1,2,1']);
    expect(splitter.droppedLines).toBe(1);
  });

  it('forgets the pending line on reset', () => {
    const splitter = new CsvLineSplitter();
    splitter.push(Buffer.from('"open quote, 1'));
    splitter.reset();
    expect(splitter.pendingByteCount).toBe(0);
    expect(splitter.push(Buffer.from('a,1,2,1\n'))).toEqual(['a,1,2,1']);
  });
});

describe('parseMetricLine', () => {
  it('recognises the header, also behind a byte-order mark', () => {
    expect(parseMetricLine('id,y_true,y_pred,absolute_error')).toEqual({ kind: 'header' });
    expect(parseMetricLine('\uFEFFid,y_true,y_pred,absolute_error')).toEqual({ kind: 'header' });
  });

  it('reads numbers the way Python and JavaScript write them', () => {
    expect(parseMetricLine('7,151.0,1.5e2,1.0')).toEqual({
      kind: 'row',
      row: { id: '7', yTrue: 151, yPred: 150, absoluteError: 1 },
    });
  });

  it.each([
    ['too few fields', 'a,1,2'],
    ['too many fields', 'a,1,2,3,4'],
    ['empty number', 'a,,2,3'],
    ['text for a number', 'a,one,2,3'],
    ['hex', 'a,0x10,2,3'],
    ['Infinity', 'a,Infinity,2,3'],
    ['NaN', 'a,1,2,NaN'],
    ['negative absolute error', 'a,1,2,-1'],
    ['unterminated quote', '"a,1,2,3'],
    ['overflow to infinity', 'a,1e999,2,3'],
  ])('counts a malformed line (%s) and skips it', (_name, line) => {
    expect(parseMetricLine(line).kind).toBe('malformed');
    const parser = new MetricRowParser();
    expect(parser.parse([line, 'ok,1,2,1'])).toHaveLength(1);
    expect(parser.malformed).toBe(1);
    expect(parser.lastMalformedReason).toBeTruthy();
  });

  it('skips blank lines without counting them as malformed', () => {
    const parser = new MetricRowParser();
    expect(parser.parse(['', '  '])).toEqual([]);
    expect(parser.malformed).toBe(0);
  });

  it('never throws, whatever the line', () => {
    let seed = 1;
    const next = () => (seed = (seed * 48271) % 2147483647);
    const alphabet = ['"', ',', '1', '.', 'e', '-', 'a', ' ', '\r', 'é', '\uFEFF'];
    for (let i = 0; i < 1000; i++) {
      const line = Array.from({ length: next() % 20 }, () => alphabet[next() % alphabet.length]).join('');
      expect(() => parseMetricLine(line)).not.toThrow();
    }
  });
});
