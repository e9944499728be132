import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test/support/seededRandom.js';
import { idKey } from '../../contract/wire.js';
import type { MetricRow } from './join.js';
import {
  csvIdField,
  formatHeader,
  formatLabelLine,
  formatRow,
  formatRows,
  idKeysOfCsvField,
  parseCsvNumber,
} from './metricCsv.js';

const row = (id: number | string, yTrue: number, yPred: number): MetricRow => ({
  id,
  yTrue,
  yPred,
  absoluteError: Math.abs(yTrue - yPred),
});

describe('formatRows', () => {
  it('writes the header once, then one line per row', () => {
    expect(formatHeader()).toBe('id,y_true,y_pred,absolute_error\n');
    expect(formatRows([row(1, 151, 150)])).toBe('1,151,150,1\n');
    expect(formatRows([])).toBe('');
  });

  it('writes numbers that parse back to exactly the same value', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const values = [0.1 + 0.2, 1e-300, 5e-324, 1.7976931348623157e308, -0, 151, -3.25, 1 / 3, 2 ** 53 + 2];
    for (let i = 0; i < 500; i++) values.push((random() - 0.5) * 10 ** Math.floor(random() * 40 - 20));
    const rows = values.map((v, i) => row(i, v, values[(i + 1) % values.length] ?? 0));
    const parsed = parse(formatHeader() + formatRows(rows), { columns: true }) as Record<string, string>[];
    expect(parsed).toHaveLength(rows.length);
    parsed.forEach((fields, i) => {
      const r = rows[i]!;
      expect(Number(fields.id)).toBe(r.id);
      // toBe is Object.is, except that -0 is written as 0 (same value for every comparison).
      expect(Number(fields.y_true) === r.yTrue).toBe(true);
      expect(Number(fields.y_pred) === r.yPred).toBe(true);
      expect(Number(fields.absolute_error) === r.absoluteError).toBe(true);
    });
  });

  it('quotes ids holding commas and quotes so they read back intact', () => {
    const ids = ['a,b', 'say "hi"', 'plain', 'comma, and "quote"'];
    const text = formatRows(ids.map((id) => row(id, 1, 2)));
    const parsed = parse(text) as string[][];
    expect(parsed.map((r) => r[0])).toEqual(ids);
    expect(parsed.every((r) => r.length === 4)).toBe(true);
  });

  it('defuses string ids a spreadsheet would run as formulas, but writes negative numbers as numbers', () => {
    const ids = ['=SUM(A1:A9)', '+1', '-5', '@cmd', '\tx', "'quoted", 'ok-5'];
    const parsed = parse(formatRows([...ids, -5, -0.5].map((id) => row(id, 0, 0)))) as string[][];
    expect(parsed.map((r) => r[0])).toEqual([
      "'=SUM(A1:A9)",
      "'+1",
      "'-5",
      "'@cmd",
      "'\tx",
      "''quoted",
      'ok-5',
      '-5',
      '-0.5',
    ]);
    expect(csvIdField(-5)).toBe(-5);
  });

  it('writes exactly what csv-stringify writes, for any id and value', () => {
    const random = seededRandom(11);
    const chars = [
      'a',
      'Z',
      '0',
      '7',
      ' ',
      ',',
      '"',
      "'",
      '=',
      '+',
      '-',
      '@',
      '.',
      '_',
      'é',
      '😀',
      '\uFF1D',
      '\t',
      '\r',
      '\n',
    ];
    const ids: (number | string)[] = [
      '',
      ',',
      '"',
      ' ',
      '1',
      '-1',
      '1e5',
      'NaN',
      0,
      -0,
      7,
      -5,
      0.1,
      1e21,
      -1.5e-7,
    ];
    for (let i = 0; i < 3000; i++) {
      const length = Math.floor(random() * 6);
      let id = '';
      for (let j = 0; j < length; j++) id += chars[Math.floor(random() * chars.length)];
      ids.push(id);
    }
    const values = [0, -0, 1, -2.5, 1 / 3, 5e-324, 1e300, Number.NaN, Number.POSITIVE_INFINITY];
    for (const delimiter of ['\n', '\r\n'] as const) {
      ids.forEach((id, i) => {
        const r = row(id, values[i % values.length]!, values[(i * 7 + 3) % values.length]!);
        const expected = stringify([[csvIdField(r.id), r.yTrue, r.yPred, r.absoluteError]], {
          record_delimiter: delimiter,
          cast: { number: (x) => String(x) },
        });
        expect(formatRow(r, delimiter)).toBe(expected);
      });
    }
  });

  it('ends lines with CRLF when continuing a file that uses them', () => {
    expect(formatHeader('\r\n')).toBe('id,y_true,y_pred,absolute_error\r\n');
    expect(formatRows([row('a', 1, 1), row('b', 2, 4)], '\r\n')).toBe('a,1,1,0\r\nb,2,4,2\r\n');
  });
});

describe('idKeysOfCsvField', () => {
  it('maps every id we write back to its own key', () => {
    const ids: (number | string)[] = [7, -5, 1.5e-7, 1e21, 'abc', '=x', '-5', "'q", 'a,b'];
    for (const id of ids) {
      const [field] = (parse(formatRows([row(id, 0, 0)])) as string[][])[0]!;
      expect(idKeysOfCsvField(field!)).toContain(idKey(id));
    }
  });

  it('covers both the number and the string for a bare numeric field, and Python float text', () => {
    expect(idKeysOfCsvField('151').sort()).toEqual([idKey(151), idKey('151')].sort());
    expect(idKeysOfCsvField('1700000000.5')).toContain(idKey(1700000000.5));
    expect(idKeysOfCsvField('5.0')).toContain(idKey(5));
    expect(idKeysOfCsvField('1e+16')).toContain(idKey(1e16));
    expect(idKeysOfCsvField('abc')).toEqual([idKey('abc')]);
  });
});

describe('parseCsvNumber', () => {
  it('reads our numbers and Python floats, and gives null for text', () => {
    expect(parseCsvNumber('151.0')).toBe(151);
    expect(parseCsvNumber('-2.5e-3')).toBe(-0.0025);
    expect(parseCsvNumber('')).toBeNull();
    expect(parseCsvNumber('n/a')).toBeNull();
    expect(parseCsvNumber(undefined)).toBeNull();
  });
});

describe('formatLabelLine', () => {
  it('writes time, queue, JSON id and value on one line', () => {
    const at = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    expect(formatLabelLine({ queue: 'y_true', id: 'a b', value: 151, receivedAt: at })).toBe(
      '2024-01-02T03:04:05.678Z queue=y_true id="a b" value=151\n',
    );
    expect(formatLabelLine({ queue: 'y_pred', id: 3.5, value: -0.25, receivedAt: at })).toBe(
      '2024-01-02T03:04:05.678Z queue=y_pred id=3.5 value=-0.25\n',
    );
  });
});
