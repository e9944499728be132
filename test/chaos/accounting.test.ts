import { describe, expect, it } from 'vitest';
import {
  account,
  emptyPublishedLog,
  formatAccounting,
  parseMetricCsv,
  parsePublishedLog,
  promiseHeld,
  type Expected,
} from './accounting.js';

// Dataset row r has target 100 + r and prediction 90 + r / 4 (values chosen to be exact in float64).
const expected = (row: number): Expected | undefined =>
  row >= 0 && row < 10 ? { yTrue: 100 + row, yPred: 90 + row / 4 } : undefined;

/** A CSV line for dataset row `row` under `id`, as the metric service would write it. */
const rightRow = (id: string, row: number): string => {
  const want = expected(row)!;
  return `${id},${want.yTrue},${want.yPred},${Math.abs(want.yTrue - want.yPred)}`;
};

const csv = (...lines: string[]) => ['id,y_true,y_pred,absolute_error', ...lines].join('\n') + '\n';

describe('parsePublishedLog', () => {
  it('reads sent and ok lines across files and skips a torn last line', () => {
    const log = parsePublishedLog('sent "a-1" 3 1764000000000\nsent "a-2" 4\nok "a-1"\n');
    parsePublishedLog('sent "b-1" 7\nok "b-1"\nsent "b-2" 8\nok "b-', log);
    expect([...log.sent]).toEqual([
      ['"a-1"', 3],
      ['"a-2"', 4],
      ['"b-1"', 7],
      ['"b-2"', 8],
    ]);
    expect([...log.ok]).toEqual(['"a-1"', '"b-1"']);
    expect(log.malformed).toEqual([]);
  });

  it('reports lines it cannot read, and an id sent twice with different rows', () => {
    const log = parsePublishedLog('sent a-1 3\nhello\nsent "a-2" 1\nsent "a-2" 2\n');
    expect(log.malformed).toHaveLength(3);
    expect(log.sent.get('"a-2"')).toBe(1);
  });
});

describe('parseMetricCsv', () => {
  it('reads rows with their line numbers and refuses a foreign header', () => {
    const rows = parseMetricCsv(csv('x-1,1,2,1', 'x-2,3,oops,1'));
    expect(rows.map((r) => [r.idField, r.yTrue, r.line])).toEqual([
      ['x-1', 1, 2],
      ['x-2', 3, 3],
    ]);
    expect(rows[1]?.yPred).toBeNaN();
    expect(() => parseMetricCsv('a,b\n1,2\n')).toThrow(/not 'id,y_true,y_pred,absolute_error'/);
    expect(parseMetricCsv('')).toEqual([]);
  });
});

describe('account', () => {
  it('counts a clean run as clean', () => {
    const published = parsePublishedLog('sent "a-1" 1\nsent "a-2" 2\nok "a-1"\nok "a-2"\n');
    const a = account({
      published,
      rows: parseMetricCsv(csv(rightRow('a-1', 1), rightRow('a-2', 2))),
      expected,
    });
    expect(formatAccounting(a)).toBe(
      'published 2, ok 2, lost 0, duplicated 0, unexpected 0, wrong 0, recovered 0 of 0 unconfirmed',
    );
    expect(promiseHeld(a)).toBe(true);
  });

  it('finds each kind of failure once', () => {
    const published = emptyPublishedLog();
    for (let n = 1; n <= 6; n++) parsePublishedLog(`sent "a-${n}" ${n}\n`, published);
    for (let n = 1; n <= 5; n++) parsePublishedLog(`ok "a-${n}"\n`, published);
    const rows = parseMetricCsv(
      csv(
        rightRow('a-1', 1),
        // a-2: no row (lost)
        rightRow('a-3', 3),
        rightRow('a-3', 3), // duplicated
        'a-4,104,91.5,12.5', // y_pred of row 4 is 91, not 91.5
        rightRow('a-5', 5),
        rightRow('a-6', 6), // sent, never confirmed, written all the same
        rightRow('x-9', 2), // never sent
      ),
    );
    const a = account({ published, rows, expected });
    expect(a).toMatchObject({
      published: 5,
      ok: 2,
      lost: 1,
      duplicated: 1,
      unexpected: 1,
      wrong: 1,
      unconfirmed: 1,
      recovered: 1,
    });
    expect(a.examples.lost).toEqual(['"a-2"']);
    expect(a.examples.duplicated[0]).toContain('"a-3" x2');
    expect(a.examples.wrong[0]).toContain('y_pred 91.5, expected 91');
    expect(a.examples.unexpected[0]).toContain('"x-9"');
    expect(promiseHeld(a)).toBe(false);
  });

  it('accepts y_pred within the relative tolerance and nothing beyond it', () => {
    const published = parsePublishedLog('sent "a-1" 0\nok "a-1"\n');
    const check = (yPred: number) =>
      account({ published, rows: parseMetricCsv(csv(`a-1,100,${yPred},${100 - yPred}`)), expected }).wrong;
    expect(check(90 * (1 + 1e-12))).toBe(0);
    expect(check(90 * (1 + 1e-6))).toBe(1);
  });

  it('flags an absolute_error that is not |y_true - y_pred|', () => {
    const published = parsePublishedLog('sent "a-1" 0\nok "a-1"\n');
    const a = account({ published, rows: parseMetricCsv(csv('a-1,100,90,-10')), expected });
    expect(a.wrong).toBe(1);
    expect(a.examples.wrong[0]).toContain('absolute_error -10');
  });

  it("matches an id written with the CSV formula escape (a leading ') to the id sent", () => {
    const published = parsePublishedLog('sent "=a-1" 1\nok "=a-1"\n');
    const a = account({ published, rows: parseMetricCsv(csv(rightRow("'=a-1", 1))), expected });
    expect(promiseHeld(a)).toBe(true);
  });
});
