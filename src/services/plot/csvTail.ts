// Turns bytes appended to the metric CSV into complete lines, and lines into typed rows.
import { parse as parseCsv } from 'csv-parse/sync';

/** Columns the metric service writes, in order (its header line). */
export const METRIC_CSV_COLUMNS = ['id', 'y_true', 'y_pred', 'absolute_error'] as const;

/** One row of `logs/metric_log.csv`. `id` is the field as written (a leading `'` added by the writer stays). */
export interface MetricRow {
  id: string;
  yTrue: number;
  yPred: number;
  absoluteError: number;
}

export interface LineSplitterOptions {
  /** A line longer than this is dropped (counted in `droppedLines`); guards memory against a file that is not CSV. */
  maxLineBytes?: number;
}

const DEFAULT_SPLITTER_OPTIONS: Required<LineSplitterOptions> = { maxLineBytes: 64 * 1024 };

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

// CSV lexer states: only a quote at the start of a field opens a quoted field (RFC 4180),
// so a stray quote inside an unquoted field cannot swallow the following lines.
const enum Lex {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
  /** Skipping the rest of an over-long line, quotes ignored, until the next LF. */
  Discarding,
}

/**
 * Splits appended chunks into complete CSV records (one per line, except a quoted field may hold a
 * newline). Chunk boundaries may fall anywhere, even inside a UTF-8 sequence or a quoted field: bytes
 * are only decoded once their line is complete, and LF never occurs inside a multi-byte UTF-8 sequence.
 * Work per chunk is proportional to the chunk, never to what came before.
 */
export class CsvLineSplitter {
  /** Lines dropped because they exceeded `maxLineBytes`. */
  droppedLines = 0;
  private readonly maxLineBytes: number;
  private pieces: Buffer[] = [];
  private pendingBytes = 0;
  private state: Lex = Lex.FieldStart;

  constructor(options: LineSplitterOptions = {}) {
    this.maxLineBytes = { ...DEFAULT_SPLITTER_OPTIONS, ...options }.maxLineBytes;
  }

  /** Bytes held back: the half-written last line. */
  get pendingByteCount(): number {
    return this.pendingBytes;
  }

  /** Forget the held-back line (the file was truncated or replaced). */
  reset(): void {
    this.pieces = [];
    this.pendingBytes = 0;
    this.state = Lex.FieldStart;
  }

  /** Feeds one chunk; returns the lines it completed, without their line terminator. */
  push(input: Uint8Array): string[] {
    const chunk = Buffer.isBuffer(input)
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const length = chunk.length;
    const lines: string[] = [];
    let start = 0; // where the current line begins in this chunk
    let i = 0; // how far the lexer has read
    // Next LF / quote at or after i; -1 once there is none left in the chunk. Native indexOf finds them
    // far faster than a byte loop, and most lines hold no quote at all.
    let nextLf = -2;
    let nextQuote = -2;
    let state = this.state;
    while (i < length) {
      if (state === Lex.Quoted) {
        const quote = chunk.indexOf(QUOTE, i);
        if (quote === -1) {
          i = length;
          break;
        }
        state = Lex.QuoteInQuoted;
        i = quote + 1;
        continue;
      }
      if (state === Lex.QuoteInQuoted) {
        if (chunk[i] === QUOTE) {
          state = Lex.Quoted; // an escaped quote ("")
          i++;
        } else {
          state = Lex.Unquoted; // the closing quote; this byte is lexed as unquoted, below
        }
        continue;
      }
      if (nextLf !== -1 && nextLf < i) nextLf = chunk.indexOf(LF, i);
      if (state === Lex.Discarding) {
        if (nextLf === -1) {
          i = length;
          break;
        }
        state = Lex.FieldStart;
        start = i = nextLf + 1;
        continue;
      }
      if (nextQuote !== -1 && nextQuote < i) nextQuote = chunk.indexOf(QUOTE, i);
      if (nextQuote !== -1 && (nextLf === -1 || nextQuote < nextLf)) {
        const atFieldStart = nextQuote === i ? state === Lex.FieldStart : chunk[nextQuote - 1] === COMMA;
        state = atFieldStart ? Lex.Quoted : Lex.Unquoted;
        i = nextQuote + 1;
        continue;
      }
      if (nextLf === -1) {
        state = chunk[length - 1] === COMMA ? Lex.FieldStart : Lex.Unquoted;
        i = length;
        break;
      }
      this.emit(chunk, start, nextLf, lines);
      start = i = nextLf + 1;
      state = Lex.FieldStart;
    }
    this.state = state;
    if (state === Lex.Discarding) return lines;
    const rest = length - start;
    if (rest > 0) {
      if (this.pendingBytes + rest > this.maxLineBytes) {
        this.dropPending();
      } else {
        // Copy: the caller may reuse its read buffer for the next chunk.
        this.pieces.push(Buffer.from(chunk.subarray(start)));
        this.pendingBytes += rest;
      }
    }
    return lines;
  }

  private dropPending(): void {
    this.droppedLines++;
    this.pieces = [];
    this.pendingBytes = 0;
    this.state = Lex.Discarding;
  }

  private emit(chunk: Buffer, start: number, end: number, lines: string[]): void {
    let bytes = chunk;
    if (this.pieces.length > 0) {
      const total = this.pendingBytes + (end - start);
      if (total > this.maxLineBytes) {
        this.droppedLines++;
        this.pieces = [];
        this.pendingBytes = 0;
        return;
      }
      this.pieces.push(chunk.subarray(start, end));
      bytes = Buffer.concat(this.pieces, total);
      this.pieces = [];
      this.pendingBytes = 0;
      start = 0;
      end = total;
    } else if (end - start > this.maxLineBytes) {
      this.droppedLines++;
      return;
    }
    if (end > start && bytes[end - 1] === CR) end--;
    lines.push(bytes.toString('utf8', start, end));
  }
}

/** What one line of the metric CSV turned out to be. */
export type ParsedMetricLine =
  | { kind: 'row'; row: MetricRow }
  | { kind: 'header' }
  | { kind: 'blank' }
  | { kind: 'malformed'; reason: string };

// Strict decimal syntax: Number() alone would accept '', ' ', '0x10' and 'Infinity'.
const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

// A reason quotes the offending field, cut short: a line may be up to maxLineBytes of garbage.
function shown(field: string): string {
  return field.length <= 40 ? `'${field}'` : `'${field.slice(0, 40)}…'`;
}

function parseNumber(field: string): number | undefined {
  if (!DECIMAL.test(field)) return undefined;
  const value = Number(field);
  return Number.isFinite(value) ? value : undefined;
}

function splitFields(line: string): string[] | string {
  // Fast path: csv-parse costs ~45 µs per call, too slow to catch up on a file of a million rows;
  // a line without quotes has no escaping, so a plain split is exact.
  if (!line.includes('"')) return line.split(',');
  try {
    const records = parseCsv(line, { relax_column_count: true }) as string[][];
    if (records.length !== 1 || !records[0]) return `expected one record, found ${records.length}`;
    return records[0];
  } catch (err) {
    return `invalid CSV quoting: ${(err as Error).message}`;
  }
}

/** Parses one complete line of the metric CSV. Never throws. */
export function parseMetricLine(rawLine: string): ParsedMetricLine {
  const line = rawLine.charCodeAt(0) === 0xfeff ? rawLine.slice(1) : rawLine;
  if (line.trim() === '') return { kind: 'blank' };
  const fields = splitFields(line);
  if (typeof fields === 'string') return { kind: 'malformed', reason: fields };
  if (fields.length !== METRIC_CSV_COLUMNS.length) {
    return {
      kind: 'malformed',
      reason: `expected ${METRIC_CSV_COLUMNS.length} fields (${METRIC_CSV_COLUMNS.join(',')}), found ${fields.length}`,
    };
  }
  const [id, yTrueText, yPredText, errorText] = fields as [string, string, string, string];
  if (yTrueText === 'y_true' && METRIC_CSV_COLUMNS.every((name, i) => fields[i] === name))
    return { kind: 'header' };
  const yTrue = parseNumber(yTrueText);
  const yPred = parseNumber(yPredText);
  const absoluteError = parseNumber(errorText);
  if (yTrue === undefined)
    return { kind: 'malformed', reason: `y_true is not a finite number: ${shown(yTrueText)}` };
  if (yPred === undefined)
    return { kind: 'malformed', reason: `y_pred is not a finite number: ${shown(yPredText)}` };
  if (absoluteError === undefined || absoluteError < 0) {
    return { kind: 'malformed', reason: `absolute_error is not a finite number >= 0: ${shown(errorText)}` };
  }
  return { kind: 'row', row: { id, yTrue, yPred, absoluteError } };
}

/** Parses lines into rows, counting what it skipped. */
export class MetricRowParser {
  malformed = 0;
  headers = 0;
  /** Why the most recent malformed line was skipped, for a log line. */
  lastMalformedReason: string | undefined;

  parse(lines: readonly string[]): MetricRow[] {
    const rows: MetricRow[] = [];
    for (const line of lines) {
      const parsed = parseMetricLine(line);
      if (parsed.kind === 'row') rows.push(parsed.row);
      else if (parsed.kind === 'header') this.headers++;
      else if (parsed.kind === 'malformed') {
        this.malformed++;
        this.lastMalformedReason = parsed.reason;
      }
    }
    return rows;
  }
}
