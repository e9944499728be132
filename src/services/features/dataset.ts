// Turns a CSV with a header row into a numeric dataset: feature matrix, target vector, column names.
import { readFile } from 'node:fs/promises';
import { CsvError, parse } from 'csv-parse/sync';
import { MAX_FEATURES } from '../../contract/wire.js';

export interface Dataset {
  /** Every column except the target, in file order. */
  featureNames: string[];
  /**
   * One feature vector per row. Plain arrays (not Float64Array) because they go straight into
   * `JSON.stringify`, which turns a typed array into an object.
   */
  X: number[][];
  y: number[];
  rows: number;
}

export interface ParseDatasetOptions {
  /** Name of the target column (`--target`). */
  target: string;
  /** What the text came from, named in every error (usually the file path). */
  source: string;
}

export type DatasetErrorCode =
  | 'EMPTY'
  | 'NO_HEADER'
  | 'BAD_HEADER'
  | 'NO_TARGET'
  | 'NO_FEATURES'
  | 'TOO_MANY_FEATURES'
  | 'FIELD_COUNT'
  | 'NOT_A_NUMBER'
  | 'NOT_FINITE'
  | 'NO_ROWS'
  | 'CSV_SYNTAX'
  | 'NOT_FOUND'
  | 'UNREADABLE';

/** A dataset that cannot be used as given; the message names the file, line and column and the fix. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  constructor(
    readonly code: DatasetErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// Decimal numbers only, as Python's repr and most CSV writers produce them. Number() alone would
// also accept '', '0x1f', '0b1' and ' ', which in a dataset are always mistakes.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

/** A cell as quoted in a message: control characters escaped, long text cut short. */
function shown(text: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f]/g, (ch) => JSON.stringify(ch).slice(1, -1));
  return safe.length > 40 ? `${safe.slice(0, 37)}...` : safe;
}

type Cell = { ok: true; value: number } | { ok: false; code: 'NOT_A_NUMBER' | 'NOT_FINITE'; why: string };

function parseCell(raw: string): Cell {
  const text = raw.trim();
  if (text === '') return { ok: false, code: 'NOT_A_NUMBER', why: 'the cell is empty' };
  if (NON_FINITE.test(text)) {
    return {
      ok: false,
      code: 'NOT_FINITE',
      why: `'${shown(text)}' is not a finite number (JSON cannot carry it)`,
    };
  }
  if (!DECIMAL.test(text))
    return { ok: false, code: 'NOT_A_NUMBER', why: `'${shown(text)}' is not a number` };
  const value = Number(text);
  if (!Number.isFinite(value)) {
    return { ok: false, code: 'NOT_FINITE', why: `'${shown(text)}' is too large to be a finite number` };
  }
  return { ok: true, value };
}

/** Column names for a message; a wide file's list is cut after 20 names. */
function list(names: readonly string[]): string {
  const quoted = names.slice(0, 20).map((n) => `'${n}'`);
  if (names.length > 20) quoted.push(`... (${names.length - 20} more)`);
  return quoted.join(', ');
}

/** Separators people commonly export with by mistake; named in the error when the header holds one. */
function separatorHint(header: readonly string[]): string {
  if (header.length !== 1) return '';
  const only = header[0] ?? '';
  for (const [sep, name] of [
    [';', 'semicolons'],
    ['\t', 'tabs'],
    ['|', 'pipes'],
  ] as const) {
    if (only.includes(sep))
      return ` (the header seems to be separated by ${name}; save the file with commas)`;
  }
  return '';
}

function checkHeader(header: string[], target: string, source: string): void {
  if (header.every((name) => parseCell(name).ok)) {
    throw new DatasetError(
      'NO_HEADER',
      `${source} line 1: the first row (${header.slice(0, 5).join(',')}${header.length > 5 ? ',...' : ''}) ` +
        `looks like data, not a header: add a header row naming the columns, e.g. x1,x2,${target}`,
    );
  }
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    if (name === '') {
      throw new DatasetError(
        'BAD_HEADER',
        `${source} line 1, column ${i + 1}: the column has no name; name it in the header or delete the empty column`,
      );
    }
    const first = seen.get(name);
    if (first !== undefined) {
      throw new DatasetError(
        'BAD_HEADER',
        `${source} line 1: column name '${name}' appears twice (columns ${first + 1} and ${i + 1}); rename one`,
      );
    }
    seen.set(name, i);
  });
}

function targetIndex(header: string[], target: string, source: string): number {
  const index = header.indexOf(target);
  if (index >= 0) return index;
  const sameIgnoringCase = header.find((name) => name.toLowerCase() === target.toLowerCase());
  const hint = sameIgnoringCase === undefined ? '' : ` Did you mean --target ${sameIgnoringCase}?`;
  throw new DatasetError(
    'NO_TARGET',
    `${source} has no target column '${target}'; its columns are ${list(header)}${separatorHint(header)}. ` +
      `Pass --target NAME to pick the column to predict.${hint}`,
  );
}

/** Line where a record starts: csv-parse reports where it ends, which differs for quoted newlines. */
function startLine(record: readonly string[], endLine: number): number {
  let breaks = 0;
  for (const field of record) for (const ch of field) if (ch === '\n') breaks++;
  return endLine - breaks;
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

function readRecords(text: string, source: string): ParsedRecord[] {
  try {
    return parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      // Field counts are checked below so the message can name the missing or extra columns.
      relax_column_count: true,
      info: true,
    }) as unknown as ParsedRecord[];
  } catch (err) {
    if (err instanceof CsvError) {
      const line = typeof err.lines === 'number' ? err.lines : undefined;
      throw new DatasetError(
        'CSV_SYNTAX',
        `${source}${line === undefined ? '' : ` line ${line}`}: not valid CSV (${err.message}); ` +
          'check the quotes on that line',
      );
    }
    throw err;
  }
}

/**
 * Parses CSV text with a header row into a dataset. The `target` column becomes `y`; every other
 * column is a feature, in file order. Tolerates a UTF-8 BOM, CRLF, blank lines and spaces around
 * cells. Throws a {@link DatasetError} naming the file, line and column of the first problem.
 */
export function parseDataset(text: string, opts: ParseDatasetOptions): Dataset {
  const { target, source } = opts;
  if (text.replace(/^\uFEFF/, '').trim() === '') {
    throw new DatasetError(
      'EMPTY',
      `${source} is empty: it needs a header row and at least one data row, e.g. "x1,x2,${target}"`,
    );
  }
  const records = readRecords(text, source);
  const [first, ...body] = records;
  if (first === undefined) {
    throw new DatasetError('EMPTY', `${source} is empty: it needs a header row and at least one data row`);
  }
  const header = first.record.map((name) => name.trim());
  checkHeader(header, target, source);
  const yAt = targetIndex(header, target, source);
  const featureNames = header.filter((_, i) => i !== yAt);
  if (featureNames.length < 1) {
    throw new DatasetError(
      'NO_FEATURES',
      `${source} has only the target column '${target}'; add at least one feature column beside it`,
    );
  }
  if (featureNames.length > MAX_FEATURES) {
    throw new DatasetError(
      'TOO_MANY_FEATURES',
      `${source} has ${featureNames.length} feature columns, more than the ${MAX_FEATURES} a message may carry; ` +
        'drop some columns',
    );
  }
  if (body.length === 0) {
    throw new DatasetError(
      'NO_ROWS',
      `${source} has a header but no data rows; add at least one row of numbers`,
    );
  }

  const X: number[][] = [];
  const y: number[] = [];
  for (const { record, info } of body) {
    const line = startLine(record, info.lines);
    if (record.length !== header.length) {
      const detail =
        record.length < header.length
          ? `missing ${list(header.slice(record.length))}`
          : `${record.length - header.length} extra after '${header[header.length - 1]}'`;
      throw new DatasetError(
        'FIELD_COUNT',
        `${source} line ${line}: ${record.length} fields but the header has ${header.length} (${detail}); ` +
          'give every row one value per column',
      );
    }
    const features: number[] = [];
    let label = Number.NaN;
    record.forEach((raw, i) => {
      const cell = parseCell(raw);
      if (!cell.ok) {
        throw new DatasetError(
          cell.code,
          `${source} line ${line}, column ${header[i]}: ${cell.why}; fix the value or delete the row`,
        );
      }
      if (i === yAt) label = cell.value;
      else features.push(cell.value);
    });
    X.push(features);
    y.push(label);
  }
  return { featureNames, X, y, rows: X.length };
}

// ---- I/O adapter -------------------------------------------------------------------------------

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a CSV file and parses it with {@link parseDataset}; file problems become a DatasetError. */
export async function loadDataset(path: string, target: string): Promise<Dataset> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new DatasetError(
        'NOT_FOUND',
        `dataset file not found: ${path} (pass --dataset PATH to read another CSV file)`,
      );
    }
    if (code === 'EISDIR') {
      throw new DatasetError('UNREADABLE', `dataset ${path} is a directory; pass --dataset with a CSV file`);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new DatasetError(
        'UNREADABLE',
        `dataset ${path} is not readable (${code}); check its permissions`,
      );
    }
    throw err;
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new DatasetError('UNREADABLE', `dataset ${path} is not UTF-8 text; save it as a UTF-8 CSV file`);
  }
  return parseDataset(text, { target, source: path });
}
