// Text of metric_log.csv and labels_log.txt: rows out, and ids back in when an existing CSV is imported.
import { stringify } from 'csv-stringify/sync';
import { idKey } from '../../contract/wire.js';
import { isoTime } from '../../util/isoTime.js';
import type { LabelMessage, MetricRow } from './join.js';

export const METRIC_CSV_COLUMNS = ['id', 'y_true', 'y_pred', 'absolute_error'] as const;

/** Line endings: ours are LF; a file started by Python's csv module uses CRLF and is continued in kind. */
export type RecordDelimiter = '\n' | '\r\n';

// OWASP CSV-injection list (plus the full-width forms some spreadsheets normalise). A leading quote
// is escaped too, so that stripping one leading quote on import always gives the id back.
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20', "'"]);

const NUMERIC_FIELD = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** The id as it goes into the CSV: numbers as is, strings defused against formula injection. */
export function csvIdField(id: number | string): number | string {
  if (typeof id === 'number') return id;
  return FORMULA_START.has(id.charAt(0)) ? `'${id}` : id;
}

function stringifyRecords(records: (number | string)[][], delimiter: RecordDelimiter): string {
  // String(x) is the shortest text that parses back to exactly x, so no precision is lost.
  return stringify(records, { record_delimiter: delimiter, cast: { number: (x) => String(x) } });
}

export function formatHeader(delimiter: RecordDelimiter = '\n'): string {
  return stringifyRecords([[...METRIC_CSV_COLUMNS]], delimiter);
}

/** A field csv-stringify would quote (or an empty one, which it may): such rows go through it. */
const NEEDS_QUOTING = /[",\r\n]/;

/**
 * One row as CSV text, terminated. Every row the metric writes comes here, so the common row (a numeric or
 * plain id, and three numbers) is joined by hand: csv-stringify costs a few microseconds a call, mostly
 * normalising its options. The text is exactly csv-stringify's (metricCsv.test.ts compares them), and any
 * id it would quote still goes through it.
 */
export function formatRow(row: MetricRow, delimiter: RecordDelimiter = '\n'): string {
  const id = csvIdField(row.id);
  if (typeof id === 'string' && (id === '' || NEEDS_QUOTING.test(id))) {
    return stringifyRecords([[id, row.yTrue, row.yPred, row.absoluteError]], delimiter);
  }
  return `${String(id)},${String(row.yTrue)},${String(row.yPred)},${String(row.absoluteError)}${delimiter}`;
}

/** The rows as CSV text, each line terminated; '' for no rows. */
export function formatRows(rows: readonly MetricRow[], delimiter: RecordDelimiter = '\n'): string {
  let text = '';
  for (const row of rows) text += formatRow(row, delimiter);
  return text;
}

/**
 * Every `idKey` the id field of a CSV row may stand for. CSV loses the type, so `151` may have been
 * the number 151 or the string "151", and a field starting with `'` may be our escape or part of an id
 * a foreign writer wrote verbatim: all candidates are returned, so that none of them gets a second row.
 */
export function idKeysOfCsvField(field: string): string[] {
  const keys = new Set<string>([idKey(field)]);
  if (field.startsWith("'")) keys.add(idKey(field.slice(1)));
  if (NUMERIC_FIELD.test(field)) {
    const n = Number(field);
    if (Number.isFinite(n)) keys.add(idKey(n));
  }
  return [...keys];
}

/** A y value read back from the CSV (ours or Python's `151.0`); null when the field is not a number. */
export function parseCsvNumber(field: string | undefined): number | null {
  if (field === undefined || field.trim() === '') return null;
  const n = Number(field);
  return Number.isNaN(n) ? null : n;
}

/** The line for a row joined and written (the time is now): received y_true, received y_pred, then this, per id. */
export function formatRowLabelLine(row: MetricRow): string {
  return (
    `${isoTime(Date.now())} row id=${idKey(row.id)} y_true=${String(row.yTrue)} ` +
    `y_pred=${String(row.yPred)} absolute_error=${String(row.absoluteError)}\n`
  );
}

/** One line of labels_log.txt: `<ISO time> queue=<q> id=<json id> value=<v>`. Ids hold no control characters. */
export function formatLabelLine(message: LabelMessage): string {
  const at = isoTime(message.receivedAt);
  return `${at} queue=${message.queue} id=${idKey(message.id)} value=${String(message.value)}\n`;
}
