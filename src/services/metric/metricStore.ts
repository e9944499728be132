// The metric service's durable core: joins batches of halves and writes each joined id's row exactly once.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppendFile, PositionalFile, syncDirectory } from './csvLog.js';
import { applyMessage, expire, type JoinOutcome, type LabelMessage, type MetricRow } from './join.js';
import { formatLabelLine, formatRowLabelLine, formatRows } from './metricCsv.js';
import { recoverMetricLog, type RecoveryLog, type RecoveryReport } from './recovery.js';
import {
  SqliteJoinStore,
  STATE_FILE_NAME,
  type CsvCheckpoint,
  type SqliteJoinStoreOptions,
} from './sqliteJoinStore.js';

export const METRIC_LOG_FILE_NAME = 'metric_log.csv';
export const LABELS_LOG_FILE_NAME = 'labels_log.txt';

export interface MetricStoreOptions extends SqliteJoinStoreOptions {
  /** Receives what start-up repaired; silent by default. */
  log?: RecoveryLog;
}

export interface BatchResult {
  /** One per message, in the order given. Conflicts must be dead-lettered (with `reason`), the rest acked. */
  outcomes: JoinOutcome[];
  /** Rows this batch added to metric_log.csv. */
  rows: MetricRow[];
  counts: Record<JoinOutcome['kind'], number>;
}

const SILENT_LOG: RecoveryLog = { info: () => undefined, warn: () => undefined };

/**
 * Each batch is one SQLite transaction holding its join changes and the exact CSV text it adds at a
 * known offset; only then is that text written (at the offset, so a redo overwrites) and synced. Start-up
 * (`recoverMetricLog`) rewrites a batch a crash cut short, so when `applyBatch` resolves, acking the
 * batch is safe, and a redelivery after a crash finds its id written and adds no row.
 *
 * Batches run one at a time in call order. Written ids are remembered for good (table `done`).
 */
export class MetricStore {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  // The last batch's text may not be (fully) on disk: its write failed, so redo it before the next.
  private lastBatchUnwritten = false;
  // A rolled-back batch's text may be in the file from this offset on: cut it before the next batch.
  private csvAheadOf: number | undefined;

  private constructor(
    private readonly state: SqliteJoinStore,
    private readonly csv: PositionalFile,
    private readonly labels: AppendFile,
    private checkpoint: CsvCheckpoint,
    /** What start-up found and repaired. */
    readonly recovery: RecoveryReport,
  ) {}

  /** Opens (creating) `<logsDir>/metric_state.sqlite`, metric_log.csv and labels_log.txt, and repairs them. */
  static async open(logsDir: string, options: MetricStoreOptions = {}): Promise<MetricStore> {
    const { log = SILENT_LOG, ...stateOptions } = options;
    await fs.mkdir(logsDir, { recursive: true });
    const state = SqliteJoinStore.open(path.join(logsDir, STATE_FILE_NAME), stateOptions);
    const opened: { close(): Promise<void> }[] = [];
    try {
      const csv = await PositionalFile.open(path.join(logsDir, METRIC_LOG_FILE_NAME));
      opened.push(csv);
      const recovery = await recoverMetricLog({ state, csv, log });
      const { file: labels, cutBytes } = await AppendFile.open(path.join(logsDir, LABELS_LOG_FILE_NAME));
      opened.push(labels);
      if (cutBytes > 0) log.warn(`${labels.path}: removed an unterminated last line (${cutBytes} bytes)`);
      // Files created above must not lose their names in a power cut once rows in them are acked.
      await syncDirectory(logsDir);
      return new MetricStore(state, csv, labels, recovery.checkpoint, recovery);
    } catch (err) {
      await Promise.allSettled(opened.map((f) => f.close()));
      state.close();
      throw err;
    }
  }

  /**
   * Joins the batch, makes its effect durable (state, CSV rows, label lines), then resolves: the caller
   * acks every message except the conflicts, which it dead-letters. If it rejects, ack none of them:
   * redelivered, they are recognised and their rows still written exactly once.
   */
  applyBatch(messages: readonly LabelMessage[]): Promise<BatchResult> {
    if (this.closed)
      return Promise.reject(new Error('MetricStore is closed: open it again to apply batches'));
    const run = this.tail.then(() => this.runBatch(messages));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Drops halves older than `ttlMs` (at most `limit` per call); returns how many. */
  expire(now: number, ttlMs: number, limit?: number): number {
    return expire(this.state, now, ttlMs, limit);
  }

  pendingCount(): number {
    return this.state.pendingCount();
  }

  /** Data rows in metric_log.csv, counting the batch being written. */
  rowsWritten(): number {
    return this.checkpoint.rows;
  }

  /** Size of metric_log.csv in bytes, counting the batch being written. */
  csvBytes(): number {
    return this.checkpoint.offsetAfter;
  }

  /** Waits for the batch in progress, then closes the files and the state. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    await Promise.allSettled([this.csv.close(), this.labels.close()]);
    this.state.close();
  }

  private async runBatch(messages: readonly LabelMessage[]): Promise<BatchResult> {
    if (this.csvAheadOf !== undefined) {
      // A batch whose commit failed had its text written: cut it off before anything goes after it.
      await this.csv.truncate(this.csvAheadOf);
      this.csvAheadOf = undefined;
    }
    if (this.lastBatchUnwritten) {
      await this.csv.writeAt(this.checkpoint.batchText, this.checkpoint.offsetBefore);
      this.lastBatchUnwritten = false;
    }
    const counts: BatchResult['counts'] = { pending: 0, matched: 0, duplicate: 0, conflict: 0 };
    if (messages.length === 0) return { outcomes: [], rows: [], counts };

    const before = this.checkpoint;
    // The file writes start inside the transaction, just before its COMMIT, and the WAL's sync right after
    // it: all three sync on libuv's threads at once, so a batch costs one disk sync's time, not three in a
    // row, and the event loop never waits for the disk. A crash after the file writes but before the
    // commit is durable leaves rows past the last checkpoint: start-up takes them as written (recovery's
    // import-tail), and the redelivered halves then add nothing.
    let writes: Promise<PromiseSettledResult<void>[]> | undefined;
    let wroteCsvAt: number | undefined;
    let result: { outcomes: JoinOutcome[]; rows: MetricRow[]; next: CsvCheckpoint | undefined };
    try {
      result = this.state.transaction(() => {
        const outcomes = messages.map((m) => applyMessage(this.state, m));
        const rows = outcomes.flatMap((o) => (o.kind === 'matched' ? [o.row] : []));
        let next: CsvCheckpoint | undefined;
        if (rows.length > 0) {
          const batchText = formatRows(rows, before.recordDelimiter);
          next = {
            offsetBefore: before.offsetAfter,
            batchText,
            offsetAfter: before.offsetAfter + Buffer.byteLength(batchText, 'utf8'),
            rows: before.rows + rows.length,
            recordDelimiter: before.recordDelimiter,
          };
          this.state.writeCheckpoint(next);
        }
        const labelText = messages.map(formatLabelLine).join('') + rows.map(formatRowLabelLine).join('');
        wroteCsvAt = next?.offsetBefore;
        // allSettled: a failed write must not leave the other one running under the next batch's redo.
        writes = Promise.allSettled([
          next ? this.csv.writeAt(next.batchText, next.offsetBefore) : undefined,
          this.labels.append(labelText),
        ]);
        return { outcomes, rows, next };
      });
    } catch (err) {
      // Rolled back: nothing is acked, so the halves come again. Their label lines stay (they were
      // received); the CSV text must go, as the state does not know its rows.
      if (writes) await writes;
      if (wroteCsvAt !== undefined) {
        this.csvAheadOf = wroteCsvAt;
        await this.csv.truncate(wroteCsvAt);
        this.csvAheadOf = undefined;
      }
      throw err;
    }
    // Committed, not yet durable: the WAL syncs beside the file writes.
    const walSynced = this.state.syncWal();
    const { outcomes, rows, next } = result;
    if (next) {
      this.checkpoint = next;
      this.lastBatchUnwritten = true;
    }

    const settled = [...(await writes!), ...(await Promise.allSettled([walSynced]))];
    const failed = settled.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    if (failed) throw failed.reason;
    this.lastBatchUnwritten = false;

    for (const o of outcomes) counts[o.kind] += 1;
    return { outcomes, rows, counts };
  }
}
