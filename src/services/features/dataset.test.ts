import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError, loadDataset, parseDataset, type Dataset } from './dataset.js';

const DIABETES = new URL('../../../data/diabetes.csv', import.meta.url);
const haveDiabetes = existsSync(DIABETES);
if (!haveDiabetes) {
  console.warn('data/diabetes.csv is missing: the diabetes test is skipped until the file is generated');
}

function parse(text: string, target = 'target'): Dataset {
  return parseDataset(text, { target, source: 'data.csv' });
}

/** Runs `fn` and returns the DatasetError it throws (fails the test if it throws nothing else). */
function errorOf(fn: () => unknown): DatasetError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetError);
    return err as DatasetError;
  }
  throw new Error('expected a DatasetError, nothing was thrown');
}

describe('parseDataset on data/diabetes.csv', () => {
  it.skipIf(!haveDiabetes)('gives 442 rows of 10 features and targets from 25 to 346', () => {
    const text = readFileSync(DIABETES, 'utf8');
    const data = parseDataset(text, { target: 'target', source: 'data/diabetes.csv' });
    expect(data.rows).toBe(442);
    expect(data.featureNames).toEqual(['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6']);
    expect(data.X).toHaveLength(442);
    expect(data.y).toHaveLength(442);
    for (const row of data.X) expect(row).toHaveLength(10);
    expect(Math.min(...data.y)).toBe(25);
    expect(Math.max(...data.y)).toBe(346);

    // Every value equals a naive split of the same text: the file has no quotes, so this is exact.
    const lines = text.trim().split(/\r?\n/).slice(1);
    expect(lines).toHaveLength(442);
    lines.forEach((line, r) => {
      const cells = line.split(',').map(Number);
      expect(data.X[r]).toEqual(cells.slice(0, 10));
      expect(data.y[r]).toBe(cells[10]);
    });
  });
});

describe('parseDataset on valid input', () => {
  it('takes the target from any position and keeps the other columns in file order', () => {
    const data = parse('a,target,b\n1,10,2\n3.5,20,-4e-2\n');
    expect(data).toEqual({
      featureNames: ['a', 'b'],
      X: [
        [1, 2],
        [3.5, -0.04],
      ],
      y: [10, 20],
      rows: 2,
    });
  });

  it('uses --target to pick another column', () => {
    const data = parse('x,y,target\n1,2,3\n', 'y');
    expect(data.featureNames).toEqual(['x', 'target']);
    expect(data.X).toEqual([[1, 3]]);
    expect(data.y).toEqual([2]);
  });

  it('tolerates a BOM, CRLF, blank lines, spaces around cells and a missing final newline', () => {
    const clean = parse('a,b,target\n1,2,3\n4,5,6\n');
    const messy = parse('\uFEFF a , b ,target \r\n1, 2 ,3\r\n\r\n   \r\n 4 ,5, 6');
    expect(messy).toEqual(clean);
  });

  it('reads the Python float forms exactly', () => {
    const data = parse('a,target\n0.038075906433423026,151.0\n1e-05,-0.0\n.5,5.\n');
    expect(data.X).toEqual([[0.038075906433423026], [0.00001], [0.5]]);
    expect(data.y).toEqual([151, -0, 5]);
  });

  it('accepts quoted numbers', () => {
    expect(parse('a,target\n"1.5"," 2 "\n').X).toEqual([[1.5]]);
  });
});

describe('parseDataset errors', () => {
  it.each(['', '\n\n', '\uFEFF', '  \r\n '])('refuses an empty file (%j)', (text) => {
    const err = errorOf(() => parse(text));
    expect(err.code).toBe('EMPTY');
    expect(err.message).toMatch(/^data\.csv is empty: it needs a header row/);
  });

  it('refuses a file whose first row is data', () => {
    const err = errorOf(() => parse('1,2,3\n4,5,6\n'));
    expect(err.code).toBe('NO_HEADER');
    expect(err.message).toMatch(/^data\.csv line 1: .*looks like data, not a header: add a header row/);
  });

  it('names the columns and --target when the target column is missing', () => {
    const err = errorOf(() => parse('a,b,c\n1,2,3\n'));
    expect(err.code).toBe('NO_TARGET');
    expect(err.message).toContain("data.csv has no target column 'target'");
    expect(err.message).toContain("its columns are 'a', 'b', 'c'");
    expect(err.message).toContain('--target NAME');
  });

  it('suggests the column that differs only in case', () => {
    expect(errorOf(() => parse('a,Target\n1,2\n')).message).toContain('Did you mean --target Target?');
  });

  it('spots a semicolon-separated file', () => {
    const err = errorOf(() => parse('a;b;target\n1;2;3\n'));
    expect(err.code).toBe('NO_TARGET');
    expect(err.message).toContain('separated by semicolons; save the file with commas');
  });

  it('refuses a row with too few fields, naming its line and the missing columns', () => {
    // Line 3 is blank, so the short row is on line 4 of the file.
    const err = errorOf(() => parse('a,b,target\n1,2,3\n\n4,5\n'));
    expect(err.code).toBe('FIELD_COUNT');
    expect(err.message).toBe(
      "data.csv line 4: 2 fields but the header has 3 (missing 'target'); give every row one value per column",
    );
  });

  it('refuses a row with too many fields', () => {
    const err = errorOf(() => parse('a,b,target\r\n1,2,3\r\n4,5,6,7,8\r\n'));
    expect(err.code).toBe('FIELD_COUNT');
    expect(err.message).toContain("data.csv line 3: 5 fields but the header has 3 (2 extra after 'target')");
  });

  it('refuses a non-numeric cell, naming the line and column', () => {
    const good = Array.from({ length: 15 }, (_, i) => `${i},0.5,${i * 2}`);
    const text = ['age,bmi,target', ...good, '16,abc,32'].join('\n');
    const err = errorOf(() => parse(text));
    expect(err.code).toBe('NOT_A_NUMBER');
    expect(err.message).toBe(
      "data.csv line 17, column bmi: 'abc' is not a number; fix the value or delete the row",
    );
  });

  it.each(['0x10', '1,5', '1_000', '--1', '1e', 'true'])(
    'refuses %j, which Number() would half-accept',
    (cell) => {
      const err = errorOf(() => parse(`a,target\n"${cell}",1\n`));
      expect(err.code).toBe('NOT_A_NUMBER');
      expect(err.message).toContain(`data.csv line 2, column a: '${cell}' is not a number`);
    },
  );

  it('refuses an empty cell', () => {
    const err = errorOf(() => parse('a,b,target\n1,,3\n'));
    expect(err.code).toBe('NOT_A_NUMBER');
    expect(err.message).toContain('data.csv line 2, column b: the cell is empty');
  });

  it.each(['nan', 'NaN', 'inf', '-Infinity', '1e400'])('refuses the non-finite value %j', (cell) => {
    const err = errorOf(() => parse(`a,target\n1,2\n3,${cell}\n`));
    expect(err.code).toBe('NOT_FINITE');
    expect(err.message).toMatch(
      new RegExp(`^data\\.csv line 3, column target: '${cell}' is .*finite number`),
    );
  });

  it('refuses a file with only the target column', () => {
    const err = errorOf(() => parse('target\n1\n2\n'));
    expect(err.code).toBe('NO_FEATURES');
    expect(err.message).toContain(
      "data.csv has only the target column 'target'; add at least one feature column",
    );
  });

  it.each(['a,target\n', 'a,target', 'a,target\n\n\r\n'])('refuses a header without rows (%j)', (text) => {
    const err = errorOf(() => parse(text));
    expect(err.code).toBe('NO_ROWS');
    expect(err.message).toBe('data.csv has a header but no data rows; add at least one row of numbers');
  });

  it('refuses duplicate and empty column names', () => {
    expect(errorOf(() => parse('a,a,target\n1,2,3\n')).message).toContain(
      "data.csv line 1: column name 'a' appears twice (columns 1 and 2)",
    );
    expect(errorOf(() => parse('a,,target\n1,2,3\n')).message).toContain(
      'data.csv line 1, column 2: the column has no name',
    );
  });

  it('reports broken quoting with its line', () => {
    const err = errorOf(() => parse('a,target\n1,2\n"3,4\n'));
    expect(err.code).toBe('CSV_SYNTAX');
    expect(err.message).toMatch(/^data\.csv line \d+: not valid CSV \(.*quote.*\); check the quotes/i);
  });
});

describe('loadDataset', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'predstream-dataset-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and parses a file, naming it in errors', async () => {
    const path = join(dir, 'ok.csv');
    await writeFile(path, 'a,label\n1,2\n');
    expect(await loadDataset(path, 'label')).toEqual({ featureNames: ['a'], X: [[1]], y: [2], rows: 1 });
    await expect(loadDataset(path, 'target')).rejects.toThrow(`${path} has no target column 'target'`);
  });

  it('says a missing file is not found', async () => {
    const path = join(dir, 'nope.csv');
    await expect(loadDataset(path, 'target')).rejects.toThrow(`dataset file not found: ${path}`);
  });

  it('refuses a directory and a file that is not UTF-8', async () => {
    await expect(loadDataset(dir, 'target')).rejects.toThrow(`dataset ${dir} is a directory`);
    const path = join(dir, 'latin1.csv');
    await writeFile(path, Buffer.from([0x61, 0x2c, 0x74, 0xe9, 0x0a, 0x31, 0x2c, 0x32, 0x0a]));
    await expect(loadDataset(path, 'target')).rejects.toThrow('is not UTF-8 text');
  });
});
