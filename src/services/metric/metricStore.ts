// The metric service's durable core: joins batches of halves and writes each joined id's row exactly once.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createCoalescedSync, type CoalescedSync } from './coalescedSync.js';
import { AppendFile, PositionalFile, syncDirectory } from './csvLog.js';
import { MetricStoreError } from './errors.js';
import { applyMessage, expire, type JoinOutcome, type LabelMessage, type MetricRow } from './join.js';
import { formatLabelLine, formatRowLabelLine, formatRows, type RecordDelimiter } from './metricCsv.js';
import { recoverLabelsLog, recoverMetricLog, type RecoveryLog, type RecoveryReport } from './recovery.js';
import { SqliteJoinStore, STATE_FILE_NAME, type SqliteJoinStoreOptions } from './sqliteJoinStore.js';

export const METRIC_LOG_FILE_NAME = 'metric_log.csv';
export const LABELS_LOG_FILE_NAME = 'labels_log.txt';

export interface MetricStoreOptions extends SqliteJoinStoreOptions {
  /** Receives what start-up repaired; silent by default. */
  log?: RecoveryLog;
  /** The logs' text may wait this long (ms) for its file sync; the state holds it meanwhile. */
  fileSyncMs?: number;
  /** ...or until this many bytes wait, whichever comes first. */
  fileSyncBytes?: number;
}

export interface BatchResult {
  /** One per message, in the order given. Conflicts must be dead-lettered (with `reason`), the rest acked. */
  outcomes: JoinOutcome[];
  /** Rows this batch added to metric_log.csv. */
  rows: MetricRow[];
  counts: Record<JoinOutcome['kind'], number>;
}

const SILENT_LOG: RecoveryLog = { info: () => undefined, warn: () => undefined };
const FILE_SYNC_MS = 100;
const FILE_SYNC_BYTES = 256 * 1024;

/** Where a log file ends (all text written to it) and up to where that text is durably on disk. */
interface FileEnds {
  end: number;
  synced: number;
}

/** A batch's text that did not (fully) reach its files: written again before the next batch. */
interface Unwritten {
  csv?: { bytes: Buffer; at: number };
  labels: { bytes: Buffer; at: number };
}

/**
 * Each batch is one SQLite transaction holding its join changes and the exact text it adds to
 * metric_log.csv and labels_log.txt. Right after its COMMIT the text goes to the files (synchronous
 * writes into the page cache, a few microseconds each), and the batch is durable, so safe to ack, once
 * the state's WAL is synced: one fdatasync, shared by every batch committed before it began
 * (createCoalescedSync). So a batch costs one disk sync, never hands a write to another thread, and the
 * next batch can be applied while earlier ones wait for that sync.
 *
 * The two files are synced lazily (every `fileSyncMs`); until a file is synced past a batch's text, the
 * state keeps that text, and start-up (recovery.ts) writes again whatever a crash kept from the disk.
 * Written ids are remembered for good (table `done`), so a redelivery after a crash adds no row.
 *
 * A failed disk sync leaves the store failed (`failed` resolves): what was written since may be lost
 * without a trace in this process (Linux may drop the pages), so the service must restart and repair.
 */
export class MetricStore {
  private closed = false;
  private failure: MetricStoreError | undefined;
  private reportFailure!: (err: MetricStoreError) => void;
  /** Resolves with the error once a disk sync has failed; the store then refuses every batch. */
  readonly failed = new Promise<MetricStoreError>((r) => (this.reportFailure = r));
  private readonly walSync: CoalescedSync;
  private unwritten: Unwritten | undefined;
  // A file sync finished: the next transaction drops the text it covers from the state.
  private forgetDue = false;
  private fileSync: Promise<void> | undefined;
  private fileSyncTimer: NodeJS.Timeout | undefined;
  private lastFileSyncAt = Date.now();
  private readonly fileSyncMs: number;
  private readonly fileSyncBytes: number;

  private constructor(
    private readonly state: SqliteJoinStore,
    private readonly csv: PositionalFile,
    private readonly labels: AppendFile,
    private readonly csvEnds: FileEnds,
    private readonly labelsEnds: FileEnds,
    private rows: number,
    private readonly recordDelimiter: RecordDelimiter,
    /** What start-up found and repaired. */
    readonly recovery: RecoveryReport,
    options: MetricStoreOptions,
  ) {
    this.walSync = createCoalescedSync(() => this.state.syncWal());
    this.fileSyncMs = options.fileSyncMs ?? FILE_SYNC_MS;
    this.fileSyncBytes = options.fileSyncBytes ?? FILE_SYNC_BYTES;
  }

  /** Opens (creating) `<logsDir>/metric_state.sqlite`, metric_log.csv and labels_log.txt, and repairs them. */
  static async open(logsDir: string, options: MetricStoreOptions = {}): Promise<MetricStore> {
    const { log = SILENT_LOG, fileSyncMs: _ms, fileSyncBytes: _bytes, ...stateOptions } = options;
    await fs.mkdir(logsDir, { recursive: true });
    const state = SqliteJoinStore.open(path.join(logsDir, STATE_FILE_NAME), stateOptions);
    const opened: { close(): Promise<void> }[] = [];
    try {
      const csv = await PositionalFile.open(path.join(logsDir, METRIC_LOG_FILE_NAME));
      opened.push(csv);
      const recovery = await recoverMetricLog({ state, csv, log });
      const labelsPath = path.join(logsDir, LABELS_LOG_FILE_NAME);
      const labelsRepair = await PositionalFile.open(labelsPath);
      try {
        await recoverLabelsLog({ state, labels: labelsRepair, log });
      } finally {
        await labelsRepair.close();
      }
      const { file: labels, cutBytes, size: labelsSize } = await AppendFile.open(labelsPath);
      opened.push(labels);
      if (cutBytes > 0) log.warn(`${labels.path}: removed an unterminated last line (${cutBytes} bytes)`);
      // Both files are durable now, so the state need not keep any of their text. Their names too: files
      // created above must not vanish in a power cut once rows in them are acked.
      await Promise.all([csv.datasync(), labels.datasync(), syncDirectory(logsDir)]);
      state.transaction(() => state.markLogsSynced(labelsSize));
      await state.syncWal();
      const cp = recovery.checkpoint;
      return new MetricStore(
        state,
        csv,
        labels,
        { end: cp.offsetAfter, synced: cp.offsetAfter },
        { end: labelsSize, synced: labelsSize },
        cp.rows,
        cp.recordDelimiter,
        recovery,
        options,
      );
    } catch (err) {
      await Promise.allSettled(opened.map((f) => f.close()));
      state.close();
      throw err;
    }
  }

  /**
   * Joins the batch and writes its text, at once (in call order), then resolves when that is durable:
   * the caller acks every message except the conflicts, which it dead-letters. If it rejects, ack none
   * of them: redelivered, they are recognised and their rows still written exactly once.
   */
  applyBatch(messages: readonly LabelMessage[]): Promise<BatchResult> {
    if (this.closed)
      return Promise.reject(new Error('MetricStore is closed: open it again to apply batches'));
    if (this.failure) return Promise.reject(this.failure);
    try {
      return this.apply(messages);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Drops halves older than `ttlMs` (at most `limit` per call); returns how many. */
  expire(now: number, ttlMs: number, limit?: number): number {
    return expire(this.state, now, ttlMs, limit);
  }

  pendingCount(): number {
    return this.state.pendingCount();
  }

  /** Data rows in metric_log.csv, counting batches not yet durable. */
  rowsWritten(): number {
    return this.rows;
  }

  /** Size of metric_log.csv in bytes, counting batches not yet durable. */
  csvBytes(): number {
    return this.csvEnds.end;
  }

  /**
   * Syncs both files now and drops the text the state kept for them: after this, start-up finds nothing
   * to repair. `close` does it; the batches applied so far must be durable first (it waits for them).
   */
  async syncFiles(): Promise<void> {
    clearTimeout(this.fileSyncTimer);
    this.fileSyncTimer = undefined;
    await this.walSync.idle();
    await this.fileSync;
    if (this.failure || this.unwritten) return;
    await this.syncBothFiles();
    this.state.transaction(() => {
      this.state.forgetSyncedText('csv', this.csvEnds.synced);
      this.state.forgetSyncedText('labels', this.labelsEnds.synced);
    });
    await this.state.syncWal();
  }

  /** Waits for the batches applied so far to be durable, syncs the files, then closes everything. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.syncFiles();
    } catch {
      // The state still holds the text: the next start writes it again where needed.
    }
    await Promise.allSettled([this.csv.close(), this.labels.close()]);
    this.state.close();
  }

  private apply(messages: readonly LabelMessage[]): Promise<BatchResult> {
    if (this.unwritten) this.writeAgain(this.unwritten);
    const counts: BatchResult['counts'] = { pending: 0, matched: 0, duplicate: 0, conflict: 0 };
    if (messages.length === 0) return Promise.resolve({ outcomes: [], rows: [], counts });

    const csvAt = this.csvEnds.end;
    const labelsAt = this.labelsEnds.end;
    const forget = this.forgetDue;
    const { outcomes, rows, csvText, labelsText } = this.state.transaction(() => {
      const outcomes = messages.map((m) => applyMessage(this.state, m));
      const rows = outcomes.flatMap((o) => (o.kind === 'matched' ? [o.row] : []));
      const csvText = formatRows(rows, this.recordDelimiter);
      const labelsText = messages.map(formatLabelLine).join('') + rows.map(formatRowLabelLine).join('');
      if (forget) {
        this.state.forgetSyncedText('csv', this.csvEnds.synced);
        this.state.forgetSyncedText('labels', this.labelsEnds.synced);
      }
      this.state.addBatchText({
        csv: rows.length > 0 ? { offset: csvAt, text: csvText, rows: this.rows + rows.length } : undefined,
        labels: { offset: labelsAt, text: labelsText },
      });
      return { outcomes, rows, csvText, labelsText };
    });
    if (forget) this.forgetDue = false;

    // Committed (not yet durable): the state says the files go on with this text, so write it there.
    const batch: Unwritten = {
      ...(csvText !== '' ? { csv: { bytes: Buffer.from(csvText, 'utf8'), at: csvAt } } : {}),
      labels: { bytes: Buffer.from(labelsText, 'utf8'), at: labelsAt },
    };
    this.csvEnds.end += batch.csv?.bytes.length ?? 0;
    this.labelsEnds.end += batch.labels.bytes.length;
    this.rows += rows.length;
    this.write(batch);
    this.scheduleFileSync();

    for (const o of outcomes) counts[o.kind] += 1;
    return this.walSync.afterCommit().then(
      () => ({ outcomes, rows, counts }),
      (err: unknown) => {
        throw this.fail('metric_state.sqlite-wal', err);
      },
    );
  }

  private write(batch: Unwritten): void {
    try {
      if (batch.csv) this.csv.writeAtSync(batch.csv.bytes, batch.csv.at);
      this.labels.appendSync(batch.labels.bytes);
    } catch (err) {
      // The batch is committed, so its halves are recognised when they come again; its text is written
      // again before the next batch (and kept from the file syncs until then).
      this.unwritten = batch;
      throw err;
    }
  }

  /** Writes again a batch whose writes failed (a full disk, say): the CSV at its offset, the labels anew. */
  private writeAgain(batch: Unwritten): void {
    if (batch.csv) this.csv.writeAtSync(batch.csv.bytes, batch.csv.at);
    // Cut what part of the append got in, unless someone cut the file meanwhile (then append after it).
    if (this.labels.sizeSync() > batch.labels.at) this.labels.truncateSync(batch.labels.at);
    this.labels.appendSync(batch.labels.bytes);
    this.unwritten = undefined;
  }

  private scheduleFileSync(): void {
    if (this.fileSync || this.closed || this.failure || this.unwritten) return;
    const waiting = this.csvEnds.end - this.csvEnds.synced + (this.labelsEnds.end - this.labelsEnds.synced);
    if (waiting === 0) return;
    const dueIn = this.lastFileSyncAt + this.fileSyncMs - Date.now();
    if (waiting < this.fileSyncBytes && dueIn > 0) {
      this.fileSyncTimer ??= setTimeout(() => {
        this.fileSyncTimer = undefined;
        this.scheduleFileSync();
      }, dueIn).unref();
      return;
    }
    clearTimeout(this.fileSyncTimer);
    this.fileSyncTimer = undefined;
    this.lastFileSyncAt = Date.now();
    this.fileSync = this.syncBothFiles()
      .then(
        () => {
          this.forgetDue = true;
        },
        (err: unknown) => {
          this.fail(`${METRIC_LOG_FILE_NAME} or ${LABELS_LOG_FILE_NAME}`, err);
        },
      )
      .finally(() => {
        this.fileSync = undefined;
        this.scheduleFileSync();
      });
  }

  /** Syncs both files up to where they end now, then moves up what is known to be on disk. */
  private async syncBothFiles(): Promise<void> {
    const csvTo = this.csvEnds.end;
    const labelsTo = this.labelsEnds.end;
    await Promise.all([this.csv.datasync(), this.labels.datasync()]);
    this.csvEnds.synced = Math.max(this.csvEnds.synced, csvTo);
    this.labelsEnds.synced = Math.max(this.labelsEnds.synced, labelsTo);
  }

  private fail(what: string, cause: unknown): MetricStoreError {
    this.failure ??= new MetricStoreError(
      'SYNC_FAILED',
      `syncing ${what} to disk failed (${String(cause)}): what was written since may not be on disk; restart the metric service, which repairs its logs from metric_state.sqlite at start`,
      { cause },
    );
    this.reportFailure(this.failure);
    return this.failure;
  }
}
