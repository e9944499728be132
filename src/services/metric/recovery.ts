// Start-up repair of metric_log.csv and labels_log.txt against the join state: every joined id ends up in the
// CSV exactly once, and every line the state kept for the files (not yet synced when a crash came) is in them.
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import { MetricStoreError } from './errors.js';
import type { PositionalFile } from './csvLog.js';
import {
  formatHeader,
  idKeysOfCsvField,
  METRIC_CSV_COLUMNS,
  parseCsvNumber,
  type RecordDelimiter,
} from './metricCsv.js';
import { planRecovery, type RecoveryAction } from './recoveryPlan.js';
import { utf8Bytes, type CsvCheckpoint, type ImportedRow, type SqliteJoinStore } from './sqliteJoinStore.js';

/** Where recovery reports what it repaired; a pino logger fits. */
export interface RecoveryLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface RecoveryReport {
  action: RecoveryAction['kind'];
  /** Bytes of an unterminated last line removed from the CSV. */
  cutBytes: number;
  /** Rows whose ids were imported as written. */
  importedRows: number;
  /** The CSV after recovery, as the state now records it. */
  checkpoint: CsvCheckpoint;
}

const IMPORT_CHUNK_ROWS = 5000;
const MAX_HEADER_BYTES = 4096;
const HEADER_TEXT = METRIC_CSV_COLUMNS.join(',');

/** `3 lines`, `1 line`. */
const linesText = (n: number): string => `${n} line${n === 1 ? '' : 's'}`;

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n += 1;
  return n;
}

function unusable(file: string, problem: string): MetricStoreError {
  return new MetricStoreError(
    'CSV_UNUSABLE',
    `${file} ${problem}: fix it, or move it away and restart (a new file is then started, and the ids in the old one may be written again)`,
  );
}

/** Checks the header line and tells how the file ends its lines. */
async function readHeader(csv: PositionalFile): Promise<{ end: number; delimiter: RecordDelimiter }> {
  const head = await csv.read(0, MAX_HEADER_BYTES);
  const lf = head.indexOf(0x0a);
  if (lf < 0) throw unusable(csv.path, `has no header line within its first ${MAX_HEADER_BYTES} bytes`);
  const crlf = lf > 0 && head[lf - 1] === 0x0d;
  const line = head
    .subarray(0, crlf ? lf - 1 : lf)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  if (line !== HEADER_TEXT) {
    throw unusable(
      csv.path,
      `starts with ${JSON.stringify(line.slice(0, 200))}, not the header ${HEADER_TEXT}`,
    );
  }
  return { end: lf + 1, delimiter: crlf ? '\r\n' : '\n' };
}

/**
 * Streams the complete rows in [from, to) of the CSV into the state as written ids, a chunk per
 * transaction (idempotent, so a crash halfway only means importing again). Returns the row count.
 */
async function importRows(
  csv: PositionalFile,
  state: SqliteJoinStore,
  from: number,
  to: number,
): Promise<number> {
  if (to <= from) return 0;
  let rows = 0;
  let chunk: ImportedRow[] = [];
  // A plain Writable (no per-record promise) keeps the import at parser speed.
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 1024,
    write(record: string[], _encoding, done) {
      try {
        const [id, yTrue, yPred] = record;
        if (id !== undefined && id !== '') {
          chunk.push({
            keys: idKeysOfCsvField(id),
            yTrue: parseCsvNumber(yTrue),
            yPred: parseCsvNumber(yPred),
          });
          rows += 1;
          if (chunk.length >= IMPORT_CHUNK_ROWS) {
            state.importDone(chunk);
            chunk = [];
          }
        }
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
  try {
    await pipeline(
      createReadStream(csv.path, { start: from, end: to - 1 }),
      parse({ relax_column_count: true, skip_empty_lines: true }),
      sink,
    );
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    throw unusable(csv.path, `is not valid CSV after byte ${from} (${err.message})`);
  }
  state.importDone(chunk);
  return rows;
}

export interface RecoveryContext {
  state: SqliteJoinStore;
  csv: PositionalFile;
  log: RecoveryLog;
}

export async function recoverMetricLog({ state, csv, log }: RecoveryContext): Promise<RecoveryReport> {
  const cut = await csv.truncateAfterLastNewline();
  let { size } = cut;
  const { cutBytes } = cut;
  if (cutBytes > 0)
    log.warn(`${csv.path}: removed an unterminated last line (${cutBytes} bytes) left by a crash`);
  const checkpoint = state.readCheckpoint();
  // The last run may have stopped because a sync failed, leaving what it wrote past the last sync in the
  // page cache only, marked clean: the sync below would skip it. Written again, it is synced for real.
  if (checkpoint && size > checkpoint.offsetBefore) await csv.rewriteInPlace(checkpoint.offsetBefore, size);
  // What the file holds now is what the state is brought in line with: make it durable before the state
  // records anything about it (a power cut during start-up would otherwise undo the one, not the other).
  await csv.datasync();

  let unsyncedIntact = false;
  if (checkpoint && size >= checkpoint.offsetAfter) {
    const onDisk = await csv.read(checkpoint.offsetBefore, checkpoint.offsetAfter - checkpoint.offsetBefore);
    unsyncedIntact = onDisk.equals(Buffer.from(checkpoint.unsyncedText, 'utf8'));
  }
  const action = planRecovery({ checkpoint, csvSize: size, unsyncedIntact, hasWrittenIds: state.hasDone() });
  const report = (next: CsvCheckpoint, importedRows = 0): RecoveryReport => ({
    action: action.kind,
    cutBytes,
    importedRows,
    checkpoint: next,
  });

  switch (action.kind) {
    case 'none':
      return report(action.checkpoint);

    case 'create': {
      if (action.forgetWrittenIds) {
        log.warn(
          `${csv.path} is missing or empty but rows were written before: starting a new file and forgetting which ids were written, so ids sent again get rows again`,
        );
      }
      const header = formatHeader('\n');
      const next: CsvCheckpoint = {
        offsetBefore: 0,
        unsyncedText: header,
        offsetAfter: utf8Bytes(header),
        rows: 0,
        recordDelimiter: '\n',
      };
      state.transaction(() => {
        if (action.forgetWrittenIds) state.clearDone();
        state.writeCheckpoint(next);
      });
      await csv.truncate(0);
      csv.writeAtSync(header, 0);
      return report(next);
    }

    case 'import-all': {
      const header = await readHeader(csv);
      const rows = await importRows(csv, state, header.end, size);
      const next: CsvCheckpoint = {
        offsetBefore: size,
        unsyncedText: '',
        offsetAfter: size,
        rows,
        recordDelimiter: header.delimiter,
      };
      state.transaction(() => state.writeCheckpoint(next));
      log.info(`${csv.path}: no join state for it, imported the ids of its ${rows} rows as written`);
      return report(next, rows);
    }

    case 'rewrite-unsynced': {
      const cp = action.checkpoint;
      if (action.discardedBytes > 0) {
        log.warn(
          `${csv.path}: the rows not yet synced when it stopped differ on disk from what was committed; writing them again, which drops ${action.discardedBytes} bytes after them`,
        );
      }
      await csv.truncate(cp.offsetBefore);
      csv.writeAtSync(cp.unsyncedText, cp.offsetBefore);
      log.info(
        `${csv.path}: wrote again the last ${linesText(countLines(cp.unsyncedText))}, which a crash had kept from the disk`,
      );
      return report(cp);
    }

    case 'append-unsynced': {
      const cp = action.checkpoint;
      log.warn(
        `${csv.path} is ${size} bytes, shorter than the ${cp.offsetBefore} bytes known to be on disk: someone cut it; the missing rows are not written again` +
          (cp.unsyncedText === ''
            ? ''
            : `; the ${linesText(countLines(cp.unsyncedText))} not yet synced then are appended`),
      );
      const header = await readHeader(csv);
      const rowsLeft = await importRows(csv, state, header.end, size);
      // offsetBefore > 0 here, so the unsynced text is data rows (or empty), never the header.
      const next: CsvCheckpoint = {
        offsetBefore: size,
        unsyncedText: cp.unsyncedText,
        offsetAfter: size + utf8Bytes(cp.unsyncedText),
        rows: rowsLeft + countLines(cp.unsyncedText),
        recordDelimiter: cp.recordDelimiter,
      };
      // Commit first: a crash during the write then redoes it at the new offset.
      state.transaction(() => state.writeCheckpoint(next));
      csv.writeAtSync(next.unsyncedText, next.offsetBefore);
      return report(next, rowsLeft);
    }

    case 'import-tail': {
      const cp = action.checkpoint;
      const hole = await csv.indexOf(0x00, cp.offsetAfter, size);
      if (hole >= 0) {
        // A power cut in the middle of a group: the file's size reached the disk, some of its pages did not.
        // Cut at the hole, then the line it left unterminated (never below the checkpoint).
        await csv.truncate(hole);
        const sizeWithHole = size;
        ({ size } = await csv.truncateAfterLastNewline(cp.offsetAfter));
        log.warn(
          `${csv.path}: the rows past the last checkpoint have a hole of NUL bytes at byte ${hole} (a power cut before they reached the disk): cut ${sizeWithHole - size} bytes from byte ${size}; those rows were never acked, so their halves come again`,
        );
      }
      const rows = await importRows(csv, state, cp.offsetAfter, size);
      const next: CsvCheckpoint = {
        offsetBefore: size,
        unsyncedText: '',
        offsetAfter: size,
        rows: cp.rows + rows,
        recordDelimiter: cp.recordDelimiter,
      };
      state.transaction(() => state.writeCheckpoint(next));
      log.warn(
        `${csv.path}: ${rows} rows past the last checkpoint (written before a crash cut their group's commit short, or by another writer); their ids count as written`,
      );
      return report(next, rows);
    }
  }
}

export interface LabelsRecoveryContext {
  state: SqliteJoinStore;
  labels: PositionalFile;
  log: RecoveryLog;
}

/**
 * Writes again the lines of labels_log.txt that the state kept because the file was not synced past them
 * when the process or the machine stopped. Lines after them (from a batch whose commit a crash cut short)
 * stay: those messages were received, and are logged again when they come again.
 */
export async function recoverLabelsLog({ state, labels, log }: LabelsRecoveryContext): Promise<void> {
  const kept = state.readLabelsCheckpoint();
  if (!kept || kept.text === '') return;
  const text = Buffer.from(kept.text, 'utf8');
  const { size } = await labels.truncateAfterLastNewline();
  if (size >= kept.offsetAfter) {
    const onDisk = await labels.read(kept.offsetBefore, text.length);
    if (onDisk.equals(text)) {
      // Intact, but perhaps in the page cache only (see recoverMetricLog): written again (the state's copy,
      // not bytes read back, in case the file is rotated meanwhile), the sync at the end of start-up writes it.
      labels.writeAtSync(text, kept.offsetBefore);
      return;
    }
  }
  const lines = linesText(countLines(kept.text));
  if (size < kept.offsetBefore) {
    // Shorter than what was synced: cut or rotated by someone. Keep what is there, add the lines after it.
    log.warn(
      `${labels.path} is ${size} bytes, shorter than the ${kept.offsetBefore} bytes known to be on disk (cut or rotated?): appending the ${lines} a crash kept from it`,
    );
    labels.writeAtSync(text, size);
    return;
  }
  await labels.truncate(kept.offsetBefore);
  labels.writeAtSync(text, kept.offsetBefore);
  log.info(`${labels.path}: wrote again the last ${lines}, which a crash had kept from the disk`);
}
