// Jepsen-style accounting of a chaos run: the ids features confirmed against the rows metric_log.csv holds.
import { parse } from 'csv-parse/sync';
import { parsePublishedLogLine } from '../../src/services/features/publishedLog.js';

/** What the features services' `--published-log` files say: ids sent (with their dataset row) and ids confirmed. */
export interface PublishedLog {
  /** idKey (the id's JSON) -> dataset row index. */
  sent: Map<string, number>;
  /** idKeys whose publish the broker confirmed (both halves). */
  ok: Set<string>;
  /** Lines that are neither a `sent` nor an `ok` line (a torn last line after a SIGKILL is not one). */
  malformed: string[];
}

export function emptyPublishedLog(): PublishedLog {
  return { sent: new Map(), ok: new Set(), malformed: [] };
}

function jsonId(text: string): string | undefined {
  try {
    const id: unknown = JSON.parse(text);
    // Re-encoding normalises the key the way the services' idKey does (1.0 and 1 are one id).
    return typeof id === 'string' || typeof id === 'number' ? JSON.stringify(id) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Adds the lines of one published log to `into`. A last line without its newline is skipped: the
 * process was killed while writing it, so its publish cannot have been attempted (sent) or reported (ok).
 */
export function parsePublishedLog(text: string, into: PublishedLog = emptyPublishedLog()): PublishedLog {
  const lines = text.split('\n');
  lines.pop(); // '' after the final newline, or the torn line
  for (const line of lines) {
    if (line === '') continue;
    const parsed = parsePublishedLogLine(line);
    const key = parsed && jsonId(parsed.idJson);
    if (parsed === undefined || key === undefined) {
      into.malformed.push(line);
    } else if (parsed.kind === 'sent') {
      const row = parsed.row;
      const before = into.sent.get(key);
      if (before !== undefined && before !== row)
        into.malformed.push(`${line} (sent before with row ${before})`);
      else into.sent.set(key, row);
    } else {
      into.ok.add(key);
    }
  }
  return into;
}

/** One data row of metric_log.csv as text came in; numbers are NaN when the field is not one. */
export interface MetricCsvRow {
  /** The id field as written (string ids may carry a leading `'` against formula injection). */
  idField: string;
  yTrue: number;
  yPred: number;
  absoluteError: number;
  /** 1-based line number in the file, for messages. */
  line: number;
}

export const METRIC_CSV_HEADER = 'id,y_true,y_pred,absolute_error';

function csvNumber(field: string | undefined): number {
  return field === undefined || field.trim() === '' ? Number.NaN : Number(field);
}

/** Parses metric_log.csv text. Throws when the header is not the metric service's. */
export function parseMetricCsv(text: string): MetricCsvRow[] {
  if (text === '') return [];
  const records = parse(text, {
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
  }) as unknown as {
    record: string[];
    info: { lines: number };
  }[];
  const [header, ...body] = records;
  if (header?.record.join(',') !== METRIC_CSV_HEADER) {
    throw new Error(`metric_log.csv starts with '${header?.record.join(',')}', not '${METRIC_CSV_HEADER}'`);
  }
  return body.map(({ record, info }) => ({
    idField: record[0] ?? '',
    yTrue: csvNumber(record[1]),
    yPred: csvNumber(record[2]),
    absoluteError: record.length === 4 ? csvNumber(record[3]) : Number.NaN,
    line: info.lines,
  }));
}

/** What a row for a dataset row must hold: its target and the model's prediction for its features. */
export interface Expected {
  yTrue: number;
  yPred: number;
}

export interface AccountingInput {
  published: PublishedLog;
  rows: readonly MetricCsvRow[];
  /** Expected values for a dataset row index; undefined for an index the dataset does not have. */
  expected(row: number): Expected | undefined;
  /** Relative tolerance for y_pred and absolute_error; default 1e-9. */
  relTol?: number;
}

export interface Accounting {
  /** Ids with an `ok` line: their publish was confirmed. */
  published: number;
  /** Confirmed ids with exactly one row, and that row right. */
  ok: number;
  /** Confirmed ids with no row. */
  lost: number;
  /** Ids (confirmed or not) with more than one row. */
  duplicated: number;
  /** Rows whose id was never sent. */
  unexpected: number;
  /** Rows of sent ids whose values do not match the dataset and the model. */
  wrong: number;
  /** Ids sent but never confirmed (the sender died or gave up). */
  unconfirmed: number;
  /** Of those, ids that got a row all the same: fine, the publish had reached the broker. */
  recovered: number;
  /** A few ids (or lines) behind each non-zero failure count, to start an investigation from. */
  examples: { lost: string[]; duplicated: string[]; unexpected: string[]; wrong: string[] };
}

const EXAMPLES = 5;

function near(actual: number, expected: number, scale: number, relTol: number): boolean {
  return actual === expected || Math.abs(actual - expected) <= relTol * Math.abs(scale);
}

/** Why a row is wrong, or undefined when it is right. */
function rowProblem(row: MetricCsvRow, want: Expected | undefined, relTol: number): string | undefined {
  if (!want) return 'its dataset row is unknown';
  if (row.yTrue !== want.yTrue) return `y_true ${row.yTrue}, expected ${want.yTrue}`;
  if (!near(row.yPred, want.yPred, want.yPred, relTol)) return `y_pred ${row.yPred}, expected ${want.yPred}`;
  const absoluteError = Math.abs(row.yTrue - row.yPred);
  // A subtraction's rounding error scales with its operands, not with its (possibly tiny) result.
  const scale = Math.max(Math.abs(row.yTrue), Math.abs(row.yPred));
  if (!near(row.absoluteError, absoluteError, scale, relTol)) {
    return `absolute_error ${row.absoluteError}, expected |y_true - y_pred| = ${absoluteError}`;
  }
  return undefined;
}

/** The id key a CSV id field stands for among the sent ids (undoing the `'` escape when that names one). */
function keyOfField(field: string, sent: ReadonlyMap<string, number>): string {
  const plain = JSON.stringify(field);
  if (field.startsWith("'") && !sent.has(plain)) {
    const unescaped = JSON.stringify(field.slice(1));
    if (sent.has(unescaped)) return unescaped;
  }
  return plain;
}

export function account(input: AccountingInput): Accounting {
  const { published, rows } = input;
  const relTol = input.relTol ?? 1e-9;
  const examples: Accounting['examples'] = { lost: [], duplicated: [], unexpected: [], wrong: [] };
  const note = (list: string[], text: string) => {
    if (list.length < EXAMPLES) list.push(text);
  };

  const rowsByKey = new Map<string, MetricCsvRow[]>();
  for (const row of rows) {
    const key = keyOfField(row.idField, published.sent);
    const list = rowsByKey.get(key);
    if (list) list.push(row);
    else rowsByKey.set(key, [row]);
  }

  let unexpected = 0;
  let wrong = 0;
  let duplicated = 0;
  const rightKeys = new Set<string>();
  for (const [key, list] of rowsByKey) {
    if (list.length > 1) {
      duplicated += 1;
      note(examples.duplicated, `${key} x${list.length} (lines ${list.map((r) => r.line).join(', ')})`);
    }
    const datasetRow = published.sent.get(key);
    if (datasetRow === undefined) {
      unexpected += list.length;
      note(examples.unexpected, `${key} (line ${list[0]?.line})`);
      continue;
    }
    let allRight = true;
    for (const row of list) {
      const problem = rowProblem(row, input.expected(datasetRow), relTol);
      if (problem) {
        wrong += 1;
        allRight = false;
        note(examples.wrong, `${key} line ${row.line}: ${problem}`);
      }
    }
    if (allRight && list.length === 1) rightKeys.add(key);
  }

  let ok = 0;
  let lost = 0;
  for (const key of published.ok) {
    if (!rowsByKey.has(key)) {
      lost += 1;
      note(examples.lost, key);
    } else if (rightKeys.has(key)) {
      ok += 1;
    }
  }

  let unconfirmed = 0;
  let recovered = 0;
  for (const key of published.sent.keys()) {
    if (published.ok.has(key)) continue;
    unconfirmed += 1;
    if (rowsByKey.has(key)) recovered += 1;
  }

  return {
    published: published.ok.size,
    ok,
    lost,
    duplicated,
    unexpected,
    wrong,
    unconfirmed,
    recovered,
    examples,
  };
}

/** True when the promise held: every confirmed id has exactly one right row and no row is foreign or wrong. */
export function promiseHeld(a: Accounting): boolean {
  return a.lost === 0 && a.duplicated === 0 && a.unexpected === 0 && a.wrong === 0 && a.ok === a.published;
}

/** The one-line summary: `published N, ok N, lost 0, duplicated 0, unexpected 0, wrong 0, recovered R of U unconfirmed`. */
export function formatAccounting(a: Accounting): string {
  return (
    `published ${a.published}, ok ${a.ok}, lost ${a.lost}, duplicated ${a.duplicated}, ` +
    `unexpected ${a.unexpected}, wrong ${a.wrong}, recovered ${a.recovered} of ${a.unconfirmed} unconfirmed`
  );
}
